// swift-tools-version:6.1
// Moat: a Linux mail-security gateway. Module floors are described in README.md
// ("Architecture"); dependencies only point down the floors.
import PackageDescription

let package = Package(
    name: "Moat",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "moatd", targets: ["moatd"]),
        .executable(name: "moat-ctl", targets: ["moat-ctl"]),
        .executable(name: "moat-scan", targets: ["moat-scan"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        // The HTTPS console; traits off: no swift-configuration, FoundationEssentials is enough.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // Already there through Hummingbird; the console's connection cap handles its HTTP parts.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.0"),
        // Storage: the learned anti-spam model, quarantine metadata, message log and statistics
        // in SQLite (the default) or PostgreSQL (a cluster of gateways sharing one database).
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        // Metrics: counters and timers through swift-metrics, exposed for Prometheus on /metrics.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Floor 1
        .target(name: "MoatConfig"),
        .target(name: "MIME"),
        .systemLibrary(
            name: "CClamAV",
            pkgConfig: "libclamav",
            providers: [.apt(["libclamav-dev"])]
        ),
        .systemLibrary(name: "CNetfilter", pkgConfig: "libnftnl", providers: [.apt(["libnftnl-dev", "libmnl-dev"])]),
        .systemLibrary(name: "CZip", pkgConfig: "libzip", providers: [.apt(["libzip-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // AntiSpam: libxml2's HTML parser turns HTML parts into text (no regular expressions).
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        // glibc's memmem, which the Glibc module leaves out (a GNU extension).
        .systemLibrary(name: "CMemmem"),
        .target(
            name: "Storage",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What moatd counts (messages, verdicts, connections), through swift-metrics.
        .target(name: "Telemetry", dependencies: [.product(name: "CoreMetrics", package: "swift-metrics")]),
        // DNS: the one lookup protocol SPF, DKIM, DMARC, ARC, blocklists and DANE ask.
        .target(name: "DNS"),
        // libunbound (Debian libunbound-dev): the validating, caching resolver.
        .systemLibrary(name: "CUnbound", providers: [.apt(["libunbound-dev"])]),
        // The scan sandbox's Linux calls (namespaces, mounts, memfd, SCM_RIGHTS) and its
        // seccomp filter (Debian libseccomp-dev).
        .target(name: "CSandbox", linkerSettings: [.linkedLibrary("seccomp")]),
        // moatd's switch from root to [Root] User, for every thread (capabilities are per thread).
        .target(name: "CPrivileges"),
        // Floor 2
        .target(name: "ThreatEngine", dependencies: ["CClamAV", "MoatConfig"], exclude: ["LIMITS.md"]),
        .target(name: "Policy", dependencies: ["MoatConfig"], exclude: ["VARIABLES.md"]),
        // The daemon's one resolver (UnboundResolver: DNSLookup over libunbound, DNSSEC, cache).
        .target(name: "DNSResolver", dependencies: ["DNS", "CUnbound"]),
        // SPF, DKIM, DMARC, ARC (verify and seal), DNS blocklists: who sent the message.
        .target(
            name: "SenderAuth",
            dependencies: [
                "DNS", "MIME",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .target(name: "AntiSpam", dependencies: ["MIME", "MoatConfig", "Storage", "CLibXML2", "CMemmem"]),
        // libclamav in sandboxed worker processes (moat-scan), and moatd's side of them.
        .target(
            name: "ScanSandbox",
            dependencies: ["ThreatEngine", "CSandbox", .product(name: "Logging", package: "swift-log")]
        ),
        // Floor 3
        .target(
            name: "MailD",
            dependencies: [
                "MoatConfig", "MIME", "ThreatEngine", "Policy", "AntiSpam", "Storage", "CZip", "SenderAuth", "Telemetry",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Floor 4: the socket every filter interface listens on, then the interfaces
        .target(
            name: "InterfaceSupport",
            dependencies: [
                "MoatConfig", "MailD", "Telemetry",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "MilterInterface",
            dependencies: [
                "MailD", "MoatConfig", "MIME", "InterfaceSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SpamdInterface",
            dependencies: [
                "MailD", "MoatConfig", "MIME", "InterfaceSupport", "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "RspamdInterface",
            dependencies: [
                "MailD", "MoatConfig", "MIME", "InterfaceSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ClamdInterface",
            dependencies: [
                "MailD", "MoatConfig", "MIME", "InterfaceSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "CertificateStore",
            dependencies: [
                "MoatConfig",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "LinuxFirewall",
            dependencies: [
                "MoatConfig", "CNetfilter",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Gate",
            dependencies: [
                "MailD", "MoatConfig", "MIME", "InterfaceSupport", "CertificateStore", "DNS",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The daemon's service: reload, scan, appinfo, console operations, the engine set-up
        // moat-ctl scan --local shares, log routing; below Control and WebConsole, which serve it.
        .target(
            name: "MoatService",
            dependencies: [
                "MoatConfig", "MailD", "MIME", "ThreatEngine", "ScanSandbox", "AntiSpam", "Storage", "CertificateStore", "CPrivileges", "Telemetry",
                "DNS", "DNSResolver", "SenderAuth",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Control",
            dependencies: [
                "MoatConfig", "MailD", "MoatService", "Storage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "WebConsole",
            dependencies: [
                "MoatConfig", "MailD", "MoatService", "CertificateStore", "Storage",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Floor 5
        .executableTarget(
            name: "moatd",
            dependencies: [
                "MoatConfig", "MoatService", "Control", "MailD", "Policy", "InterfaceSupport",
                "MilterInterface", "SpamdInterface", "RspamdInterface", "ClamdInterface",
                "LinuxFirewall", "Gate", "CertificateStore", "WebConsole", "Telemetry", "DNS", "DNSResolver",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "moat-ctl",
            dependencies: [
                "MoatConfig", "MoatService", "Control", "MailD", "ThreatEngine", "Policy", "CertificateStore", "WebConsole", "Storage",
                "SenderAuth",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The sandboxed scan supervisor and its workers, started by moatd and moat-ctl.
        .executableTarget(name: "moat-scan", dependencies: ["ScanSandbox"]),
        // Writes Sources/MoatConfig/Settings/Generated from the schema: scripts/gen-settings.sh
        .executableTarget(name: "gen-settings", dependencies: ["MoatConfig"], path: "scripts/gen-settings"),
        // Benchmarks (release builds only make sense): `swift run -c release moat-bench`
        .executableTarget(name: "moat-bench", dependencies: ["MailD", "ThreatEngine", "MIME"], path: "Benchmarks/MoatBench"),
        // Benchmarks/AntiSpam/run.sh: k-fold accuracy and speed of the anti-spam engine.
        .executableTarget(name: "moat-spam-bench", dependencies: ["AntiSpam", "MIME", "Storage"], path: "Benchmarks/AntiSpam/Bench"),
        // Benchmarks/Storage/run.sh: the message log searched by recipient on SQLite and PostgreSQL.
        .executableTarget(
            name: "moat-storage-bench",
            dependencies: ["Storage", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/Storage/Bench"
        ),
        .testTarget(name: "MoatConfigTests", dependencies: ["MoatConfig"], exclude: ["Fixtures"]),
        .testTarget(name: "MIMETests", dependencies: ["MIME"]),
        .testTarget(name: "ThreatEngineTests", dependencies: ["ThreatEngine", "MoatConfig"]),
        .testTarget(name: "ScanSandboxTests", dependencies: ["ScanSandbox", "ThreatEngine", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "PolicyTests", dependencies: ["Policy"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "SystemSetupSupport"]),
        .testTarget(name: "DNSTests", dependencies: ["DNS"]),
        // A real NSD with DNSSEC-signed test zones and resolvers pointed at it (not a test target itself).
        .target(name: "DNSTestSupport", dependencies: ["DNS", "DNSResolver", "SystemSetupSupport"], path: "Tests/DNSTestSupport"),
        .testTarget(name: "DNSResolverTests", dependencies: ["DNSResolver", "DNS", "DNSTestSupport"]),
        .testTarget(name: "SenderAuthTests", dependencies: ["SenderAuth", "DNS", "DNSResolver", "DNSTestSupport", .product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto")]),
        .testTarget(name: "AntiSpamTests", dependencies: ["AntiSpam", "MIME", "Storage"]),
        // Machine-wide test set-up (users, shared caches, namespaces) under one lock.
        .target(name: "SystemSetupSupport", path: "Tests/SystemSetupSupport"),
        // Helpers the spamd, rspamd and clamd interface tests share (not a test target itself).
        .target(
            name: "FilterTestSupport",
            dependencies: [
                "MailD", "MoatConfig", "ThreatEngine", "SystemSetupSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/FilterTestSupport"
        ),
        .testTarget(name: "MilterInterfaceTests", dependencies: ["MilterInterface", "InterfaceSupport", "SystemSetupSupport", "MailD", "SenderAuth", "DNS", "DNSResolver", "DNSTestSupport", "ThreatEngine", "ScanSandbox", .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOTestUtils", package: "swift-nio")]),
        .testTarget(name: "SpamdInterfaceTests", dependencies: ["SpamdInterface", "FilterTestSupport", "InterfaceSupport", "SystemSetupSupport", "MailD", "ThreatEngine", .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOTestUtils", package: "swift-nio")]),
        .testTarget(name: "RspamdInterfaceTests", dependencies: ["RspamdInterface", "FilterTestSupport", "InterfaceSupport", "MailD", "ThreatEngine", .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOTestUtils", package: "swift-nio")]),
        .testTarget(name: "ClamdInterfaceTests", dependencies: ["ClamdInterface", "FilterTestSupport", "SystemSetupSupport", "InterfaceSupport", "MailD", "ThreatEngine", .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOTestUtils", package: "swift-nio")]),
        .testTarget(name: "CertificateStoreTests", dependencies: ["CertificateStore", "MoatConfig", .product(name: "X509", package: "swift-certificates")]),
        .testTarget(name: "LinuxFirewallTests", dependencies: ["LinuxFirewall", "MoatConfig", "SystemSetupSupport"]),
        .testTarget(name: "GateTests", dependencies: ["Gate", "MailD", "SystemSetupSupport", "InterfaceSupport", "ThreatEngine", "MoatConfig", "CertificateStore", "DNS", "DNSResolver", "DNSTestSupport", .product(name: "Crypto", package: "swift-crypto"), .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOTLS", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOTestUtils", package: "swift-nio")]),
        .testTarget(name: "MailDTests", dependencies: ["Storage", "MailD", "ThreatEngine", "MoatConfig", "Policy", "SenderAuth", "DNS", "Telemetry", .product(name: "Prometheus", package: "swift-prometheus")]),
        .testTarget(name: "MoatIntegrationTests", dependencies: ["MoatConfig", "Control", "SystemSetupSupport"]),
        .testTarget(name: "MoatServiceTests", dependencies: ["Storage", "SystemSetupSupport", "Control", "MoatService", "MailD", "MoatConfig", "ThreatEngine", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "WebConsoleTests", dependencies: ["WebConsole", "MoatService", "MailD", "MoatConfig", "Policy", "CertificateStore", "Storage", "ThreatEngine", "SystemSetupSupport", "Telemetry", .product(name: "Prometheus", package: "swift-prometheus"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "Logging", package: "swift-log")], exclude: ["Browser"]),
    ]
)
