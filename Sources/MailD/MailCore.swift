import AntiSpam
import Foundation
import Logging
import MIME
import Policy
import SenderAuth
import Telemetry
import ThreatEngine

/// The one check every front-end calls: parse, scan every leaf part decoded, collect facts.
/// Rules and verdicts are applied on top of the report (Policy); the front-end only
/// translates the result into its protocol.
public final class MailCore: Sendable {
    public let scanner: any ThreatScanning
    let spool: Spool
    let logger: Logger
    /// The last verdicts with threats, for the console (the event log itself goes to the log).
    public let recentThreats: RecentThreats
    /// The anti-spam symbols of the last messages, for the console.
    public let recentSpamSymbols = RecentSpamSymbols()
    /// Scores every message for spam and learns (TELL, rspamd's learn, moat-ctl learn).
    public let spamEngine: SpamEngine
    /// SPF, DKIM, DMARC, ARC and blocklists, for messages that come with an envelope; nil: off.
    public let senderChecks: SenderChecks?
    /// Counters and timers per interface and verdict (Prometheus on the console's /metrics).
    public let metrics: MoatMetrics
    /// The quarantine and the message log (nil: neither, as in moat-ctl scan --local).
    public let recorder: (any VerdictRecording)?
    /// How many messages are parsed and scanned at once (their decoded parts held in memory).
    public let admission: CheckAdmission

    /// `spamEngine` nil: an engine with its rules only and a model in memory (nothing learned).
    public init(scanner: any ThreatScanning, spoolDirectory: String, logger: Logger = Logger(label: "MailD"),
                recentThreats: RecentThreats = RecentThreats(), spamEngine: SpamEngine? = nil,
                senderChecks: SenderChecks? = nil, metrics: MoatMetrics = .disabled,
                recorder: (any VerdictRecording)? = nil, admission: CheckAdmission = CheckAdmission()) {
        self.admission = admission
        self.metrics = metrics
        self.recorder = recorder
        self.scanner = scanner
        self.spamEngine = spamEngine ?? SpamEngine(inMemory: AntiSpamSettings())
        self.senderChecks = senderChecks
        self.recentThreats = recentThreats
        self.spool = Spool(directory: spoolDirectory)
        self.logger = logger
    }

    /// - Parameter scoresSpam: false for a virus scan alone (the clamd interface, `moat-ctl scan`
    ///   without `--spam`): no anti-spam analysis, no body text for rules, no sender checks.
    public func check(envelope: Envelope, message source: MessageSource, profile: CheckProfile,
                      scoresSpam: Bool = true) async -> CheckReport {
        let report = await inspect(envelope: envelope, message: source, profile: profile, scoresSpam: scoresSpam).report
        // The clamd interface answers with the scan alone; moat-ctl's scans are not mail traffic.
        if envelope.source == .clamd { record(report, verdict: report.status.rawValue, profile: profile) }
        return report
    }

    func record(_ report: CheckReport, verdict: String, profile: CheckProfile) {
        metrics.messageDecided(interface: profile.name, verdict: verdict, threats: report.threats.count,
                               unchecked: report.unchecked.map(\.reason.rawValue),
                               spam: report.spam.map { $0.points >= profile.spamThreshold } ?? false,
                               duration: .milliseconds(report.elapsedMilliseconds))
    }

