import Foundation

/// The labelled messages of the corpus (INDEX.tsv `label` ham/spam) split into k folds.
///
/// The split is fixed by a hash of each path (not by file order, which groups sources), so
/// every engine and every run gets the same folds.
struct Corpus {
    struct Entry {
        var path: String
        var isSpam: Bool
        var fold: Int
    }

    let directory: String
    let entries: [Entry]
    let folds: Int

    init(directory: String, folds: Int) {
        self.directory = directory
        self.folds = folds
        let index = (try? String(contentsOfFile: directory + "/INDEX.tsv", encoding: .utf8)) ?? ""
        var entries: [Entry] = []
        for row in index.split(separator: "\n").dropFirst() {
            let columns = row.split(separator: "\t", omittingEmptySubsequences: false)
            guard columns.count >= 4, columns[3] == "spam" || columns[3] == "ham" else { continue }
            let path = String(columns[0])
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in path.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            entries.append(Entry(path: path, isSpam: columns[3] == "spam", fold: Int(h % UInt64(folds))))
        }
        guard !entries.isEmpty else { fatalError("no labelled messages in \(directory)/INDEX.tsv") }
        self.entries = entries
    }

    func writeFolds(to file: String) throws {
        var text = "path\tlabel\tfold\n"
        for e in entries { text += "\(e.path)\t\(e.isSpam ? "spam" : "ham")\t\(e.fold)\n" }
        try text.write(toFile: file, atomically: true, encoding: .utf8)
    }

    /// The message as an MTA would pass it on: without the mbox `From ` line.
    func bytes(of entry: Entry) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: directory + "/" + entry.path) else { return [] }
        var bytes = [UInt8](data)
        if bytes.starts(with: Array("From ".utf8)), let lf = bytes.firstIndex(of: 0x0A) { bytes.removeSubrange(...lf) }
        return bytes
    }
}
