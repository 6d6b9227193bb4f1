// moat-spam-bench: k-fold accuracy, speed and model size of Moat's anti-spam engine on the
// labelled messages of the shared corpus. Benchmarks/AntiSpam/run.sh runs it beside
// SpamAssassin and rspamd on the same folds and prints the comparison.
//
//   moat-spam-bench folds  CORPUS K OUT   write OUT/folds.tsv (path, label, fold) only
//   moat-spam-bench run    CORPUS K OUT   score every fold: OUT/moat.tsv, OUT/moat-rules.tsv,
//                                          OUT/moat-speed.txt, OUT/moat-memory.txt
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 4, let k = Int(arguments[2]), k >= 2 else {
    FileHandle.standardError.write(Data("usage: moat-spam-bench folds|run CORPUS K OUT\n".utf8))
    exit(64)
}
let corpus = Corpus(directory: arguments[1], folds: k)
let out = arguments[3]
try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
try corpus.writeFolds(to: out + "/folds.tsv")
if arguments[0] == "run" {
    try KFoldRun(corpus: corpus, out: out).run()
}
