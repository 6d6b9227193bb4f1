import Foundation

/// GTUBE, the Generic Test for Unsolicited Bulk Email: always spam, whatever else is
/// configured, so that administrators can test the whole path.
struct GTUBERule: SpamRule {
    func evaluate(_ m: AnalysedMessage, now: Date, into symbols: inout [SpamSymbol]) {
        if m.containsGTUBE {
            symbols.append(.init(name: "GTUBE", score: 1000, description: "Generic Test for Unsolicited Bulk Email"))
        }
    }
}
