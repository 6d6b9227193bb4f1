import Foundation
import ScanSandbox

// moat-scan: the sandboxed scan supervisor (libclamav runs only in its workers).
//   moat-scan --supervisor            started by moatd, its channel on descriptor 3
//   moat-scan --listen PATH [--scratch DIR] [--client USER]...
//                                     as moat-scan.service: serves the moatd that connects
let usage = """
    usage: moat-scan --listen PATH [--scratch DIR] [--client USER]...
    Moat's sandboxed libclamav workers. moatd starts it itself (--supervisor, a channel on
    descriptor 3), or systemd runs it as moat-scan.service (--listen) and moatd connects.
    """
var arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "--supervisor":
    ScanSupervisor.main()
case "--listen" where arguments.count >= 2:
    let path = arguments[1]
    var scratch = "/run/moat-scan/tmp"
    var clients: [String] = []
    arguments.removeFirst(2)
    while arguments.count >= 2 {
        switch arguments[0] {
        case "--scratch": scratch = arguments[1]
        case "--client": clients.append(arguments[1])
        default:
            FileHandle.standardError.write(Data("moat-scan: unknown option \(arguments[0])\n".utf8))
            exit(64)
        }
        arguments.removeFirst(2)
    }
    ScanSupervisor.listen(at: path, scratch: scratch, clients: clients.isEmpty ? ["moat"] : clients)
case "--help", "-h":
    print(usage)
default:
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(64)
}
