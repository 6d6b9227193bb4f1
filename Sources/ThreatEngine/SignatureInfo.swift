/// What the current engine was built from; moatd logs it at start and after each reload.
public struct SignatureInfo: Sendable, Hashable, Codable {
    /// Signatures libclamav loaded (`cl_load`'s count).
    public var signatureCount: Int
    /// The directory the signatures came from. For the built-in database this is the directory
    /// that was searched and found empty (the temporary copy is gone after loading).
    public var directory: String
    /// True when the directory held no signatures and Moat's test-file database is in use:
    /// only EICAR and ClamAV's test files are detected. Callers must log `warnings` loudly.
    public var usingBuiltinSignatures: Bool
    /// The database version (`CL_ENGINE_DB_VERSION`, the daily.cvd version for official
    /// databases; 0 for plain signature files).
    public var databaseVersion: Int
    /// The libclamav version.
    public var engineVersion: String
    /// Problems the operator should see, e.g. that no ClamAV database was found.
    public var warnings: [String]
    /// Increases with every engine built by one `ThreatScanner` (1 for the first).
    public var generation: Int

    public init(signatureCount: Int, directory: String, usingBuiltinSignatures: Bool,
                databaseVersion: Int, engineVersion: String, warnings: [String], generation: Int) {
        self.signatureCount = signatureCount
        self.directory = directory
        self.usingBuiltinSignatures = usingBuiltinSignatures
        self.databaseVersion = databaseVersion
        self.engineVersion = engineVersion
        self.warnings = warnings
        self.generation = generation
    }
}
