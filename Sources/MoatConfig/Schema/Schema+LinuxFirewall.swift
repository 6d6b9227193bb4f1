extension Schema {
    static let linuxFirewallSection = SectionSpec(
        "LinuxFirewall", "Transparent proxy on a Linux gateway: nftables divert and the Gate",
        componentLogging("LinuxFirewall") + [
            ParameterSpec("InputDivert", .divert, default: "Off",
                          "Divert connections arriving on an interface to the protected ports to the Gate"),
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
