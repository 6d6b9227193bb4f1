import MIME
import ThreatEngine

/// Decides, before any scanning, what happens to each leaf: scanned, or unchecked because a
/// limit Moat enforces itself (MailMaxLevel) stops it. Kept apart from I/O so it is tested
/// on trees alone.
struct PartScanPlan {
    struct Item {
        let part: Part
        /// nil: scan it; otherwise the reason it is not scanned.
        let skip: UncheckedFact?
        /// Structural problems of the part, which become "unchecked: malformed" facts.
        let problems: [MIMEProblem]
    }

    let items: [Item]

    init(message: MIMEMessage, limits: ScanLimits) {
        var items: [Item] = []
        for part in message.leaves {
            // Index 0 in a path is "the message inside a message/rfc822": their count is the
            // number of attached messages this part sits in.
            let mailDepth = part.path.components.filter { $0 == 0 }.count
            let skip = mailDepth > limits.mailMaxLevel ? UncheckedFact(.limitExceeded, "MailMaxLevel") : nil
            items.append(Item(part: part, skip: skip, problems: Self.problems(of: part, in: message)))
        }
        self.items = items
    }

    /// Problems recorded on the part and on its containers: a missing final boundary of the
    /// multipart around a part makes that part's extent a guess.
    static func problems(of part: Part, in message: MIMEMessage) -> [MIMEProblem] {
        var found = part.problems
        var path = part.path
        while let parent = path.parent {
            if let container = message.part(at: parent) {
                found += container.problems.filter(Self.affectsChildren)
            }
            path = parent
        }
        return found
    }

    static func affectsChildren(_ problem: MIMEProblem) -> Bool {
        switch problem {
        case .missingFinalBoundary, .depthLimitExceeded, .partCountLimitExceeded: true
        default: false
        }
    }

    /// Defects that mean the part may not be what a mail client will show: these make the
    /// part "unchecked: malformed". Cosmetic ones (a duplicate header) do not.
    static func isStructural(_ problem: MIMEProblem) -> Bool {
        switch problem {
        case .missingBoundaryParameter, .boundaryNotFound, .missingFinalBoundary, .depthLimitExceeded,
             .partCountLimitExceeded, .dataAfterFinalBoundary:
            true
        default:
            false
        }
    }
}
