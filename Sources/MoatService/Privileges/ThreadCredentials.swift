import Foundation

/// A thread's credentials as the kernel reports them in /proc/<pid>/task/<tid>/status: what
/// moatd reads back after the switch, and what the tests read of a running moatd.
public struct ThreadCredentials: Sendable, Equatable {
    public var tid: Int32
    /// Real, effective, saved and file-system ids.
    public var uids: [UInt32]
    public var gids: [UInt32]
    public var groups: [UInt32]
    public var inheritable: UInt64
    public var permitted: UInt64
    public var effective: UInt64
    public var bounding: UInt64
    public var ambient: UInt64
    public var noNewPrivileges: Bool

    /// Parses one status file; nil when a line it needs is missing.
    public init?(status text: String, tid: Int32) {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        func ids(_ key: String) -> [UInt32]? {
            fields[key].map { $0.split(whereSeparator: \.isWhitespace).compactMap { UInt32($0) } }
        }
        func mask(_ key: String) -> UInt64? { fields[key].flatMap { UInt64($0, radix: 16) } }
        guard let uids = ids("Uid"), uids.count == 4, let gids = ids("Gid"), gids.count == 4,
              let inheritable = mask("CapInh"), let permitted = mask("CapPrm"), let effective = mask("CapEff"),
              let bounding = mask("CapBnd"), let ambient = mask("CapAmb")
        else { return nil }
        self.tid = tid
        self.uids = uids
        self.gids = gids
        self.groups = ids("Groups") ?? []
        self.inheritable = inheritable
        self.permitted = permitted
        self.effective = effective
        self.bounding = bounding
        self.ambient = ambient
        self.noNewPrivileges = fields["NoNewPrivs"] == "1"
    }

    /// Every thread of process `pid` ("self" for this one); threads that end while being read
    /// are left out.
    public static func threads(of pid: String = "self") -> [ThreadCredentials] {
        let directory = "/proc/\(pid)/task"
        let tids = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).compactMap { Int32($0) }
        return tids.sorted().compactMap { tid in
            guard let text = try? String(contentsOfFile: "\(directory)/\(tid)/status", encoding: .utf8) else { return nil }
            return ThreadCredentials(status: text, tid: tid)
        }
    }

    /// What is wrong with this thread for a moatd that runs as `uid` (gid `gid`, groups
    /// `groups`) and holds at most `allowed`; empty when nothing. `switched`: moatd changed
    /// its ids itself, so its bounding set must be `allowed` too (a process that was started
    /// without root has the bounding set it was given, which no_new_privs makes harmless).
    public func problems(uid: UInt32, gid: UInt32, groups expectedGroups: [UInt32]?, allowed: UInt64,
                         switched: Bool) -> [String] {
        var problems: [String] = []
        if uids.contains(0) || uids.contains(where: { $0 != uid }) {
            problems.append("uids \(uids.map(String.init).joined(separator: " ")), expected \(uid)")
        }
        if gids.contains(where: { $0 != gid }) {
            problems.append("gids \(gids.map(String.init).joined(separator: " ")), expected \(gid)")
        }
        if let expectedGroups, Set(groups) != Set(expectedGroups) {
            problems.append("groups \(groups.map(String.init).joined(separator: " ")), expected \(expectedGroups.map(String.init).joined(separator: " "))")
        }
        for (name, value) in [("CapEff", effective), ("CapPrm", permitted)] where value & ~allowed != 0 {
            problems.append("\(name) \(Capabilities.text(value)) holds more than \(Capabilities.text(allowed))")
        }
        if inheritable & ~allowed != 0 {
            problems.append("CapInh \(Capabilities.text(inheritable)) holds more than \(Capabilities.text(allowed))")
        }
        if ambient != 0 { problems.append("CapAmb \(Capabilities.text(ambient)) is not empty") }
        if switched, bounding & ~allowed != 0 {
            problems.append("CapBnd \(Capabilities.text(bounding)) holds more than \(Capabilities.text(allowed))")
        }
        if !noNewPrivileges { problems.append("no_new_privs is not set") }
        return problems.map { "thread \(tid): \($0)" }
    }
}
