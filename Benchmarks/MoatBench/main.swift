// moat-bench: throughput and memory of MailCore.check next to the raw engine and clamscan.
//
//   swift run -c release moat-bench corpus [CORPUS_DIR]   messages/s and MB/s over the corpus
//   swift run -c release moat-bench large [MB]            one message with an MB-sized attachment
//   swift run -c release moat-bench memory [MB]           peak resident memory growth of check
//   moat-bench smtp-load --host H --port P --sessions N --messages M --size BYTES [--per-connection K]
//                                                         SMTP load: messages/s and latency (SmtpLoad.swift)
//   moat-bench clamd-load --port P --file-list F [--clients N] [--requests R]
//                                                         zINSTREAM load on a clamd-protocol server (ClamdLoad.swift)
//
// "engine" scans the same message bytes with libclamav alone (its own mail parser decodes the
// parts): the floor Moat's overhead is measured against. "clamscan" runs the command-line
// scanner on the same files with the same signatures, start-up time subtracted.
import Foundation
import MailD
import ThreatEngine

let arguments = CommandLine.arguments.dropFirst()
let mode = arguments.first ?? "corpus"

switch mode {
case "corpus":
    let directory = arguments.dropFirst().first ?? Bench.defaultCorpus
    await CorpusBench.run(directory: directory)
case "large":
    await LargeBench.run(megabytes: Int(arguments.dropFirst().first ?? "") ?? 50)
case "memory":
    await MemoryBench.run(megabytes: Int(arguments.dropFirst().first ?? "") ?? 50)
case "smtp-load":
    SmtpLoad.run(Array(arguments.dropFirst()))
case "clamd-load":
    ClamdLoad.run(Array(arguments.dropFirst()))
default:
    FileHandle.standardError.write(Data("usage: moat-bench corpus [DIR] | large [MB] | memory [MB] | smtp-load ... | clamd-load ...\n".utf8))
    exit(64)
}
