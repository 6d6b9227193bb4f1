import InterfaceSupport
import MoatConfig
import NIOCore

/// The requests of the SpamAssassin spamd protocol (spamd/PROTOCOL, SpamAssassin 4.0).
public enum SpamdMethod: String, Sendable, CaseIterable {
    case check = "CHECK", symbols = "SYMBOLS", report = "REPORT", reportIfSpam = "REPORT_IFSPAM"
    case process = "PROCESS", headers = "HEADERS", ping = "PING", skip = "SKIP", tell = "TELL"

    /// Methods followed by a message.
    var hasBody: Bool { self != .ping && self != .skip }
}

/// `SPAMC/<major>.<minor>`: the reply's shape follows it (Exim sends 1.2, spamc 4.0 sends 1.5).
public struct SpamdVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public init(_ major: Int, _ minor: Int) { self.major = major; self.minor = minor }
    public static func < (a: Self, b: Self) -> Bool { (a.major, a.minor) < (b.major, b.minor) }
    public var description: String { "\(major).\(minor)" }

    init?(_ text: Substring) {
        let pieces = text.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count == 2, let major = PeerNumber.decimal(pieces[0], max: 999).value,
              let minor = PeerNumber.decimal(pieces[1], max: 999).value else { return nil }
        self.init(major, minor)
    }
}

/// The request line and headers.
public struct SpamdRequestHead: Sendable, Equatable {
    public var method: SpamdMethod
    public var version: SpamdVersion
    /// Header fields in order, names as sent.
    public var headers: [(name: String, value: String)]
    /// `Content-length`, when sent.
    public var contentLength: Int?

    public init(method: SpamdMethod, version: SpamdVersion, headers: [(name: String, value: String)] = [], contentLength: Int? = nil) {
        self.method = method
        self.version = version
        self.headers = headers
        self.contentLength = contentLength
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.method == b.method && a.version == b.version && a.contentLength == b.contentLength
            && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }
}

/// sysexits.h codes, as spamd puts them in error replies.
public enum SpamdStatus: Int, Sendable {
    case ok = 0, usage = 64, dataError = 65, noInput = 66, noUser = 67, noHost = 68, unavailable = 69
    case software = 70, osError = 71, osFile = 72, cantCreate = 73, ioError = 74, tempFail = 75
    case protocolError = 76, noPermission = 77, config = 78, timeout = 79

    public var name: String {
        switch self {
        case .ok: "EX_OK"
        case .usage: "EX_USAGE"
        case .dataError: "EX_DATAERR"
        case .noInput: "EX_NOINPUT"
        case .noUser: "EX_NOUSER"
        case .noHost: "EX_NOHOST"
        case .unavailable: "EX_UNAVAILABLE"
        case .software: "EX_SOFTWARE"
        case .osError: "EX_OSERR"
        case .osFile: "EX_OSFILE"
        case .cantCreate: "EX_CANTCREAT"
        case .ioError: "EX_IOERR"
        case .tempFail: "EX_TEMPFAIL"
        case .protocolError: "EX_PROTOCOL"
        case .noPermission: "EX_NOPERM"
        case .config: "EX_CONFIG"
        case .timeout: "EX_TIMEOUT"
        }
    }
}

/// A request the server refuses: one status line, then the connection closes.
public struct SpamdError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: SpamdStatus
    public var text: String
    public init(_ status: SpamdStatus, _ text: String) { self.status = status; self.text = text }
    public var description: String { "\(status.rawValue) \(text)" }
    /// `SPAMD/1.0 76 Bad header line: (...)\r\n`.
    public var line: String { "SPAMD/1.0 \(status.rawValue) \(text)\r\n" }
}

/// Bounds on one spamd request: past `maxMessageSize` the answer is `EX_DATAERR`, a silence of
/// `readTimeout` gets `EX_TIMEOUT`.
public typealias SpamdLimits = RequestLimits
