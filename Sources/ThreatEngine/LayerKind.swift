/// The kinds of nesting the configuration limits separately. libclamav only knows one
/// recursion depth, so Moat sorts the layer types libclamav reports (`CL_TYPE_*`) into kinds
/// and counts each kind among a layer's ancestors.
enum LayerKind: Hashable {
    /// Executables: an executable inside an executable is an unpacked (or dropped) layer.
    case packer
    case archive
    /// Single-stream compression (gzip, bzip2, xz, SZDD). Counted as an archive level, except
    /// directly around an archive: a `.tar.gz` is one archive to its sender, not two.
    case compressor
    /// Attached messages (message/rfc822, mbox, MHTML).
    case mail
    /// Documents with embedded objects: OLE2, OOXML, PDF, RTF, OneNote, HWP, TNEF ...
    case container
    /// Plain data, text, images and normalised layers: not limited by Moat.
    case other

    static let limited: [LayerKind] = [.archive, .mail, .packer, .container]

    init(clamAVType type: String) {
        if Self.packerTypes.contains(type) {
            self = .packer
        } else if Self.compressorTypes.contains(type) {
            self = .compressor
        } else if Self.archiveTypes.contains(type) || type.hasPrefix("CL_TYPE_CPIO") {
            self = .archive
        } else if Self.mailTypes.contains(type) {
            self = .mail
        } else if Self.containerPrefixes.contains(where: type.hasPrefix) {
            self = .container
        } else {
            self = .other
        }
    }

    func maxLevel(in limits: ScanLimits) -> Int {
        switch self {
        case .packer: limits.packerMaxLevel
        case .archive, .compressor: limits.archiveMaxLevel
        case .mail: limits.mailMaxLevel
        case .container: limits.containerMaxLevel
        case .other: Int.max
        }
    }

    /// The configuration parameter reported in `UncheckedReason.limitExceeded`.
    var parameterName: String {
        switch self {
        case .packer: "PackerMaxLevel"
        case .archive, .compressor: "ArchiveMaxLevel"
        case .mail: "MailMaxLevel"
        case .container: "ContainerMaxLevel"
        case .other: "MaxRecursion"
        }
    }

    static let packerTypes: Set<String> = ["CL_TYPE_MSEXE", "CL_TYPE_ELF", "CL_TYPE_MACHO", "CL_TYPE_MACHO_UNIBIN"]

    static let archiveTypes: Set<String> = [
        "CL_TYPE_ZIP", "CL_TYPE_ZIPSFX", "CL_TYPE_RAR", "CL_TYPE_RARSFX", "CL_TYPE_7Z", "CL_TYPE_7ZSFX",
        "CL_TYPE_ARJ", "CL_TYPE_ARJSFX",
        "CL_TYPE_POSIX_TAR", "CL_TYPE_OLD_TAR", "CL_TYPE_MSCAB", "CL_TYPE_CABSFX", "CL_TYPE_MSCHM",
        "CL_TYPE_SIS", "CL_TYPE_AUTOIT", "CL_TYPE_NULSFT", "CL_TYPE_ISO9660", "CL_TYPE_DMG",
        "CL_TYPE_XAR", "CL_TYPE_EGG", "CL_TYPE_EGGSFX", "CL_TYPE_UDF",
        "CL_TYPE_BINHEX", "CL_TYPE_LHA_LZH", "CL_TYPE_ALZ", "CL_TYPE_AI_ZIP", "CL_TYPE_ISHIELD_MSI",
        "CL_TYPE_APM", "CL_TYPE_GPT", "CL_TYPE_MBR",
    ]

    static let compressorTypes: Set<String> = ["CL_TYPE_GZ", "CL_TYPE_BZ", "CL_TYPE_XZ", "CL_TYPE_MSSZDD"]

    static let mailTypes: Set<String> = ["CL_TYPE_MAIL", "CL_TYPE_MHTML"]

    static let containerPrefixes: [String] = [
        "CL_TYPE_MSOLE2", "CL_TYPE_OOXML", "CL_TYPE_XML_", "CL_TYPE_PDF", "CL_TYPE_RTF",
        "CL_TYPE_ONENOTE", "CL_TYPE_HWP", "CL_TYPE_TNEF", "CL_TYPE_SWF", "CL_TYPE_MSWORD",
    ]
}
