import DNS
@testable import SenderAuth

/// Messages and keys the tests share. The RFC 8463 Appendix A example: its ed25519 and RSA
/// signatures over the RFC 6376 Appendix A message, and the keys RFC 8463 publishes for them.
enum Fixtures {
    static let rfc8463Message = """
        DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r
         d=football.example.com; i=@football.example.com;\r
         q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r
         subject : date : message-id : from : subject : date;\r
         bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r
         b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r
         Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r
        DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r
         d=football.example.com; i=@football.example.com;\r
         q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r
         date : message-id : from : subject : date;\r
         bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r
         b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r
         DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r
         dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r
        From: Joe SixPack <joe@football.example.com>\r
        To: Suzie Q <suzie@shopping.example.net>\r
        Subject: Is dinner ready?\r
        Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r
        Message-ID: <20030712040037.46341.5F8J@football.example.com>\r
        \r
        Hi.\r
        \r
        We lost the game.  Are you hungry yet?\r
        \r
        Joe.\r

        """

    static let rfc8463Keys: DNSTable = {
        var t = DNSTable()
        t.addTXT("brisbane._domainkey.football.example.com", "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
        t.addTXT("test._domainkey.football.example.com",
                 "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB")
        return t
    }()

    /// A 512-bit RSA public key (SPKI): RFC 8301 says such keys must not pass.
    static let rsa512 = "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAJnZ1suNw1bCiWCs4XHqdWTip6VaI/ENRRcf46T7M2t02hyWS22crpCaabnL/swuCzzZBgvLG33segMBjbKFMrsCAwEAAQ=="

    static let plainMessage = """
        From: Alice <alice@example.org>\r
        To: bob@example.net\r
        Subject: Lunch\r
        Date: Sun, 06 Dec 2026 10:00:00 +0000\r
        Message-ID: <lunch-1@example.org>\r
        \r
        Shall we meet at noon?\r
        \r
        Alice\r

        """

    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// `message` with the signer's fields in front.
    static func prepend(_ fields: [SignedHeaderField], to message: String) -> [UInt8] {
        bytes(fields.map(\.line).joined() + message)
    }
}

/// A DNS that answers every question with a temporary failure.
struct FailingDNS: DNSLookup {
    func lookup(_ name: String, _ type: DNSRecordType) async -> DNSAnswer {
        DNSAnswer(.temporaryFailure("SERVFAIL"))
    }
}
