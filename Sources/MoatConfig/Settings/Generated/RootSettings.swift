// Generated from the schema (Sources/MoatConfig/Schema) by scripts/gen-settings.sh: do not edit.
// MoatConfigTests' GeneratedSettingsTests fail when this file and the schema disagree.

extension ConfigValues {
    /// `[Root]`: Settings of the daemon as a whole.
    public var root: RootSettings { RootSettings(values: self) }
}

/// `[Root]`: Settings of the daemon as a whole.
public struct RootSettings: Sendable {
    /// Every parameter's key, for code that names one (restart-only lists, reports).
    public enum Key {
        public static let defaultLogLevel = ParameterKey("Root", "DefaultLogLevel")
        public static let logLevel = ParameterKey("Root", "LogLevel")
        public static let log = ParameterKey("Root", "Log")
        public static let controlSocket = ParameterKey("Root", "ControlSocket")
        public static let user = ParameterKey("Root", "User")
        public static let pidFile = ParameterKey("Root", "PidFile")
        public static let signatureDir = ParameterKey("Root", "SignatureDir")
        public static let tempDir = ParameterKey("Root", "TempDir")
        public static let varDir = ParameterKey("Root", "VarDir")
        public static let scanUser = ParameterKey("Root", "ScanUser")
        public static let scanService = ParameterKey("Root", "ScanService")
        public static let scanWorkers = ParameterKey("Root", "ScanWorkers")
        public static let scanWorkerMemory = ParameterKey("Root", "ScanWorkerMemory")
        public static let dnsResolver = ParameterKey("Root", "DnsResolver")
        public static let dnsTrustAnchor = ParameterKey("Root", "DnsTrustAnchor")
        public static let database = ParameterKey("Root", "Database")
        public static let nodeName = ParameterKey("Root", "NodeName")
        public static let quarantineRetention = ParameterKey("Root", "QuarantineRetention")
        public static let quarantineReleaseRelay = ParameterKey("Root", "QuarantineReleaseRelay")
        public static let messageLogRetention = ParameterKey("Root", "MessageLogRetention")
        public static let signatureCheckInterval = ParameterKey("Root", "SignatureCheckInterval")
    }

    public let values: ConfigValues

    /// `DefaultLogLevel`: Log level of every component whose LogLevel is Default (default `Notice`).
    public var defaultLogLevel: DefaultLogLevel { values.choice(Key.defaultLogLevel) }

    /// `LogLevel`: Log level of moatd's own messages (start, stop, reload, control socket) (default `Notice`).
    public var logLevel: LogLevel { values.choice(Key.logLevel) }

    /// `Log`: Where moatd logs: Auto (standard error, so systemd's journal), Stderr, Syslog:FACILITY or a file path (default `Auto`).
    public var log: LogTarget { values.logTarget(Key.log) }

    /// `ControlSocket`: Moat: UNIX socket where moatd answers moat-ctl; created mode 0600 for root only (default `/run/moat/moat-ctl.sock`).
    public var controlSocket: String { values.text(Key.controlSocket) }

    /// `User`: Moat: user moatd runs as once it has opened what needs root (the CA key, the scan workers, the state directories), keeping only CAP_NET_ADMIN and CAP_NET_BIND_SERVICE (the firewall, the Gate, ports below 1024); empty or root keeps root (not advised); a user that does not exist stops moatd; read when moatd starts (Dr.Web's per-component RunAsUser is read past) (default `moat`).
    public var user: String { values.text(Key.user) }

    /// `PidFile`: Moat: file to write moatd's process id to; empty writes none (systemd needs none) (default empty).
    public var pidFile: String { values.text(Key.pidFile) }

    /// `SignatureDir`: Moat: directory of the libclamav signature databases (what freshclam maintains); when it holds none, Moat warns and uses its own small test database (default `/var/lib/clamav`).
    public var signatureDir: String { values.text(Key.signatureDir) }

    /// `TempDir`: Moat: libclamav's scratch directory (one subdirectory per scan, made and removed each time): a tmpfs such as /run saves a disk write per message; created mode 0700; empty: $TMPDIR or /tmp; read when moatd starts (default `/run/moat/tmp`).
    public var tempDir: String { values.text(Key.tempDir) }

    /// `VarDir`: Moat: directory of moatd's state (the CA, spool, HMAC archive ids); created mode 0700 (default `/var/lib/moat`).
    public var varDir: String { values.text(Key.varDir) }

