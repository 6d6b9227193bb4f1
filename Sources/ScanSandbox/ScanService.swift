import CSandbox
import Foundation

extension ScanSupervisor {
    /// Service mode (`moat-scan --listen PATH`): systemd has confined the process already (its
    /// own user, no network, a read-only file system with `scratch` writable, moatd's state
    /// inaccessible); it adds its seccomp filter, then serves one moatd at a time. Only root
    /// and the users named in `clients` may connect (SO_PEERCRED).
    public static func listen(at path: String, scratch: String, clients: [String]) -> Never {
        prepareSignals()
        var allowed: Set<uid_t> = [0]
        for name in clients {
            guard let entry = getpwnam(name) else { fail("the client user \(name) does not exist") }
            allowed.insert(entry.pointee.pw_uid)
        }
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            fail("cannot create the scratch directory \(scratch): \(error)")
        }
        let listener = moat_listen_seqpacket(path)
        guard listener >= 0 else { fail("cannot listen on \(path): \(String(cString: strerror(-listener)))") }
        let filtered = moat_apply_seccomp(1)
        guard filtered == 0 else { fail("cannot install the seccomp filter: \(String(cString: strerror(-filtered)))") }
        let user = getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? "uid \(geteuid())"
        var measures = ["confined by its service unit (moat-scan.service), user \(user) (uid \(geteuid()))",
                        "seccomp: no network sockets, mounts or namespace changes; no_new_privs"]
        measures.append("scratch directory \(scratch)")
        let warnings = geteuid() == 0 ? ["the moat-scan service runs as root: give its unit User=moat-scan"] : []
        while true {
            let connection = moat_accept(listener)
            guard connection >= 0 else { continue }
            var uid: uid_t = 0, pid: pid_t = 0
            guard moat_peer(connection, &uid, &pid) == 0, allowed.contains(uid) else {
                say("refused a connection from uid \(uid) (pid \(pid)): only root and \(clients.joined(separator: ", ")) may use the scanner")
                close(connection)
                continue
            }
            serve(SandboxChannel(descriptor: connection)) { configuration in
                var applied = SandboxPolicy.Applied(scratchDirectory: scratch,
                                                    signatureDirectory: configuration.signatureDirectory)
                applied.measures = measures
                applied.warnings = warnings
                return applied
            }
        }
    }

    private static func say(_ text: String) {
        FileHandle.standardError.write(Data("moat-scan: \(text)\n".utf8))
    }

    private static func fail(_ text: String) -> Never {
        say(text)
        exit(1)
    }
}
