/// What `moat-ctl learn` asked the daemon to learn and what came of each message.
public struct LearnReport: Codable, Sendable, Equatable {
    public struct Item: Codable, Sendable, Equatable {
        /// `file`, or `mbox#3` for the third message of an mbox.
        public var name: String
        /// What changed, for people (`LearnOutcome.text`), or nil when it failed.
        public var outcome: String?
        public var changed: Bool
        public var error: String?

        public init(name: String, outcome: String?, changed: Bool, error: String? = nil) {
            self.name = name
            self.outcome = outcome
            self.changed = changed
            self.error = error
        }
    }

    public var items: [Item]
    /// The model after learning.
    public var counts: LearnedCountsInfo

    public init(items: [Item], counts: LearnedCountsInfo) {
        self.items = items
        self.counts = counts
    }
}

/// How much the anti-spam model has learned: `moat-ctl appinfo`, the console.
public struct LearnedCountsInfo: Codable, Sendable, Equatable {
    public var spam: Int
    public var ham: Int
    public var features: Int
    /// Learned messages of each class the statistical model needs before it is used.
    public var minimumPerClass: Int

    public init(spam: Int, ham: Int, features: Int, minimumPerClass: Int) {
        self.spam = spam
        self.ham = ham
        self.features = features
        self.minimumPerClass = minimumPerClass
    }
}

extension MailCore {
    /// Learns every message found at `paths` (files, mboxes, Maildirs, directories) as
    /// `learnedClass`, or forgets them (nil).
    public func learn(paths: [String], as learnedClass: LearnedClass?) -> LearnReport {
        var items: [LearnReport.Item] = []
        for path in paths {
            do {
                for item in try MessageFiles.items(at: path) {
                    let bytes: [UInt8]?
                    switch item.source {
                    case .bytes(let b): bytes = b
                    case .file(let file): bytes = SpoolFile.read(file)
                    }
                    guard let bytes else {
                        items.append(.init(name: item.name, outcome: nil, changed: false, error: "cannot be read"))
                        continue
                    }
                    do {
                        let outcome = try learn(bytes, as: learnedClass)
                        items.append(.init(name: item.name, outcome: outcome.text, changed: outcome.changed))
                    } catch {
                        items.append(.init(name: item.name, outcome: nil, changed: false, error: "\(error)"))
                    }
                }
            } catch {
                items.append(.init(name: path, outcome: nil, changed: false, error: "\(error)"))
            }
        }
        return LearnReport(items: items, counts: learnedCountsInfo)
    }

    public var learnedCountsInfo: LearnedCountsInfo {
        let c = spamEngine.learnedCounts
        return LearnedCountsInfo(spam: c.spam, ham: c.ham, features: c.features,
                                 minimumPerClass: spamEngine.settings.minLearnedPerClass)
    }
}