    /// `ScanUser`: Moat: the unprivileged user the sandboxed scan workers run as (libclamav parses attachments only in them, never in moatd); read when moatd starts (default `moat-scan`).
    public var scanUser: String { values.text(Key.scanUser) }

    /// `ScanService`: Moat: where the sandboxed scan supervisor comes from: Auto (moat-scan.service's socket /run/moat-scan/scan.sock when it exists, else moatd starts moat-scan itself), Spawn (moatd starts it; needs root for its user and namespaces), or the path of a `moat-scan --listen` socket; read when moatd starts (default `Auto`).
    public var scanService: String { values.text(Key.scanService) }

    /// `ScanWorkers`: Moat: scan worker processes, each scanning one part at a time; 0 is one per core; read when moatd starts (default `0`).
    public var scanWorkers: Int { values.integer(Key.scanWorkers) }

    /// `ScanWorkerMemory`: Moat: address space a scan worker may use beyond the loaded signatures; a scan that needs more fails and its part is unchecked (default `1gb`).
    public var scanWorkerMemory: ByteSize { values.size(Key.scanWorkerMemory) }

    /// `DnsResolver`: Moat: the DNS resolver SPF, DKIM, DMARC, ARC, the blocklists and DANE ask (libunbound: validates DNSSEC, caches answers for their TTL): System (the name servers of /etc/resolv.conf, as forwarders) or one or more address[@port] to forward to, such as 127.0.0.1@5353, 2001:db8::53; read when moatd starts (default `System`).
    public var dnsResolver: String { values.text(Key.dnsResolver) }

    /// `DnsTrustAnchor`: Moat: the DNSSEC trust anchor the resolver validates from (DS or DNSKEY records in zone-file form; Debian's dns-root-data installs the root's); empty validates nothing (every answer insecure, so DANE never applies); the resolver must pass DNSSEC records through (with System, /etc/resolv.conf's servers must); read when moatd starts (default `/usr/share/dns/root.key`).
    public var dnsTrustAnchor: String { values.text(Key.dnsTrustAnchor) }

    /// `Database`: Moat: where the quarantine's metadata, the message log and the statistics are kept: empty for SQLite in VarDir (moat.sqlite), or postgresql://user@host:port/database for a PostgreSQL database several gateways share (a password may follow the user as user:password@); Off for none (no quarantine, message log or statistics; a QUARANTINE rule then answers tempfail); schema migrations run at start; while the database is down mail keeps flowing and the message log waits in VarDir/storage-buffer.jsonl; read when moatd starts (default empty).
    public var database: String { values.text(Key.database) }

    /// `NodeName`: Moat: the name of this gateway in the message log and the quarantine, so that gateways sharing one Database tell their rows apart; empty: the host name; read when moatd starts (default empty).
    public var nodeName: String { values.text(Key.nodeName) }

    /// `QuarantineRetention`: Moat: how long messages kept by the QUARANTINE rule action (and archives of repacked threats) stay in VarDir/quarantine and the database before they are removed (default `30d`).
    public var quarantineRetention: ConfigDuration { values.duration(Key.quarantineRetention) }

    /// `QuarantineReleaseRelay`: Moat: host:port of the SMTP server a released quarantined message is sent to, for its original recipients (a port of the MTA that does not pass mail through Moat again, such as a Postfix smtpd without smtpd_milters); empty: releases are refused (default empty).
    public var quarantineReleaseRelay: ListenAddress? { values.address(Key.quarantineReleaseRelay) }

    /// `MessageLogRetention`: Moat: how long the message log (one row per verdict) and its statistics are kept in the database (default `90d`).
    public var messageLogRetention: ConfigDuration { values.duration(Key.messageLogRetention) }

    /// `SignatureCheckInterval`: Moat: how often moatd looks whether freshclam changed SignatureDir, and reloads the signatures by itself when it did (as clamd's SelfCheck); 0s turns it off (default `60s`).
    public var signatureCheckInterval: ConfigDuration { values.duration(Key.signatureCheckInterval) }

    /// The words `DefaultLogLevel` takes, as the file spells them.
    public enum DefaultLogLevel: String, Sendable, CaseIterable {
        case debug = "Debug"
        case info = "Info"
        case notice = "Notice"
        case warning = "Warning"
        case error = "Error"
    }

    /// `LogLevel` takes the words of `DefaultLogLevel`.
    public typealias LogLevel = DefaultLogLevel
}
