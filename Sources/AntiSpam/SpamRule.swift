import Foundation

/// A group of heuristic checks, each adding named symbols. Rules look at general features
/// of mail (structure, headers, links, attachments), never at particular messages.
protocol SpamRule: Sendable {
    func evaluate(_ message: AnalysedMessage, now: Date, into symbols: inout [SpamSymbol])
}
