import MoatConfig

extension CertificateAuthority.Settings {
    /// From `[LinuxFirewall] Ca*` and `[Root] VarDir`.
    public init(_ values: ConfigValues) {
        let varDir = values.value("Root", "VarDir").text ?? "/var/lib/moat"
        let certificate = values.value("LinuxFirewall", "CaCertificate").text ?? ""
        let key = values.value("LinuxFirewall", "CaKey").text ?? ""
        let days = Int((values.value("LinuxFirewall", "CaValidity").duration?.milliseconds ?? 315_360_000_000) / 86_400_000)
        self.init(directory: varDir + "/ca",
                  keyType: CertificateAuthority.KeyType(rawValue: values.value("LinuxFirewall", "CaKeyType").text ?? "") ?? .ecdsaP256,
                  validityDays: days,
                  subject: values.value("LinuxFirewall", "CaSubject").text ?? "Moat Mail Gateway CA",
                  certificatePath: certificate.isEmpty ? nil : certificate,
                  keyPath: key.isEmpty ? nil : key)
    }
}
