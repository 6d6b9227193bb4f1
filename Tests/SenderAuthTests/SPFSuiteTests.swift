import DNS
import Foundation
import Testing
@testable import SenderAuth

/// The openspf.org RFC 7208 test suite (release 2014.04), every case, against the zone data of
/// each scenario. The YAML comes with Debian's python3-spf (its licence does not clearly cover
/// copying the data, so it is read from the installed package, not committed); python3-yaml
/// turns it into JSON.
@Suite struct SPFSuiteTests {
    static let suitePath = "/usr/share/doc/python3-spf/rfc7208-tests.yml.gz"

    struct Case {
        var scenario: String
        var name: String
        var host: String
        var mailFrom: String
        var helo: String
        var results: [String]
        var explanation: String?
        var zone: SPFSuiteZone
    }

    static func loadCases() throws -> [Case] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", """
            import gzip, json, sys, yaml
            with gzip.open(sys.argv[1], "rt", encoding="utf-8") as f:
                print(json.dumps(list(yaml.safe_load_all(f))))
            """, suitePath]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let scenarios = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw SPFSuiteZone.Failure(description: "cannot read \(suitePath) (python3-spf, python3-yaml)")
        }
        var cases: [Case] = []
        for scenario in scenarios {
            let zone = SPFSuiteZone(scenario["zonedata"] as? [String: Any] ?? [:])
            let title = scenario["description"] as? String ?? "?"
            for (name, value) in scenario["tests"] as? [String: Any] ?? [:] {
                guard let test = value as? [String: Any] else { continue }
                let results = (test["result"] as? [String]) ?? [test["result"] as? String ?? "?"]
                cases.append(Case(scenario: title, name: name, host: test["host"] as? String ?? "",
                                  mailFrom: test["mailfrom"] as? String ?? "", helo: test["helo"] as? String ?? "",
                                  results: results, explanation: test["explanation"] as? String, zone: zone))
            }
        }
        return cases.sorted { ($0.scenario, $0.name) < ($1.scenario, $1.name) }
    }

    @Test func everyCaseOfTheRFC7208SuitePasses() async throws {
        let cases = try Self.loadCases()
        #expect(cases.count > 200)
        var failures: [String] = []
        for test in cases {
            let checker = SPFChecker(lookup: test.zone, deadline: .seconds(3600), receiver: "unknown")
            let check = await checker.check(ip: test.host, sender: test.mailFrom, helo: test.helo)
            var ok = test.results.contains(check.result.rawValue)
            if let wanted = test.explanation, check.result == .fail, (check.exp ?? "DEFAULT") != wanted {
                ok = false
            }
            if !ok {
                failures.append("\(test.name) [\(test.scenario)]: want \(test.results) exp \(test.explanation ?? "-"), got \(check.result.rawValue) exp \(check.exp ?? "-") (\(check.explanation))")
            }
        }
        print("RFC 7208 suite: \(cases.count - failures.count) passed, \(failures.count) failed of \(cases.count)")
        for failure in failures { print("  " + failure) }
        #expect(failures.isEmpty, "\(failures.count) of \(cases.count) cases fail")
    }
}

/// A scenario's zone data answered the way the suite's reference driver (pyspf's testspf.py)
/// answers it: `TIMEOUT` entries time out, SPF-type records double as TXT when a name has no
/// TXT, one level of CNAME is followed, `error.` names that are not there time out, a label
/// over 63 bytes is an error.
struct SPFSuiteZone: DNSLookup {
    struct Failure: Error, CustomStringConvertible { var description: String }

    enum Entry: Sendable {
        case timeout
        case record(DNSRecordType?, DNSRecord?, cnameTarget: String?)
    }

    var names: [String: [Entry]] = [:]

    init(_ data: [String: Any]) {
        for (name, value) in data {
            var entries: [Entry] = []
            var spf: [DNSRecord] = []
            var hasTXT = false
            for item in value as? [Any] ?? [] {
                if let word = item as? String, word == "TIMEOUT" { entries.append(.timeout); continue }
                guard let map = item as? [String: Any], let (type, raw) = map.first else { continue }
                if raw as? String == "TIMEOUT" { entries.append(.timeout); continue }
                switch type {
                case "SPF", "TXT":
                    let strings = (raw as? [String]) ?? [raw as? String ?? ""]
                    if strings == ["NONE"] { if type == "TXT" { hasTXT = true }; continue }
                    let record = DNSRecord.txt(strings.map { Array($0.utf8) })
                    if type == "TXT" { hasTXT = true; entries.append(.record(.txt, record, cnameTarget: nil)) } else { spf.append(record) }
                case "A":
                    entries.append(.record(.a, SPFAddress(raw as? String ?? "").map { .a($0.bytes) }, cnameTarget: nil))
                case "AAAA":
                    let bytes = SPFAddress(raw as? String ?? "").map { $0.isIPv4 ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] + $0.bytes : $0.bytes }
                    entries.append(.record(.aaaa, bytes.map { .aaaa($0) }, cnameTarget: nil))
                case "MX":
                    let pair = raw as? [Any] ?? []
                    entries.append(.record(.mx, .mx(preference: UInt16(pair.first as? Int ?? 0), exchange: DNSName.normalized(pair.last as? String ?? "")), cnameTarget: nil))
                case "PTR":
                    entries.append(.record(.ptr, .ptr(DNSName.normalized(raw as? String ?? "")), cnameTarget: nil))
                case "CNAME":
                    entries.append(.record(.cname, .cname(DNSName.normalized(raw as? String ?? "")), cnameTarget: DNSName.normalized(raw as? String ?? "")))
                default:
                    entries.append(.record(nil, nil, cnameTarget: nil))
                }
            }
            if !hasTXT { entries += spf.map { .record(.txt, $0, cnameTarget: nil) } }
            names[DNSName.normalized(name)] = entries
        }
    }

    func lookup(_ name: String, _ type: DNSRecordType) async -> DNSAnswer {
        answer(name, type, level: 0)
    }

    func answer(_ name: String, _ type: DNSRecordType, level: Int) -> DNSAnswer {
        let labels = name.split(separator: ".")
        if labels.contains(where: { $0.utf8.count > 63 }) { return DNSAnswer(.temporaryFailure("DNS label too long")) }
        let key = labels.joined(separator: ".").lowercased()
        guard let entries = names[key] else {
            return DNSAnswer(key.hasPrefix("error.") ? .temporaryFailure("DNS timeout") : .nxdomain)
        }
        var records: [DNSRecord] = []
        var sawType = false
        for entry in entries {
            switch entry {
            case .timeout:
                if !sawType { return DNSAnswer(.temporaryFailure("DNS timeout")) }
                return DNSAnswer(records.isEmpty ? .noData : .records(records))
            case .record(let recordType, let record, let target):
                if recordType == type { sawType = true; if let record { records.append(record) } }
                if let target, type != .cname, level == 0 {
                    let followed = answer(target, type, level: 1)
                    if followed.isTemporaryFailure { return followed }
                    records += followed.records
                }
            }
        }
        return DNSAnswer(records.isEmpty ? .noData : .records(records))
    }
}
