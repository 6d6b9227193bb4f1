extension Schema {
    static let linuxFirewallSection = SectionSpec(
        "LinuxFirewall", "Transparent proxy on a Linux gateway: nftables divert and the Gate",
        componentLogging("LinuxFirewall") + [
            ParameterSpec("InputDivert", .divert, default: "Off",
                          "Divert connections arriving on an interface to the protected ports to the Gate"),
            ParameterSpec("InputDivertConnectTransparently", .bool(.yesNo), default: "No",
                          "Yes: the Gate connects upstream from the client's own address; No: from the gateway's"),
            ParameterSpec("FailClosed", .bool(.yesNo), default: "No",
                          "Moat: Yes keeps the divert rules when moatd dies, so mail stops instead of flowing unscanned; No (fail-open) lets the kernel drop them with moatd"),
            ParameterSpec("GatePort", .integer(1...65535), default: "20025",
                          "Moat: local port of the Gate's transparent listener, the target of the divert"),
            ParameterSpec("FirewallMark", .integer(1...0x7fff_ffff), default: "1",
                          "Moat: packet mark of diverted traffic, routed to the local table"),
            ParameterSpec("RoutingTable", .integer(1...252), default: "100",
                          "Moat: policy-routing table that delivers marked packets locally"),
            ParameterSpec("UnrecognizedProtocol", .choice(["Relay", "Close"]), default: "Relay",
                          "Moat: what the Gate does when a protected port does not carry the expected protocol"),
            ParameterSpec("ScanPop3Top", .bool(.yesNo), default: "No",
                          "Moat: Yes scans POP3 TOP replies too (partial messages, so often unchecked)"),
            ParameterSpec("MaxMessageSize", .size(ByteSize.megabytes(1)...ByteSize.megabytes(4096)), default: "64mb",
                          "Moat: larger messages crossing the Gate are not scanned but reported unchecked (BlockUnchecked decides)"),
            ParameterSpec("CaKeyType", .choice(["EcdsaP256", "Rsa2048", "Rsa3072"]), default: "EcdsaP256",
                          "Moat: key type of the CA Moat generates on first start (and of its leaf certificates); RSA for old clients"),
            ParameterSpec("CaValidity", .duration(ConfigDuration.days(30)...ConfigDuration.days(36500)), default: "3650d",
                          "Moat: validity of the generated CA certificate"),
            ParameterSpec("CaSubject", .text, default: "Moat Mail Gateway CA",
                          "Moat: common name of the generated CA; the host name is added to tell installations apart"),
            ParameterSpec("CaCertificate", .path(allowEmpty: true), default: "",
                          "Moat: PEM file of your own CA to sign leaf certificates with instead of the generated one (with CaKey)"),
            ParameterSpec("CaKey", .path(allowEmpty: true), default: "",
                          "Moat: PEM private key of CaCertificate; must be mode 0600"),
            ParameterSpec("VerifyMxCertificates", .bool(.yesNo), default: "No",
                          "Moat: Yes verifies upstream certificates on port 25 too; No accepts any there (MX-to-MX TLS is opportunistic) while still verifying submission, POP3 and IMAP servers"),
            ParameterSpec("UpstreamVerifyFailure", .choice(["Refuse", "Relay"]), default: "Refuse",
                          "Moat: when an upstream certificate fails verification: Refuse the TLS session, or Relay it unscanned (never forge for it)"),
            ParameterSpec("UpstreamCaCertificates", .path(allowEmpty: true), default: "",
                          "Moat: PEM file of CA certificates trusted for upstream servers besides the system store (a private PKI's mail servers); read when moatd starts"),
            ParameterSpec("PassThroughRejectingClients", .bool(.yesNo), default: "No",
                          "Moat: Yes relays TLS untouched (unscanned) between a client that refused Moat's certificate and that server for PassThroughTime; No refuses it every time"),
            ParameterSpec("PassThroughTime", .duration(ConfigDuration.seconds(0)...ConfigDuration.days(30)), default: "1h",
                          "Moat: how long a TLS pass-through (a client that refused Moat's certificate, or a server that failed verification after STARTTLS with UpstreamVerifyFailure = Relay) lasts"),
            ParameterSpec("UnwrapSsl", .bool(.yesNo), default: "No",
                          "Yes: terminate TLS (STARTTLS and implicit) with certificates signed by Moat's CA and scan inside"),
            ParameterSpec("InspectSmtp", .bool(.onOff), default: "On", "Scan SMTP mail passing the Gate"),
            ParameterSpec("InspectPop3", .bool(.onOff), default: "On", "Scan messages retrieved over POP3"),
            ParameterSpec("InspectImap", .bool(.onOff), default: "On", "Scan messages fetched over IMAP"),
            ParameterSpec("BlockKnownVirus", .bool(.yesNo), default: "Yes", "Block known viruses and their modifications"),
            ParameterSpec("BlockSuspicious", .bool(.yesNo), default: "Yes", "Block unknown viruses found by heuristics"),
            ParameterSpec("BlockAdware", .bool(.yesNo), default: "Yes", "Block adware"),
            ParameterSpec("BlockDialers", .bool(.yesNo), default: "Yes", "Block dialers"),
            ParameterSpec("BlockJokes", .bool(.yesNo), default: "No", "Block joke programs"),
            ParameterSpec("BlockRiskware", .bool(.yesNo), default: "No", "Block riskware"),
            ParameterSpec("BlockHacktools", .bool(.yesNo), default: "No", "Block hacking tools"),
            ParameterSpec("BlockUnchecked", .bool(.yesNo), default: "No",
                          "Yes: a message that could not be checked is blocked"),
        ]
        + ScanLimitsSpec.parameters(prefix: "", scanTimeout: "30s")
        + [
            ParameterSpec("RuleSet", .rules, default: defaultFirewallRules,
                          "Rules applied to connections and messages passing the Gate"),
        ]
    )

    static let defaultFirewallRules = """
        protocol in (Smtp, Pop3, Imap) : SCAN_MAIL
        """
}
