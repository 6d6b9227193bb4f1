/// The small signature database Moat ships for hosts without ClamAV's databases (no freshclam,
/// no network): it detects only the industry test files, so the whole pipeline, from scan to
/// rule to action, can be tested end to end. It detects no real malware; `ThreatScanner` says so
/// in `SignatureInfo.warnings`.
///
/// The text was made with ClamAV's own tools and is kept verbatim:
/// - `moat-builtin.hdb`: `sigtool --md5 /usr/share/clamav-testfiles/clam.exe`, renamed to the
///   official name. libclamav unpacks every file in Debian's clamav-testfiles (packed PEs,
///   zip/7z/arj/cab/chm/cpio/tar.gz/bz2, mail, TNEF, OLE2, PDF, RTF, HTML, InstallShield ...) down
///   to this same 544-byte clam.exe, so one hash finds them all.
/// - `moat-builtin.ndb`: a body signature (target 0 = any file, offset `*` = anywhere) on the hex
///   of the complete 68-byte EICAR string, so the file is found with or without a trailing
///   newline, inside archives and in mail bodies.
enum BuiltinSignatures {
    /// File name → content. File extensions tell libclamav the database format.
    static let files: [(name: String, content: String)] = [
        ("moat-builtin.hdb", hashSignatures),
        ("moat-builtin.ndb", bodySignatures),
    ]

    /// `MD5:size:Name`
    static let hashSignatures = """
        aa15bcf478d165efd2065190eb473bcb:544:Clamav.Test.File-6

        """

    /// `Name:TargetType:Offset:HexSignature`. The hex is
    /// `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`.
    static let bodySignatures = """
        Moat.Test.EICAR:0:*:58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a

        """

    /// Number of signatures above; `cl_load` reports the same count.
    static let count = 2
}
