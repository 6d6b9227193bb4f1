import Foundation

/// Attachments that run when opened, and names made to look like something else.
struct AttachmentRules: SpamRule {
    static let executable: Set<String> = [
        "exe", "scr", "pif", "com", "bat", "cmd", "vbs", "vbe", "js", "jse", "wsf", "wsh", "hta", "msi", "jar",
        "lnk", "ps1", "cpl", "reg", "iso", "img",
    ]
    static let looksHarmless: Set<String> = [
        "pdf", "doc", "docx", "xls", "xlsx", "txt", "jpg", "jpeg", "png", "gif", "zip", "rtf", "htm", "html", "mp3",
    ]

    func evaluate(_ m: AnalysedMessage, now: Date, into symbols: inout [SpamSymbol]) {
        var executable = false, double = false
        for a in m.attachments {
            let parts = a.filename.lowercased().split(separator: ".").map { String($0).trimmingWhitespace() }
            guard parts.count >= 2, let ext = parts.last else { continue }
            if Self.executable.contains(ext) {
                executable = true
                if parts.count >= 3, Self.looksHarmless.contains(parts[parts.count - 2]) { double = true }
            }
        }
        if double {
            symbols.append(.init(name: "ATTACH_DOUBLE_EXT", score: 4.0, description: "attachment name hides an executable behind a document extension"))
        } else if executable {
            symbols.append(.init(name: "ATTACH_EXECUTABLE", score: 3.0, description: "executable attachment"))
        }
    }
}
