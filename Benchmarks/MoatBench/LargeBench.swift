import Foundation
import MailD
import ThreatEngine

/// A message with one large random attachment, base64 in 76-column lines as MUAs send it.
enum LargeMessage {
    /// `megabytes` is the size of the whole message; base64 makes the attachment 3/4 of it.
    static func write(megabytes: Int, to path: String) -> Int {
        var generator = SystemRandomNumberGenerator()
        var attachment = [UInt8](repeating: 0, count: (megabytes << 20) / 100 * 74)
        for i in stride(from: 0, to: attachment.count, by: 8) {
            let r = generator.next()
            withUnsafeBytes(of: r) { raw in
                for j in 0..<min(8, attachment.count - i) { attachment[i + j] = raw[j] }
            }
        }
        let encoded = Data(attachment).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        let head = "From: a@example.com\r\nTo: b@example.org\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=big\r\n\r\n--big\r\nContent-Type: text/plain\r\n\r\nthe data\r\n--big\r\nContent-Type: application/octet-stream; name=data.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        var data = Data(head.utf8)
        data.append(Data(encoded.utf8))
        data.append(Data("\r\n--big--\r\n".utf8))
        _ = FileManager.default.createFile(atPath: path, contents: data)
        return data.count
    }
}

enum LargeBench {
    static func run(megabytes: Int) async {
        let path = NSTemporaryDirectory() + "/moat-bench-large.eml"
        defer { unlink(path) }
        let size = LargeMessage.write(megabytes: megabytes, to: path)
        let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        let scanner = Bench.scanner()
        let core = MailCore(scanner: scanner, spoolDirectory: NSTemporaryDirectory() + "/moat-bench-spool")
        var tunable = CheckProfile(name: "Milter")
        tunable.limits.scanTimeout = .seconds(600)
        let profile = tunable
        print("large: one message of \(size / 1_048_576) MB, one base64 attachment")
        for round in 1...3 {
            let engine = await Bench.timed([bytes]) { m in _ = await scanner.scan(bytes: m) }
            let moat = await Bench.timed([bytes]) { m in
                _ = await core.check(envelope: Envelope(source: .commandLine), message: .bytes(m), profile: profile)
            }
            let spooled = await Bench.timed([path]) { p in
                _ = await core.check(envelope: Envelope(source: .commandLine), message: .file(path: p), profile: profile)
            }
            print("round \(round)")
            print(Bench.line("engine", messages: 1, bytes: size, seconds: engine))
            print(Bench.line("moat", messages: 1, bytes: size, seconds: moat) + " in memory")
            print(Bench.line("moat", messages: 1, bytes: size, seconds: spooled) + " from a spool file")
        }
        if let database = try? BuiltinDatabase.writeToTemporaryDirectory() {
            defer { try? FileManager.default.removeItem(atPath: database) }
            if let seconds = Bench.clamscan([path], database: database) {
                print(Bench.line("clamscan", messages: 1, bytes: size, seconds: seconds))
            }
        }
    }
}

enum MemoryBench {
    /// Peak growth of resident memory while one large message is checked from a spool file,
    /// sampled every 2 ms from another thread.
    static func run(megabytes: Int) async {
        let path = NSTemporaryDirectory() + "/moat-bench-memory.eml"
        defer { unlink(path) }
        let size = LargeMessage.write(megabytes: megabytes, to: path)
        let scanner = Bench.scanner()
        let core = MailCore(scanner: scanner, spoolDirectory: NSTemporaryDirectory() + "/moat-bench-spool")
        var profile = CheckProfile(name: "Milter")
        profile.limits.scanTimeout = .seconds(600)
        // Warm the engine on a small message so its one-time allocations are in the baseline.
        _ = await core.check(envelope: Envelope(source: .commandLine), message: .bytes(Array("Subject: x\r\n\r\nx\r\n".utf8)), profile: profile)
        let baseline = Bench.residentKilobytes()
        let peak = PeakSampler()
        peak.start()
        let report = await core.check(envelope: Envelope(source: .commandLine), message: .file(path: path), profile: profile)
        let highest = peak.stop()
        print("memory: \(size / 1_048_576) MB message from a spool file, status \(report.status.rawValue)")
        print("baseline \(baseline / 1024) MB, peak \(highest / 1024) MB, growth \((highest - baseline) / 1024) MB")
    }
}

final class PeakSampler: @unchecked Sendable {
    private var highest = 0
    private var running = true
    private let lock = NSLock()
    private var thread: Thread?

    func start() {
        let t = Thread { [self] in
            while lock.withLock({ running }) {
                let now = Bench.residentKilobytes()
                lock.withLock { highest = max(highest, now) }
                usleep(2000)
            }
        }
        thread = t
        t.start()
    }

    func stop() -> Int {
        lock.withLock { running = false }
        usleep(5000)
        return lock.withLock { max(highest, Bench.residentKilobytes()) }
    }
}
