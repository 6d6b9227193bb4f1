import Testing
@testable import MoatConfig

/// The value forms administrators write, each parsed and printed back canonically.
struct ValueSyntaxTests {
    @Test(arguments: [
        ("30s", 30_000), ("2m", 120_000), ("1h", 3_600_000), ("1d", 86_400_000), ("500ms", 500),
        ("1m30s", 90_000), ("45", 45_000), ("3M", 180_000),
    ] as [(String, Int64)])
    func durations(_ text: String, _ milliseconds: Int64) throws {
        #expect(try ConfigDuration(parsing: text).milliseconds == milliseconds)
    }

    @Test func durationPrintsShortestForm() throws {
        #expect(try ConfigDuration(parsing: "90s").description == "90s")
        #expect(try ConfigDuration(parsing: "120s").description == "2m")
        #expect(try ConfigDuration(parsing: "180").description == "3m")
    }

    @Test(arguments: ["", "abc", "-5s", "5 parsecs", "1x"])
    func badDurations(_ text: String) {
        #expect(throws: ValueError.self) { try ConfigDuration(parsing: text) }
    }

    @Test(arguments: [
        ("10mb", 10 << 20), ("512kb", 512 << 10), ("100b", 100), ("1gb", 1 << 30), ("25MB", 25 << 20), ("4096", 4096),
    ] as [(String, Int64)])
    func sizes(_ text: String, _ bytes: Int64) throws {
        #expect(try ByteSize(parsing: text).bytes == bytes)
    }

    @Test(arguments: [
        ("/run/moat/milter.sock", ListenAddress.unix(path: "/run/moat/milter.sock")),
        ("unix:/var/spool/postfix/moat", .unix(path: "/var/spool/postfix/moat")),
        ("127.0.0.1:7357", .tcp(host: "127.0.0.1", port: 7357)),
        ("localhost:783", .tcp(host: "localhost", port: 783)),
        ("inet:3001@127.0.0.1", .tcp(host: "127.0.0.1", port: 3001)),
        ("inet6:3001@::1", .tcp(host: "::1", port: 3001)),
        ("[::1]:11333", .tcp(host: "::1", port: 11333)),
    ])
    func socketAddresses(_ text: String, _ expected: ListenAddress) throws {
        #expect(try ListenAddress(parsing: text) == expected)
    }

    @Test(arguments: ["127.0.0.1", "127.0.0.1:99999", "inet:abc@host", "relative/path", "host:"])
    func badSocketAddresses(_ text: String) {
        #expect(throws: ValueError.self) { try ListenAddress(parsing: text) }
    }

    @Test func divertAuto() throws {
        #expect(try DivertSetting(parsing: "Auto(interface:eth0 protected:25,110,143)")
                == .auto(interface: "eth0", protectedPorts: [25, 110, 143]))
        #expect(try DivertSetting(parsing: "auto( Interface:ens3  PROTECTED:25 )") == .auto(interface: "ens3", protectedPorts: [25]))
        #expect(try DivertSetting(parsing: "OFF") == .off)
        #expect(DivertSetting.auto(interface: "eth0", protectedPorts: [25, 110]).description == "Auto(interface:eth0 protected:25,110)")
    }

    @Test(arguments: ["Auto(interface:eth0)", "Auto(protected:25)", "Auto(interface:eth0 protected:70000)", "On", "Auto(interface:eth0 protected:25"])
    func badDivert(_ text: String) {
        #expect(throws: ValueError.self) { try DivertSetting(parsing: text) }
    }

    @Test func repackPasswords() throws {
        #expect(try RepackPassword(parsing: "None") == RepackPassword.none)
        #expect(try RepackPassword(parsing: "plain(s3cret)") == .plain("s3cret"))
        #expect(try RepackPassword(parsing: "HMAC(key)") == .hmac(secret: "key"))
        #expect(throws: ValueError.self) { try RepackPassword(parsing: "Plain()") }
        #expect(throws: ValueError.self) { try RepackPassword(parsing: "Rot13(x)") }
    }

    @Test(arguments: [("Yes", true), ("no", false), ("On", true), ("OFF", false), ("true", true), ("False", false)])
    func booleans(_ text: String, _ value: Bool) throws {
        #expect(try ParameterType.bool(.yesNo).parse(text) == .bool(value))
    }

    @Test func booleansPrintInTheParameterStyle() throws {
        #expect(ParameterType.bool(.onOff).format(.bool(true)) == "On")
        #expect(ParameterType.bool(.yesNo).format(.bool(false)) == "No")
    }

    @Test func quotedCommaLists() throws {
        let type = ParameterType.list(.languageCode, splitsCommas: true)
        #expect(try type.parse(#""en", "ru""#) == .list([.text("en"), .text("ru")]))
        #expect(try type.parse("en, de") == .list([.text("en"), .text("de")]))
        #expect(throws: ValueError.self) { try type.parse("en, english") }
    }

    @Test func enumerationsAreCaseInsensitiveAndCanonical() throws {
        let type = ParameterType.choice(["Debug", "Info", "Notice"])
        #expect(try type.parse("DEBUG") == .text("Debug"))
        #expect(throws: ValueError.self) { try type.parse("Verbose") }
    }
}
