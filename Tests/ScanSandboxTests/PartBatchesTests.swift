import Testing
@testable import ScanSandbox
import ThreatEngine

/// How a message's parts are grouped into worker requests, and where each lies in the file.
@Suite("Part batches")
struct PartBatchesTests {
    /// Every part exactly once, in order, whatever the sizes.
    static func covers(_ batches: [Range<Int>], count: Int) -> Bool {
        batches.flatMap { Array($0) } == Array(0..<count) && batches.allSatisfy { !$0.isEmpty }
    }

    @Test func smallPartsShareOneRequest() {
        #expect(PartBatches.split(sizes: []) == [])
        #expect(PartBatches.split(sizes: [100]) == [0..<1])
        #expect(PartBatches.split(sizes: Array(repeating: 2_000, count: 17)) == [0..<17])
    }

    @Test func largePartsGoAloneSoThatWorkersShareThem() {
        let large = PartBatches.largePart
        #expect(PartBatches.split(sizes: [10, large, 10, 10]) == [0..<1, 1..<2, 2..<4])
        #expect(PartBatches.split(sizes: [large, large * 4]) == [0..<1, 1..<2])
        #expect(PartBatches.split(sizes: [large - 1, large - 1, large - 1, large - 1, large - 1])
            == [0..<4, 4..<5], "four parts under the large size fill a request's bytes")
    }

    @Test func aRequestHoldsABoundedNumberOfParts() {
        let batches = PartBatches.split(sizes: Array(repeating: 1, count: 200))
        #expect(batches.map(\.count) == [64, 64, 64, 8])
        #expect(Self.covers(batches, count: 200))
    }

    @Test func everyPartOnceWhateverTheSizes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let sizes = (0..<Int.random(in: 0..<150, using: &generator)).map { _ in
                Bool.random(using: &generator) ? Int.random(in: 0..<4_000, using: &generator)
                                               : Int.random(in: 0..<(3 * PartBatches.largePart), using: &generator)
            }
            let batches = PartBatches.split(sizes: sizes)
            #expect(Self.covers(batches, count: sizes.count))
            for batch in batches where batch.count > 1 {
                #expect(batch.count <= PartBatches.maximumParts)
                #expect(batch.map { sizes[$0] }.reduce(0, +) <= PartBatches.maximumBytes)
                #expect(batch.allSatisfy { sizes[$0] < PartBatches.largePart })
            }
        }
    }

    @Test func aSpanOutsideTheFileHasNoRange() {
        #expect(PartSpan(name: nil).range(inFileOf: 10) == 0..<10)
        #expect(PartSpan(name: nil, offset: 4, length: 6).range(inFileOf: 10) == 4..<10)
        #expect(PartSpan(name: nil, offset: 10, length: 0).range(inFileOf: 10) == 10..<10)
        #expect(PartSpan(name: nil, offset: 4, length: 7).range(inFileOf: 10) == nil)
        #expect(PartSpan(name: nil, offset: 11).range(inFileOf: 10) == nil)
        #expect(PartSpan(name: nil, offset: 1, length: Int.max).range(inFileOf: 10) == nil)
        #expect(PartSpan(name: nil, offset: -1, length: 1).range(inFileOf: 10) == nil)
    }

    @Test func longNamesAreCutOnACharacterBoundary() {
        let name = String(repeating: "я", count: 200)  // 400 bytes
        let short = SandboxedScanner.shortened(name)
        #expect(short.utf8.count == 254 && name.hasPrefix(short))
        #expect(SandboxedScanner.shortened("invoice.zip") == "invoice.zip")
    }
}