    /// The check, plus what rules read besides the scan results (headers, body text).
    func inspect(envelope: Envelope, message source: MessageSource, profile: CheckProfile,
                 scoresSpam: Bool = true) async -> (report: CheckReport, content: MessageContent) {
        let clock = ContinuousClock()
        let started = clock.now
        var report = CheckReport(envelope: envelope, profile: profile.name, size: 0, parts: [], messageUnchecked: [],
                                 elapsedMilliseconds: 0, engineGeneration: scanner.signatureInfo.generation)

        // Parsing, decoding and scanning hold the decoded parts: only `admission.limit` large
        // and `admission.smallLimit` small checks at once, and the parts are gone before the
        // wait for sender authentication's DNS.
        // A spooled message counts as large (SpoolThreshold: 16 MB by default, 64 KB at least).
        let size: Int? = if case .bytes(let bytes) = source { bytes.count } else { nil }
        let (admitted, results) = await admission.run(size: size) { () -> (Prepared?, [(Int, ThreatEngine.ScanResult)]) in
            let deadline = clock.now + profile.limits.scanTimeout
            guard var prepared = prepare(source, envelope: envelope, profile: profile, scoresSpam: scoresSpam,
                                         deadline: deadline) else { return (nil, []) }
            let jobs = prepared.jobs
            prepared.jobs = []
            let results = await scanAll(jobs, limits: profile.limits, deadline: deadline)
            for job in jobs { job.input.discard() }
            return (prepared, results)
        }
        guard let prepared = admitted else {
            if case .file(let path) = source {
                report.messageUnchecked = [UncheckedFact(.engineError, "cannot read \(path)")]
                report.localFailure = "cannot read the spooled message \(path)"
            }
            return (report, MessageContent())
        }
        report.size = prepared.size
        report.messageId = prepared.messageId
        report.subject = prepared.subject
        report.localFailure = prepared.localFailure
        report.spam = prepared.spam
        var parts = prepared.parts
        for (index, result) in results {
            switch result {
            case .clean: break
            case .threats(let threats): parts[index].threats = threats.map(FoundThreat.init)
            case .unchecked(let reason): parts[index].unchecked.append(UncheckedFact(reason))
            }
        }
        report.parts = parts
        if let senderTask = prepared.senderTask {
            let auth = await withTaskCancellationHandler { await senderTask.value } onCancel: { senderTask.cancel() }
            report.senderAuthentication = auth
            report.spam = report.spam?.adding(SenderSymbols.symbols(auth), requiredPoints: spamEngine.settings.requiredPoints)
        }
        report.elapsedMilliseconds = Int((clock.now - started) / .milliseconds(1))
        return (report, prepared.content)
    }

    struct Prepared {
        var size: Int
        var messageId: String?
        var subject: String?
        var parts: [PartReport]
        var jobs: [(index: Int, input: ScanInput)]
        var content: MessageContent
        var localFailure: String?
        var spam: SpamReport?
        /// Sender authentication, started with the message bytes and running (DNS) while the
        /// parts are scanned.
        var senderTask: Task<SenderAuthentication, Never>?
    }

