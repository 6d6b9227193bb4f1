import Testing
@testable import ThreatEngine

@Suite struct ScanLimitsTests {
    @Test func defaultsMatchTheConfigurationDefaults() {
        let limits = ScanLimits.default
        #expect(limits.archiveMaxLevel == 8)
        #expect(limits.maxCompressionRatio == 500)
        #expect(limits.heuristicAnalysis)
    }

    @Test func scanTimeIsWholeMillisecondsAndNeverUnlimited() {
        #expect(ScanLimits(scanTimeout: .seconds(30)).scanTimeoutMilliseconds == 30_000)
        #expect(ScanLimits(scanTimeout: .milliseconds(1500)).scanTimeoutMilliseconds == 1500)
        #expect(ScanLimits(scanTimeout: .zero).scanTimeoutMilliseconds == 1)
    }

    @Test func engineRecursionIsTheSumOfTheKindsCapped() {
        #expect(ScanLimits.default.engineRecursionLimit == 8 * 4 + ScanLimits.normalisationHeadroom)
        let deep = ScanLimits(packerMaxLevel: 64, archiveMaxLevel: 64, mailMaxLevel: 64, containerMaxLevel: 64)
        #expect(deep.engineRecursionLimit == ScanLimits.engineRecursionCeiling)
    }

    @Test func layerKinds() {
        #expect(LayerKind(clamAVType: "CL_TYPE_ZIP") == .archive)
        #expect(LayerKind(clamAVType: "CL_TYPE_CPIO_NEWC") == .archive)
        #expect(LayerKind(clamAVType: "CL_TYPE_MAIL") == .mail)
        #expect(LayerKind(clamAVType: "CL_TYPE_MSEXE") == .packer)
        #expect(LayerKind(clamAVType: "CL_TYPE_OOXML_WORD") == .container)
        #expect(LayerKind(clamAVType: "CL_TYPE_TEXT_ASCII") == .other)
    }
}
