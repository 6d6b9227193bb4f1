/// The constants of the milter protocol as libmilter (mfdef.h) and Postfix (milter8.c) define
/// them. Names follow the C ones without their `SMFIC_`/`SMFIR_`/`SMFIF_`/`SMFIP_` prefixes.
public enum Milter {
    /// Command bytes, MTA to filter.
    public enum Command {
        public static let abort = UInt8(ascii: "A")
        public static let body = UInt8(ascii: "B")
        public static let connect = UInt8(ascii: "C")
        public static let macro = UInt8(ascii: "D")
        public static let endOfBody = UInt8(ascii: "E")
        public static let helo = UInt8(ascii: "H")
        public static let quitNewConnection = UInt8(ascii: "K")
        public static let header = UInt8(ascii: "L")
        public static let mail = UInt8(ascii: "M")
        public static let endOfHeaders = UInt8(ascii: "N")
        public static let optionNegotiation = UInt8(ascii: "O")
        public static let quit = UInt8(ascii: "Q")
        public static let recipient = UInt8(ascii: "R")
        public static let data = UInt8(ascii: "T")
        public static let unknown = UInt8(ascii: "U")
    }

    /// Reply bytes, filter to MTA.
    public enum Reply {
        public static let accept = UInt8(ascii: "a")
        public static let replaceBody = UInt8(ascii: "b")
        public static let `continue` = UInt8(ascii: "c")
        public static let discard = UInt8(ascii: "d")
        public static let addHeader = UInt8(ascii: "h")
        public static let insertHeader = UInt8(ascii: "i")
        public static let changeHeader = UInt8(ascii: "m")
        public static let progress = UInt8(ascii: "p")
        public static let quarantine = UInt8(ascii: "q")
        public static let reject = UInt8(ascii: "r")
        public static let skip = UInt8(ascii: "s")
        public static let tempfail = UInt8(ascii: "t")
        public static let replyCode = UInt8(ascii: "y")
        public static let optionNegotiation = UInt8(ascii: "O")
    }

    /// What the filter may do (SMFIF_*).
    public struct Actions: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let addHeaders = Actions(rawValue: 0x01)
        public static let changeBody = Actions(rawValue: 0x02)
        public static let addRecipient = Actions(rawValue: 0x04)
        public static let deleteRecipient = Actions(rawValue: 0x08)
        public static let changeHeaders = Actions(rawValue: 0x10)
        public static let quarantine = Actions(rawValue: 0x20)
        public static let changeFrom = Actions(rawValue: 0x40)
        public static let addRecipientWithArguments = Actions(rawValue: 0x80)
        public static let setSymbolList = Actions(rawValue: 0x100)
    }

    /// Steps the MTA leaves out (NO*), steps the filter does not answer (NR_*) and a few
    /// capabilities (SMFIP_*).
    public struct Steps: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let noConnect = Steps(rawValue: 0x1)
        public static let noHelo = Steps(rawValue: 0x2)
        public static let noMail = Steps(rawValue: 0x4)
        public static let noRecipient = Steps(rawValue: 0x8)
        public static let noBody = Steps(rawValue: 0x10)
        public static let noHeaders = Steps(rawValue: 0x20)
        public static let noEndOfHeaders = Steps(rawValue: 0x40)
        public static let noReplyHeader = Steps(rawValue: 0x80)
        public static let noUnknown = Steps(rawValue: 0x100)
        public static let noData = Steps(rawValue: 0x200)
        public static let skip = Steps(rawValue: 0x400)
        public static let rejectedRecipients = Steps(rawValue: 0x800)
        public static let noReplyConnect = Steps(rawValue: 0x1000)
        public static let noReplyHelo = Steps(rawValue: 0x2000)
        public static let noReplyMail = Steps(rawValue: 0x4000)
        public static let noReplyRecipient = Steps(rawValue: 0x8000)
        public static let noReplyData = Steps(rawValue: 0x10000)
        public static let noReplyUnknown = Steps(rawValue: 0x20000)
        public static let noReplyEndOfHeaders = Steps(rawValue: 0x40000)
        public static let noReplyBody = Steps(rawValue: 0x80000)
        public static let headerLeadingSpace = Steps(rawValue: 0x100000)
    }

    /// The stages whose macro lists a filter may choose (SMFIM_*), with `setSymbolList`.
    public enum MacroStage: UInt32, Sendable {
        case connect = 0, helo = 1, mail = 2, recipient = 3, data = 4, endOfMessage = 5, endOfHeaders = 6
    }

    /// The macros a filter asks for at one stage, names separated by spaces (`"{daemon_addr} i"`).
    public struct MacroRequest: Sendable, Equatable {
        public var stage: MacroStage
        public var names: String
        public init(_ stage: MacroStage, _ names: String) {
            self.stage = stage
            self.names = names
        }
    }

    /// The largest body chunk an MTA sends and the largest reply data Sendmail takes.
    public static let chunkSize = 65535
}
