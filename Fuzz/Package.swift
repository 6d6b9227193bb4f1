// swift-tools-version:6.1
// libFuzzer targets for every parser and state machine that reads bytes from a network peer.
// A package of its own so that Moat's `swift build` / `swift test` never see it: the modules
// under test are Moat's own sources (symlinked under Modules/), compiled with libFuzzer's
// coverage and AddressSanitizer; the floors below them and the dependencies are built
// normally (release). Build and run through Fuzz/run.sh:
//   swift build -c release --package-path Fuzz
import PackageDescription

/// Coverage + ASan for the modules under test; -enable-testing so the targets reach internal
/// types (`@testable import`).
let instrumented: [SwiftSetting] = [.unsafeFlags(["-sanitize=fuzzer,address", "-enable-testing"])]
/// lld: gold fails on the renamed entry point of an executable linked with -sanitize=fuzzer.
let fuzzerLink: [LinkerSetting] = [.unsafeFlags(["-sanitize=fuzzer,address", "-use-ld=lld"])]

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "NIOEmbedded", package: "swift-nio"),
    .product(name: "Logging", package: "swift-log"),
]

/// One libFuzzer executable: Targets/<name>/main.swift.
func fuzzer(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzKit"] + dependencies + nio, path: "Targets/\(name)",
                      swiftSettings: instrumented, linkerSettings: fuzzerLink)
}

