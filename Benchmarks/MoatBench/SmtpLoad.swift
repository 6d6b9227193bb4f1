#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// `moat-bench smtp-load`: SMTP load with latency, for Benchmarks/Scale. N threads, each with
/// blocking sockets, send M messages in all: connect, EHLO, then per message MAIL FROM, RCPT TO,
/// DATA, the message, `.`, and after K messages (`--per-connection`) QUIT and a new connection.
/// A message's latency runs from MAIL FROM to the final reply to its `.`, the time the client
/// waits for the server to take responsibility for it. Failures (no connection, any reply not
/// 2xx/3xx where one is expected) are counted; the exit status is 1 when there is any.
enum SmtpLoad {
    struct Options {
        var host = "127.0.0.1"
        var port = 25
        var sessions = 1
        var messages = 100
        var size = 2000
        var perConnection = 1
        var timeout = 300
        var from = "alice@example.com"
        var to = "bob@example.org"
    }

    static let usage = """
        usage: moat-bench smtp-load --host HOST --port PORT --sessions N --messages M --size BYTES
                                    [--per-connection K] [--timeout SECONDS] [--from ADDR] [--to ADDR]
        """

    static func parse(_ arguments: [String]) -> Options? {
        var options = Options()
        var rest = arguments[...]
        while let name = rest.popFirst() {
            guard let value = rest.popFirst() else { return nil }
            let number = Int(value)
            switch name {
            case "--host": options.host = value
            case "--port": options.port = number ?? -1
            case "--sessions": options.sessions = number ?? -1
            case "--messages": options.messages = number ?? -1
            case "--size": options.size = number ?? -1
            case "--per-connection": options.perConnection = number ?? -1
            case "--timeout": options.timeout = number ?? -1
            case "--from": options.from = value
            case "--to": options.to = value
            default: return nil
            }
        }
        let valid = (1...65535).contains(options.port) && options.sessions >= 1 && options.messages >= 1
            && options.size >= 200 && options.perConnection >= 1 && options.timeout >= 1
        return valid ? options : nil
    }

