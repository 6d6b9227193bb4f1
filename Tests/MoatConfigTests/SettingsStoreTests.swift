import Testing
@testable import MoatConfig

/// Reload swaps the settings whole: a connection's snapshot keeps what it started with.
struct SettingsStoreTests {
    @Test func snapshotTakenBeforeAReloadKeepsItsValues() throws {
        let loader = ConfigLoader()
        let store = SettingsStore(try loader.load(text: "[MailD]\nMilterScanTimeout = 1m\n"))
        let established = store.current
        let changed = store.replace(with: try loader.load(text: "[MailD]\nMilterScanTimeout = 2m\nReportLanguages = ru\n"))

        #expect(Set(changed) == [ParameterKey("MailD", "MilterScanTimeout"), ParameterKey("MailD", "ReportLanguages")])
        #expect(established.values.value("MailD", "MilterScanTimeout") == .duration(.minutes(1)))
        #expect(established.generation == 0)
        #expect(store.current.values.value("MailD", "MilterScanTimeout") == .duration(.minutes(2)))
        #expect(store.current.generation == 1)
    }

    @Test func reloadingTheSameFileChangesNothing() throws {
        let loader = ConfigLoader()
        let store = SettingsStore(try loader.load(text: "[MailD]\nReportLanguages = en\n"))
        #expect(store.replace(with: try loader.load(text: "[maild]\nreportlanguages = \"en\"\n")).isEmpty)
    }
}