let package = Package(
    name: "MoatFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // Moat's floors below the modules under test, as in ../Package.swift (not instrumented).
        .target(name: "MoatConfig", path: "Modules/MoatConfig"),
        .target(name: "MIME", path: "Modules/MIME"),
        .systemLibrary(name: "CClamAV", path: "Modules/CClamAV", pkgConfig: "libclamav"),
        .systemLibrary(name: "CZip", path: "Modules/CZip", pkgConfig: "libzip"),
        .systemLibrary(name: "CZlib", path: "Modules/CZlib", pkgConfig: "zlib"),
        .systemLibrary(name: "CLibXML2", path: "Modules/CLibXML2", pkgConfig: "libxml-2.0"),
        .systemLibrary(name: "CMemmem", path: "Modules/CMemmem"),
        .target(name: "CPrivileges", path: "Modules/CPrivileges"),
        .systemLibrary(name: "CUnbound", path: "Modules/CUnbound"),
        .target(name: "Telemetry", dependencies: [.product(name: "CoreMetrics", package: "swift-metrics")], path: "Modules/Telemetry"),
        .target(name: "DNSResolver", dependencies: ["DNS", "CUnbound"], path: "Modules/DNSResolver"),
        .target(name: "Storage", dependencies: [
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Modules/Storage"),
        .target(name: "ThreatEngine", dependencies: ["CClamAV", "MoatConfig"], path: "Modules/ThreatEngine", exclude: ["LIMITS.md"]),
        .target(name: "Policy", dependencies: ["MoatConfig"], path: "Modules/Policy", exclude: ["VARIABLES.md"]),
        .target(name: "MailD", dependencies: [
            "MoatConfig", "MIME", "ThreatEngine", "Policy", "AntiSpam", "Storage", "CZip", "SenderAuth", "Telemetry",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Modules/MailD", swiftSettings: [.unsafeFlags(["-enable-testing"])]),  // Decision's memberwise init
        // Instrumented: spamd's and rspamd's decoders read their request lines with its `RequestLine`.
        .target(name: "InterfaceSupport", dependencies: [
            "MoatConfig", "MailD", "Telemetry",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], path: "Modules/InterfaceSupport", swiftSettings: instrumented),
        .target(name: "CertificateStore", dependencies: [
            "MoatConfig",
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ], path: "Modules/CertificateStore"),
        .target(name: "CSandbox", path: "Modules/CSandbox", linkerSettings: [.linkedLibrary("seccomp")]),
        .target(name: "ScanSandbox", dependencies: [
            "ThreatEngine", "CSandbox", .product(name: "Logging", package: "swift-log"),
        ], path: "Modules/ScanSandbox"),
        .target(name: "MoatService", dependencies: [
            "MoatConfig", "MailD", "MIME", "Storage", "ThreatEngine", "ScanSandbox", "CertificateStore", "CPrivileges",
            "Telemetry", "DNS", "DNSResolver", "SenderAuth",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ], path: "Modules/MoatService"),

        // The modules under test: instrumented.
        .target(name: "MilterInterface", dependencies: ["MailD", "MoatConfig", "Policy", "MIME", "InterfaceSupport"] + nio,
                path: "Modules/MilterInterface", swiftSettings: instrumented),
        .target(name: "SpamdInterface", dependencies: ["MailD", "MoatConfig", "Policy", "MIME", "InterfaceSupport", "CZlib"] + nio,
                path: "Modules/SpamdInterface", swiftSettings: instrumented),
        .target(name: "RspamdInterface", dependencies: ["MailD", "MoatConfig", "Policy", "MIME", "InterfaceSupport",
                                                         .product(name: "NIOHTTP1", package: "swift-nio")] + nio,
                path: "Modules/RspamdInterface", swiftSettings: instrumented),
        .target(name: "ClamdInterface", dependencies: ["MailD", "MoatConfig", "Policy", "MIME", "InterfaceSupport"] + nio,
                path: "Modules/ClamdInterface", swiftSettings: instrumented),
        .target(name: "Gate", dependencies: [
            "MailD", "MoatConfig", "MIME", "Policy", "InterfaceSupport", "CertificateStore", "DNS",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ] + nio, path: "Modules/Gate", swiftSettings: instrumented),
        .target(name: "Control", dependencies: [
            "MoatConfig", "MailD", "MoatService", "Storage", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ] + nio, path: "Modules/Control", swiftSettings: instrumented),
        .target(name: "WebConsole", dependencies: [
            "MoatConfig", "MailD", "MoatService", "CertificateStore", "Storage",
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ] + nio, path: "Modules/WebConsole", swiftSettings: instrumented),

        .target(name: "AntiSpam", dependencies: ["MIME", "MoatConfig", "Storage", "CLibXML2", "CMemmem"],
                path: "Modules/AntiSpam", swiftSettings: instrumented),

        // Sender authentication: the DKIM/ARC tag lists, key and DMARC records (instrumented).
        .target(name: "DNS", path: "Modules/DNS"),
        .target(name: "SenderAuth", dependencies: [
            "DNS", "MIME",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
        ], path: "Modules/SenderAuth", swiftSettings: instrumented),

        // What every target shares: the driver and the split/choice helpers.
        .target(name: "CFuzzDriver", path: "Targets/CFuzzDriver"),
        .target(name: "FuzzKit", dependencies: ["CFuzzDriver", .product(name: "NIOCore", package: "swift-nio")],
                path: "Targets/FuzzKit", swiftSettings: instrumented),

        fuzzer("FuzzMilterCodec", ["MilterInterface"]),
        fuzzer("FuzzMilterSession", ["MilterInterface", "MailD"]),
        fuzzer("FuzzSpamd", ["SpamdInterface"]),
        fuzzer("FuzzRspamd", ["RspamdInterface"]),
        fuzzer("FuzzClamd", ["ClamdInterface"]),
        fuzzer("FuzzSMTPLines", ["Gate"]),
        fuzzer("FuzzSMTPSession", ["Gate"]),
        fuzzer("FuzzPOP3Codec", ["Gate"]),
        fuzzer("FuzzPOP3Session", ["Gate", "MailD"]),
        fuzzer("FuzzIMAPCodec", ["Gate"]),
        fuzzer("FuzzIMAPSession", ["Gate", "MailD"]),
        fuzzer("FuzzControlFrames", ["Control"]),
        fuzzer("FuzzConsoleForm", ["WebConsole", .product(name: "Hummingbird", package: "hummingbird"),
                                   .product(name: "HTTPTypes", package: "swift-http-types")]),
        fuzzer("FuzzSpamTokenizer", ["AntiSpam"]),
        fuzzer("FuzzSpamHTML", ["AntiSpam", "MIME"]),
        fuzzer("FuzzDKIMSignature", ["SenderAuth"]),
        fuzzer("FuzzDKIMKeyRecord", ["SenderAuth"]),
        fuzzer("FuzzTLSHello", ["Gate", .product(name: "NIOTLS", package: "swift-nio"), "MailD", "Policy", "MoatConfig"]),
    ]
)
