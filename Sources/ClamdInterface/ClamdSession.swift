import NIOCore

/// One clamd connection apart from I/O: one command per connection, or many inside
/// IDSESSION (replies `<id>: ...`), processed one at a time in order.
public struct ClamdSession: Sendable {
    /// Who a reply is for: its terminator and, inside IDSESSION, its request number.
    public struct Tag: Sendable, Equatable {
        public var style: ClamdStyle
        public var id: Int?
        public init(_ style: ClamdStyle, _ id: Int? = nil) { self.style = style; self.id = id }

        public func render(_ lines: [String]) -> String {
            lines.map { (id.map { "\($0): " } ?? "") + $0 + style.terminator }.joined()
        }
    }

    public enum ScanKind: String, Sendable, Equatable {
        case scan = "SCAN", contscan = "CONTSCAN", multiscan = "MULTISCAN", allmatchscan = "ALLMATCHSCAN"
    }

    public enum Action: Sendable, Equatable {
        case reply(String)
        case collect(ByteBuffer)
        /// Check the collected stream and call `finished`.
        case scanStream(Tag)
        /// Check a path (if allowed) and call `finished`.
        case scanPath(String, ScanKind, Tag)
        case close
    }

    enum Mode: Equatable { case single, session(nextId: Int) }

    let version: String
    var mode = Mode.single
    var streaming: Tag?
    var busy = false
    var pending: [ClamdRequestPart] = []
    var ended = false
    var closed = false
    var answeredOnce = false

    static let commands = "SCAN QUIT RELOAD PING CONTSCAN VERSIONCOMMANDS VERSION END SHUTDOWN MULTISCAN FILDES STATS IDSESSION INSTREAM DETSTATSCLEAR DETSTATS ALLMATCHSCAN"
    static let inSession: Set<String> = ["SCAN", "CONTSCAN", "MULTISCAN", "ALLMATCHSCAN", "INSTREAM", "FILDES", "VERSION",
                                         "VERSIONCOMMANDS", "PING", "STATS", "END"]

    /// `version`: the VERSION reply (`ClamAV 1.4.6/<db>/<date>`).
    public init(version: String) {
        self.version = version
    }

    public mutating func received(_ part: ClamdRequestPart) -> [Action] {
        if closed { return [] }
        if busy {
            pending.append(part)
            return []
        }
        return process(part)
    }

    /// The check of `tag` is done; `lines` are its result (`stream: OK`, ...).
    public mutating func finished(_ lines: [String], tag: Tag) -> [Action] {
        busy = false
        var actions: [Action] = [.reply(tag.render(lines))]
        if mode == .single {
            closed = true
            return actions + [.close]
        }
        while !busy, !closed, !pending.isEmpty {
            actions += process(pending.removeFirst())
        }
        if !busy, ended, !closed {
            closed = true
            actions.append(.close)
        }
        return actions
    }

    public mutating func inputClosed() -> [Action] {
        if closed { return [] }
        if busy { ended = true; return [] }
        closed = true
        return [.close]
    }

    public mutating func timedOut() -> [Action] {
        if closed || busy { return [] }
        closed = true
        if mode == .single, streaming == nil, !answeredOnce { return [.reply("COMMAND READ TIMED OUT\n"), .close] }
        return [.close]
    }

    mutating func refuse(_ text: String, _ tag: Tag) -> [Action] {
        closed = true
        return [.reply(tag.render([text])), .close]
    }

    mutating func answer(_ text: String, _ tag: Tag) -> [Action] {
        answeredOnce = true
        if mode == .single {
            closed = true
            return [.reply(tag.render([text])), .close]
        }
        return [.reply(tag.render([text]))]
    }

    mutating func process(_ part: ClamdRequestPart) -> [Action] {
        switch part {
        case .badCommand:
            return refuse("UNKNOWN COMMAND", Tag(.n))
        case .streamData(let piece):
            return streaming == nil ? [] : [.collect(piece)]
        case .streamEnd:
            guard let tag = streaming else { return [] }
            streaming = nil
            busy = true
            return [.scanStream(tag)]
        case .streamTooLong:
            return refuse("INSTREAM size limit exceeded. ERROR", streaming ?? Tag(.z))
        case .command(let command):
            return process(command)
        }
    }

    mutating func process(_ command: ClamdCommand) -> [Action] {
        var tag = Tag(command.style)
        if case .session(let next) = mode {
            guard command.style != .bare else {
                return refuse(#"Only nCMDS\n and zCMDS\0 are accepted inside IDSESSION. ERROR"#, Tag(.n))
            }
            guard Self.inSession.contains(command.name) else {
                return refuse("Command invalid inside IDSESSION. ERROR", Tag(command.style, next))
            }
            if command.name != "END" {
                tag.id = next
                mode = .session(nextId: next + 1)
            }
        }
        let withArgument: Set<String> = ["SCAN", "CONTSCAN", "MULTISCAN", "ALLMATCHSCAN"]
        if withArgument.contains(command.name) {
            guard let path = command.argument, !path.isEmpty else { return refuse("UNKNOWN COMMAND", tag) }
            busy = true
            answeredOnce = true
            return [.scanPath(path, ScanKind(rawValue: command.name)!, tag)]
        }
        guard command.argument == nil else { return refuse("UNKNOWN COMMAND", tag) }
        switch command.name {
        case "PING":
            return answer("PONG", tag)
        case "VERSION":
            return answer(version, tag)
        case "VERSIONCOMMANDS":
            return answer("\(version)| COMMANDS: \(Self.commands)", tag)
        case "RELOAD":
            return answer("RELOADING", tag)
        case "STATS":
            return answer("POOLS: 1\n\nSTATE: VALID PRIMARY\nTHREADS: live 0  idle 0 max 0 idle-timeout 0\nQUEUE: 0 items\nMEMSTATS: heap N/A mmap N/A used N/A free N/A releasable N/A pools 0 pools_used N/A pools_total N/A\nEND", tag)
        case "FILDES":
            return answer("FILDES: didn't receive file descriptor. ERROR", tag)
        case "SHUTDOWN":
            return refuse("SHUTDOWN is not accepted by Moat (stop moatd instead). ERROR", tag)
        case "INSTREAM":
            guard command.style != .bare else { return refuse("UNKNOWN COMMAND", tag) }
            streaming = tag
            answeredOnce = true
            return []
        case "IDSESSION":
            guard mode == .single, command.style != .bare else { return refuse("UNKNOWN COMMAND", tag) }
            mode = .session(nextId: 1)
            return []
        case "END":
            guard case .session = mode else { return refuse("UNKNOWN COMMAND", tag) }
            ended = true
            closed = true
            return [.close]
        default:
            return refuse("UNKNOWN COMMAND", tag)
        }
    }
}