    /// Parses the message and decodes its leaves. A separate function so that, for a spooled
    /// message, the message bytes are released before the (long) scanning starts.
    private func prepare(_ source: MessageSource, envelope: Envelope, profile: CheckProfile, scoresSpam: Bool,
                         deadline: ContinuousClock.Instant) -> Prepared? {
        let bytes: [UInt8]
        switch source {
        case .bytes(let b):
            bytes = b
        case .file(let path):
            guard let read = SpoolFile.read(path) else { return nil }
            bytes = read
        }
        let spooled = bytes.count > profile.spoolThreshold
        // Bodies are decoded below, once; decoding them at parse time too would double the cost.
        var mimeLimits = MIMELimits()
        mimeLimits.validateBodies = false
        let message = MIMEMessage(bytes: bytes, limits: mimeLimits)
        // A virus scan alone (the clamd interface answers OK or FOUND and runs no rules): what
        // rules and the spam score read (body text, the anti-spam analysis, a third of the
        // check's CPU) would be thrown away, so it is not computed, as clamd does not.
        let virusScanOnly = !scoresSpam
        var prepared = Prepared(size: bytes.count, messageId: message.root.header("Message-ID")?.value,
                                subject: message.root.header("Subject")?.value, parts: [], jobs: [],
                                content: virusScanOnly ? MessageContent() : MessageContent(message))
        if !virusScanOnly {
            // The engine reads its own bounded share of the parts (AntiSpamLimits) while the
            // bytes are in memory anyway.
            let spam = spamEngine.check(message)
            prepared.spam = SpamReport(spam)
            if let senderChecks, let context = senderChecks.context(envelope, message: bytes, urlHosts: spam.urlHosts) {
                prepared.senderTask = Task(executorPreference: CheckExecution.executor) {
                    await senderChecks.authenticator.authenticate(context, deadline: deadline)
                }
            }
        }

        for item in PartScanPlan(message: message, limits: profile.limits).items {
            var problems = item.problems
            var unchecked = item.skip.map { [$0] } ?? []
            var input: ScanInput?
            if item.skip == nil {
                if spooled {
                    input = spool.decode(item.part, of: message, problems: &problems)
                    if input == nil {
                        unchecked.append(UncheckedFact(.engineError, "cannot write to the spool directory"))
                        prepared.localFailure = "cannot write to the spool directory \(spool.directory)"
                    }
                } else {
                    input = .bytes(item.part.decodedBody(in: message.bytes, problems: &problems))
                }
            }
            if let first = problems.first(where: PartScanPlan.isStructural) {
                unchecked.append(UncheckedFact(.malformed, first.description))
            }
            prepared.parts.append(PartReport(
                path: item.part.path.description, filename: item.part.filename, contentType: item.part.mimeType,
                size: input?.size ?? item.part.bodySize, threats: [], unchecked: unchecked,
                problems: problems.map(\.description)))
            if let input { prepared.jobs.append((prepared.parts.count - 1, input)) }
        }
        return prepared
    }

    /// Scans the parts until the message's deadline; parts still running then are
    /// unchecked(timeout). Parts in memory go to the scanner together (it batches small ones
    /// into one request); spooled ones each on their own; all concurrently, the scanner
    /// bounding how many run at once.
    private func scanAll(_ jobs: [(index: Int, input: ScanInput)], limits: ScanLimits,
                         deadline: ContinuousClock.Instant) async -> [(Int, ThreatEngine.ScanResult)] {
        guard !jobs.isEmpty else { return [] }
        var inMemory: [(index: Int, part: ScanPart)] = []
        var spooled: [(index: Int, path: String)] = []
        for job in jobs {
            switch job.input {
            case .bytes(let bytes): inMemory.append((job.index, ScanPart(bytes: bytes)))
            case .file(let path, _): spooled.append((job.index, path))
            }
        }
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else { return jobs.map { ($0.index, .unchecked(.timeout)) } }
        var partLimits = limits
        partLimits.scanTimeout = min(limits.scanTimeout, remaining)
        return await withTaskGroup(of: [(Int, ThreatEngine.ScanResult)].self) { [scanner, partLimits, inMemory] group in
            if !inMemory.isEmpty {
                group.addTask {
                    let results = await scanner.scan(parts: inMemory.map(\.part), limits: partLimits)
                    // A scanner owes one result per part; a part it did not answer is unchecked.
                    return inMemory.enumerated().map { number, job in
                        (job.index, number < results.count ? results[number] : .unchecked(.engineError("the scanner gave no result")))
                    }
                }
            }
            for job in spooled {
                group.addTask { [(job.index, await scanner.scan(fileAt: job.path, limits: partLimits))] }
            }
            var results: [(Int, ThreatEngine.ScanResult)] = []
            for await batch in group { results += batch }
            return results
        }
    }
}

/// A decoded part on its way to the engine.
enum ScanInput: Sendable {
    case bytes([UInt8])
    case file(path: String, size: Int)

    var size: Int {
        switch self {
        case .bytes(let b): b.count
        case .file(_, let size): size
        }
    }

    func discard() {
        if case .file(let path, _) = self { unlink(path) }
    }
}