    static func run(_ arguments: [String]) -> Never {
        guard let options = parse(arguments) else {
            FileHandle.standardError.write(Data((usage + "\n").utf8))
            exit(64)
        }
        let body = LoadMessage.body(size: options.size)
        let load = LoadState(messages: options.messages)
        let group = DispatchGroup()
        let started = ContinuousClock.now
        for _ in 0..<min(options.sessions, options.messages) {
            group.enter()
            let thread = Thread {
                session(options, body: body, load: load)
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        let seconds = Self.seconds(ContinuousClock.now - started)
        report(options, load: load, seconds: seconds)
        exit(load.failed == 0 ? 0 : 1)
    }

    /// One load thread: connections one after the other until no message is left.
    private static func session(_ options: Options, body: [UInt8], load: LoadState) {
        var connectSamples: [Double] = []
        var latencySamples: [Double] = []
        defer { load.add(latencies: latencySamples, connects: connectSamples) }
        while let first = load.take() {
            var next: Int? = first
            let connectStart = ContinuousClock.now
            let connection: SmtpConnection
            do {
                connection = try SmtpConnection(host: options.host, port: options.port, timeout: options.timeout)
                try expect(connection.readReply(), 220, "greeting")
                try connection.send("EHLO load.moat.test\r\n")
                try expect(connection.readReply(), 250, "EHLO")
                connectSamples.append(seconds(ContinuousClock.now - connectStart) * 1000)
            } catch {
                load.fail(1, "message \(first): \(error)")
                continue
            }
            var sent = 0
            while let number = next {
                let start = ContinuousClock.now
                do {
                    try transaction(connection, options, number: number, body: body)
                    latencySamples.append(seconds(ContinuousClock.now - start) * 1000)
                } catch {
                    load.fail(1, "message \(number): \(error)")
                    break  // the connection's state is unknown: a new one for the next message
                }
                sent += 1
                next = sent < options.perConnection ? load.take() : nil
            }
            // QUIT's answer is read but not judged: the messages were accepted already.
            if (try? connection.send("QUIT\r\n")) != nil { _ = try? connection.readReply() }
        }
    }

    private static func transaction(_ connection: SmtpConnection, _ options: Options, number: Int, body: [UInt8]) throws {
        try connection.send("MAIL FROM:<\(options.from)>\r\n")
        try expect(connection.readReply(), 250, "MAIL FROM")
        try connection.send("RCPT TO:<\(options.to)>\r\n")
        try expect(connection.readReply(), 250, "RCPT TO")
        try connection.send("DATA\r\n")
        try expect(connection.readReply(), 354, "DATA")
        try connection.send(LoadMessage.header(number: number, from: options.from, to: options.to))
        try connection.send(body)
        try connection.send(".\r\n")
        try expect(connection.readReply(), 250, "end of data")
    }

    private static func expect(_ reply: SmtpConnection.Reply, _ code: Int, _ step: String) throws {
        guard reply.isPositive, reply.code / 100 == code / 100 else {
            throw SmtpConnection.Failure(description: "\(step): \(reply.text)")
        }
    }

    private static func report(_ options: Options, load: LoadState, seconds: Double) {
        let latencies = load.latencies.sorted()
        let connects = load.connects.sorted()
        let accepted = latencies.count
        print("smtp-load: \(options.messages) messages of \(options.size) bytes to \(options.host):\(options.port),"
              + " \(options.sessions) sessions, \(options.perConnection) per connection")
        print(String(format: "  %.1f msgs/s (%d accepted, %d failed, %.2f s); latency MAIL FROM to 250: p50 %.2f ms,"
                     + " p99 %.2f ms, max %.2f ms; connect to EHLO's 250: p50 %.2f ms, p99 %.2f ms",
                     Double(accepted) / seconds, accepted, load.failed, seconds, percentile(latencies, 50),
                     percentile(latencies, 99), latencies.last ?? .nan, percentile(connects, 50), percentile(connects, 99)))
        // The same figures as key=value, for scripts (Benchmarks/Scale/run.sh).
        print(String(format: "SMTPLOAD rate=%.2f accepted=%d failed=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f"
                     + " connect_p50_ms=%.3f connect_p99_ms=%.3f",
                     Double(accepted) / seconds, accepted, load.failed, seconds, percentile(latencies, 50),
                     percentile(latencies, 99), latencies.last ?? .nan, percentile(connects, 50), percentile(connects, 99)))
        for message in load.errors {
            FileHandle.standardError.write(Data("smtp-load: \(message)\n".utf8))
        }
    }

    /// The nearest-rank percentile of sorted samples (NaN when there are none).
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// What the load threads share: the messages left to send, and what came back.
final class LoadState: @unchecked Sendable {
    private let lock = NSLock()
    private var left: Int
    private let total: Int
    private(set) var failed = 0
    private(set) var errors: [String] = []
    private(set) var latencies: [Double] = []
    private(set) var connects: [Double] = []

    init(messages: Int) {
        left = messages
        total = messages
    }

    /// The number of the next message to send, or nil when every one is taken.
    func take() -> Int? {
        lock.withLock {
            guard left > 0 else { return nil }
            left -= 1
            return total - left
        }
    }

    /// `count` messages failed; the first few errors are kept to be printed.
    func fail(_ count: Int, _ error: String) {
        lock.withLock {
            failed += count
            if errors.count < 10 { errors.append(error) }
        }
    }

    func add(latencies more: [Double], connects moreConnects: [Double]) {
        lock.withLock {
            latencies += more
            connects += moreConnects
        }
    }
}

/// The message smtp-load sends: a few headers and a plain-text body of printable lines,
/// `size` bytes in all before dot-stuffing, the body prepared once for every message.
enum LoadMessage {
    static let words = ["the", "meeting", "minutes", "are", "attached", "below", "and", "next", "week's",
                        "agenda", "follows", "with", "budget", "figures", "for", "review", "by", "Friday",
                        "please", "send", "comments", "to", "team", "before", "noon", "thanks", "regards"]

    static func header(number: Int, from: String, to: String) -> [UInt8] {
        Array(("From: <\(from)>\r\nTo: <\(to)>\r\nSubject: load message \(number)\r\n"
               + "Message-ID: <load-\(number)-\(getpid())@moat.test>\r\nDate: Sun, 6 Dec 2026 12:00:00 +0000\r\n"
               + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n").utf8)
    }

    /// Lines of up to 72 characters of words, CRLF-terminated; every 40th line starts with a
    /// dot (an ellipsis), stuffed to two as SMTP requires. The header's size is counted in.
    static func body(size: Int) -> [UInt8] {
        let target = max(size - header(number: 1, from: "alice@example.com", to: "bob@example.org").count, 2)
        var body: [UInt8] = []
        body.reserveCapacity(target + target / 1000 + 80)
        var unstuffed = 0
        var line: [UInt8] = []
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var lineNumber = 0
        while unstuffed < target {
            line.removeAll(keepingCapacity: true)
            if lineNumber % 40 == 39 { line += Array("...".utf8) }
            while line.count < 60 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let word = words[Int(state >> 33) % words.count]
                if !line.isEmpty && line.last != UInt8(ascii: ".") { line.append(UInt8(ascii: " ")) }
                line += Array(word.utf8)
            }
            line = Array(line.prefix(max(0, min(72, target - unstuffed - 2))))
            lineNumber += 1
            unstuffed += line.count + 2
            if line.first == UInt8(ascii: ".") { body.append(UInt8(ascii: ".")) }
            body += line
            body += [13, 10]
        }
        return body
    }
}
