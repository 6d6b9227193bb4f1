import Foundation
import MIME
import Storage

/// Scores messages for spam and learns from the administrator.
///
/// A check combines the heuristic rules (named symbols with points) with the statistical
/// model (chi-square Bayes over words, sparse bigrams, header and URL features), once enough
/// of both classes was learned. Safe to use from many threads at once.
public final class SpamEngine: Sendable {
    public let settings: AntiSpamSettings
    private let model: LearnedModel
    private let extractor: FeatureExtractor
    private let classifier: BayesClassifier
    private let rules: [any SpamRule] = [
        GTUBERule(), MIMERules(), HeaderRules(), SubjectRules(), URLRules(), AttachmentRules(),
    ]

    /// An engine whose model lives in memory only and starts empty (rules only until it
    /// learned enough): tests, benchmarks, a core without a database.
    public init(inMemory settings: AntiSpamSettings = AntiSpamSettings()) {
        self.settings = settings
        self.model = LearnedModel()
        self.extractor = FeatureExtractor(limits: settings.limits, window: settings.bigramWindow)
        self.classifier = BayesClassifier(maxInteresting: settings.maxInterestingFeatures)
    }

    /// `store` nil: the model lives in memory only (tests, benchmarks).
    public init(settings: AntiSpamSettings = AntiSpamSettings(), store: LearnedModelStore?) throws {
        self.settings = settings
        self.model = try LearnedModel(store: store)
        self.extractor = FeatureExtractor(limits: settings.limits, window: settings.bigramWindow)
        self.classifier = BayesClassifier(maxInteresting: settings.maxInterestingFeatures)
    }

    public struct LearnedCounts: Sendable, Hashable {
        public var spam: Int
        public var ham: Int
        /// Distinct features in the model.
        public var features: Int
    }

    public var learnedCounts: LearnedCounts {
        let c = model.learnedCounts
        return LearnedCounts(spam: c.spam, ham: c.ham, features: model.featureCount)
    }

    public func check(_ message: MIMEMessage, now: Date = Date()) -> SpamResult {
        let analysed = AnalysedMessage(message, limits: settings.limits)
        var symbols: [SpamSymbol] = []
        for rule in rules { rule.evaluate(analysed, now: now, into: &symbols) }

        var note: String?
        let counts = model.learnedCounts
        if counts.spam >= settings.minLearnedPerClass && counts.ham >= settings.minLearnedPerClass {
            let bayes = model.classify(extractor.features(of: analysed), with: classifier)
            if let symbol = statisticalSymbol(bayes) { symbols.append(symbol) }
        } else {
            note = "statistical model not used: \(counts.spam) spam and \(counts.ham) ham learned, "
                + "at least \(settings.minLearnedPerClass) of each needed"
        }
        symbols.sort { $0.score != $1.score ? $0.score > $1.score : $0.name < $1.name }
        let points = symbols.reduce(0) { $0 + $1.score }
        let total = SpamResult.totalSpamScore(points: points, requiredPoints: settings.requiredPoints)
        var seen = Set<String>()
        let hosts = analysed.urls.map { $0.host.lowercased() }.filter { !$0.isEmpty && seen.insert($0).inserted }
        return SpamResult(points: points, totalSpamScore: total, requiredPoints: settings.requiredPoints,
                          symbols: symbols, statisticsNote: note, urlHosts: hosts)
    }

    /// BAYES_SPAM / BAYES_HAM with points growing linearly from probability 0.5 out to the
    /// configured maximum at 1.0 (spam) or 0.0 (ham); nothing when the model had no opinion.
    private func statisticalSymbol(_ r: BayesClassifier.Result) -> SpamSymbol? {
        guard r.featuresUsed > 0 else { return nil }
        let p = r.probability
        let percent = String(format: "%.1f%%", p * 100)
        if p >= 0.5 {
            let points = settings.statisticalSpamPoints * (p - 0.5) * 2
            return SpamSymbol(name: "BAYES_SPAM", score: (points * 100).rounded() / 100,
                              description: "statistical model: spam probability \(percent)")
        }
        let points = settings.statisticalHamPoints * (0.5 - p) * 2
        return SpamSymbol(name: "BAYES_HAM", score: (points * 100).rounded() / 100,
                          description: "statistical model: spam probability \(percent)")
    }

    /// Learns a message as spam or ham. Learning the same message again as the same class
    /// changes nothing; as the other class it moves (like sa-learn).
    @discardableResult
    public func learn(_ message: MIMEMessage, as learnedClass: LearnedClass) throws -> LearnOutcome {
        let features = extractor.features(of: AnalysedMessage(message, limits: settings.limits))
        return try model.learn(digest: MessageDigest.of(message), as: learnedClass, features: features)
    }

    /// Removes a learned message from the model.
    @discardableResult
    public func forget(_ message: MIMEMessage) throws -> LearnOutcome {
        let features = extractor.features(of: AnalysedMessage(message, limits: settings.limits))
        return try model.forget(digest: MessageDigest.of(message), features: features)
    }
}