extension MailCore {
    /// Check, then decide: the entry point of every front-end that answers with a verdict.
    /// Every decision is written to the event log as one line.
    public func decide(envelope: Envelope, message source: MessageSource, profile: CheckProfile) async -> Decision {
        let (report, content) = await inspect(envelope: envelope, message: source, profile: profile)
        let verdict = profile.ruleSet?.evaluate(FactsBuilder.facts(report, content: content)) ?? Verdict()
        var (action, reason) = UncheckedPolicy.apply(verdict, report: report, blockUnchecked: profile.blockUnchecked,
                                                     blockedCategories: profile.blockedCategories)
        var repacked: [UInt8]?
        if let failure = report.localFailure {
            // Moat failed, not the message: never pass it (BlockUnchecked is about messages
            // that cannot be checked); a refusal already decided stands.
            switch action {
            case .reject, .tempfail: reason += "; Moat failure: \(failure)"
            default:
                action = .tempfail(UncheckedPolicy.localFailureText)
                reason = "Moat failure: \(failure)"
            }
        } else if case .repack(let text) = action {
            // Repacking writes the archive to disk (fsync): on the pool, never on the event
            // loop a small message's check may run on (CheckExecution).
            (action, repacked, reason) = await withTaskExecutorPreference(globalConcurrentExecutor) { [reason] in
                repack(source, report: report, profile: profile, text: text ?? FinalAction.defaultRepackReason, reason: reason)
            }
        }
        var quarantine: QuarantineOutcome?
        if verdict.quarantine {
            // The quarantined copy is written and fsynced: on the pool too, as above.
            (quarantine, action, reason) = await withTaskExecutorPreference(globalConcurrentExecutor) { [action, reason] in
                var action = action, reason = reason
                let kept = keep(source, report: report, verdict: verdict, action: &action, reason: &reason)
                return (kept, action, reason)
            }
        }
        var headersToAdd = verdict.headersToAdd.map { ($0.name, $0.value) }
        if verdict.addAuthenticationResults {
            headersToAdd.append(SenderChecks.authenticationResults(report.senderAuthentication,
                                                                   authservId: senderChecks?.authservId))
        }
        var decision = Decision(report: report, verdict: verdict, action: action, headersToAdd: headersToAdd,
                                repackedMessage: repacked, reason: reason, quarantine: quarantine)
        decision.sealHeaders = arcSeal(decision, source: source)
        if verdict.addAuthenticationResults {
            decision.forgedAuthenticationResults = SenderChecks.forgedAuthenticationResults(
                content.headers, authservId: senderChecks?.authservId ?? ProcessInfo.processInfo.hostName)
        }
        EventLog.record(decision, logger: logger, recent: recentThreats)
        record(report, verdict: action.keyword, profile: profile)
        recorder?.record(decision)
        if let spam = report.spam { recentSpamSymbols.record(Array(Set(spam.symbols.map(\.name)))) }
        return decision
    }

    /// REPACK with nothing to remove passes; a repack that fails is a temporary failure, so
    /// the message is neither lost nor delivered with its threat.
    private func repack(_ source: MessageSource, report: CheckReport, profile: CheckProfile, text: String,
                        reason: String) -> (FinalAction, [UInt8]?, String) {
        let bytes: [UInt8]?
        switch source {
        case .bytes(let b): bytes = b
        case .file(let path): bytes = SpoolFile.read(path)
        }
        guard let bytes else { return (.tempfail(UncheckedPolicy.tempfailText), nil, reason + "; repack failed: message unreadable") }
        do {
            guard let result = try Repacker(settings: profile.repack).repack(
                bytes, report: report, reason: text, includeUnchecked: profile.blockUnchecked)
            else { return (.pass, nil, reason + "; nothing to repack") }
            recorder?.keepArchive(result.archive, archiveId: result.archiveId, report: report, reason: reason)
            return (.repack(text), result.message, reason + "; archive \(result.archiveId)")
        } catch {
            return (.tempfail(UncheckedPolicy.tempfailText), nil, reason + "; repack failed: \(error)")
        }
    }
}
