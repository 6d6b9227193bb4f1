import CClamAV

/// Turns what libclamav said about one scan (return code, signature names) and what Moat's
/// callbacks found into a `ScanResult`.
///
/// Precedence: any real threat → `.threats`; else any reason the input could not be fully
/// checked → `.unchecked` (the highest-ranked reason); else `.clean`.
enum Verdict {
    static func make(code: cl_error_t, virname: String?, context: ScanContext) -> ScanResult {
        var names = context.matches
        if code == CL_VIRUS, let virname, !names.contains(virname) { names.append(virname) }

        var threats: [Threat] = []
        var reasons = context.reasons
        for name in names {
            if let reason = uncheckedReason(forHeuristic: name) {
                reasons.append(reason)
            } else {
                let threat = Threat(clamAVName: name)
                if !threats.contains(threat) { threats.append(threat) }
            }
        }
        if let reason = uncheckedReason(forCode: code) { reasons.append(reason) }

        if !threats.isEmpty { return .threats(threats) }
        if let worst = reasons.max(by: { $0.rank < $1.rank }) { return .unchecked(worst) }
        return .clean
    }

    /// libclamav reports "could not look" as heuristic detections when
    /// `CL_SCAN_HEURISTIC_EXCEEDS_MAX` / `..._ENCRYPTED_*` are set. These are not threats.
    static func uncheckedReason(forHeuristic rawName: String) -> UncheckedReason? {
        let name = ThreatClassifier.stripUnofficialSuffix(rawName)
        let limitPrefix = "Heuristics.Limits.Exceeded."
        if name.hasPrefix(limitPrefix) {
            let limit = String(name.dropFirst(limitPrefix.count))
            return limit == "MaxScanTime" ? .timeout : .limitExceeded(limit)
        }
        if name.hasPrefix("Heuristics.Encrypted.") { return .encrypted }
        return nil
    }

    static func uncheckedReason(forCode code: cl_error_t) -> UncheckedReason? {
        switch code {
        case CL_CLEAN, CL_VIRUS, CL_BREAK, CL_VERIFIED: nil
        case CL_ETIMEOUT: .timeout
        case CL_EMAXREC: .limitExceeded("MaxRecursion")
        case CL_EMAXSIZE: .limitExceeded("MaxScanSize")
        case CL_EMAXFILES: .limitExceeded("MaxFiles")
        case CL_EFORMAT, CL_EPARSE, CL_EUNPACK: .malformed(ClamLibrary.describe(code))
        default: .engineError(ClamLibrary.describe(code))
        }
    }
}
