extension Schema {
    static let rootSection = SectionSpec("Root", "Settings of the daemon as a whole", [
        ParameterSpec("DefaultLogLevel", .choice(logLevels), default: "Notice",
                      "Log level of every component whose LogLevel is Default"),
        ParameterSpec("LogLevel", .choice(logLevels), default: "Notice",
                      "Log level of moatd's own messages (start, stop, reload, control socket)"),
        ParameterSpec("Log", .logTarget, default: "Auto",
                      "Where moatd logs: Auto (standard error, so systemd's journal), Stderr, Syslog:FACILITY or a file path"),
        ParameterSpec("ControlSocket", .path(allowEmpty: false), default: "/run/moat/moat-ctl.sock",
                      "Moat: UNIX socket where moatd answers moat-ctl; created mode 0600 for root only"),
        ParameterSpec("User", .text, default: "moat",
                      "Moat: user moatd runs as once it has opened what needs root (the CA key, the scan workers, the state directories), keeping only CAP_NET_ADMIN and CAP_NET_BIND_SERVICE (the firewall, the Gate, ports below 1024); empty or root keeps root (not advised); a user that does not exist stops moatd; read when moatd starts (Dr.Web's per-component RunAsUser is read past)"),
        ParameterSpec("PidFile", .path(allowEmpty: true), default: "",
                      "Moat: file to write moatd's process id to; empty writes none (systemd needs none)"),
        ParameterSpec("SignatureDir", .path(allowEmpty: false), default: "/var/lib/clamav",
                      "Moat: directory of the libclamav signature databases (what freshclam maintains); when it holds none, Moat warns and uses its own small test database"),
        ParameterSpec("TempDir", .path(allowEmpty: true), default: "/run/moat/tmp",
                      "Moat: libclamav's scratch directory (one subdirectory per scan, made and removed each time): a tmpfs such as /run saves a disk write per message; created mode 0700; empty: $TMPDIR or /tmp; read when moatd starts"),
        ParameterSpec("VarDir", .path(allowEmpty: false), default: "/var/lib/moat",
                      "Moat: directory of moatd's state (the CA, spool, HMAC archive ids); created mode 0700"),
    ])
}
