import Testing
@testable import MoatService

/// The descriptors the connection caps can take, from the settings.
struct DescriptorLimitTests {
    @Test func defaultsCountTheConsoleOnly() throws {
        // One AdminListen address: its 64 connections and 32 spare, plus the margin.
        #expect(DescriptorLimit.needed(try settings("")) == 96 + 512)
    }

    @Test func filterInterfacesCountWhenTheirSocketIsSet() throws {
        let values = try settings("""
            [MailD]
            MilterSocket = 127.0.0.1:7357
            MilterMaxConnections = 100
            SpamdMaxConnections = 1000
            [ClamD]
            ClamdSocket = 127.0.0.1:3310
            [HTTPD]
            AdminListen =
            """)
        // Spamd's cap does not count: its socket is not set. Socket and spool file each.
        #expect(DescriptorLimit.needed(values) == 2 * (100 + 256) + 512)
    }

    @Test func theGateCountsWhenDivertIsOn() throws {
        let values = try settings("""
            [LinuxFirewall]
            InputDivert = Auto(interface:eth0 protected:25)
            [HTTPD]
            AdminListen =
            """)
        #expect(DescriptorLimit.needed(values) == 3 * 4096 + 512)
    }
}
