import CClamAV

/// `struct cl_scan_options` for one scan. Unlike the engine's numeric limits these are passed
/// with every call, so they follow the per-scan `ScanLimits`.
enum ScanOptions {
    static func make(for limits: ScanLimits) -> cl_scan_options {
        // All-match mode: report every threat, and keep scanning after a limit heuristic so a
        // real signature match still wins over "unchecked".
        var general = UInt32(CL_SCAN_GENERAL_ALLMATCHES)
        if limits.heuristicAnalysis {
            general |= UInt32(CL_SCAN_GENERAL_HEURISTICS)
        }
        // Always on, whatever HeuristicAnalysis says: these names are how libclamav tells Moat
        // that something could not be checked; `Verdict` turns them into `UncheckedReason`s.
        let heuristic = UInt32(CL_SCAN_HEURISTIC_EXCEEDS_MAX)
            | UInt32(CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE)
            | UInt32(CL_SCAN_HEURISTIC_ENCRYPTED_DOC)
        return cl_scan_options(general: general, parse: parseAll, heuristic: heuristic, mail: 0, dev: 0)
    }

    /// Every parser, as clamscan and clamd enable by default: a gateway must look inside.
    static let parseAll: UInt32 = UInt32(CL_SCAN_PARSE_ARCHIVE) | UInt32(CL_SCAN_PARSE_ELF)
        | UInt32(CL_SCAN_PARSE_PDF) | UInt32(CL_SCAN_PARSE_SWF) | UInt32(CL_SCAN_PARSE_HWP3)
        | UInt32(CL_SCAN_PARSE_XMLDOCS) | UInt32(CL_SCAN_PARSE_MAIL) | UInt32(CL_SCAN_PARSE_OLE2)
        | UInt32(CL_SCAN_PARSE_HTML) | UInt32(CL_SCAN_PARSE_PE) | UInt32(CL_SCAN_PARSE_ONENOTE)
        | UInt32(CL_SCAN_PARSE_IMAGE) | UInt32(CL_SCAN_PARSE_IMAGE_FUZZY_HASH)
}
