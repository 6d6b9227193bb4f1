import MoatConfig

extension CertificateAuthority.Settings {
    /// From `[LinuxFirewall] Ca*` and `[Root] VarDir`.
    public init(_ values: ConfigValues) {
        let settings = values.linuxFirewall
        let certificate = settings.caCertificate
        let key = settings.caKey
        self.init(directory: values.root.varDir + "/ca",
                  keyType: CertificateAuthority.KeyType(rawValue: settings.caKeyType.rawValue) ?? .ecdsaP256,
                  validityDays: Int(settings.caValidity.milliseconds / 86_400_000),
                  subject: settings.caSubject,
                  certificatePath: certificate.isEmpty ? nil : certificate,
                  keyPath: key.isEmpty ? nil : key)
    }
}
