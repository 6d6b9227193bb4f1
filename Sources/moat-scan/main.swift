import Foundation
import ScanSandbox

// moat-scan: the sandboxed scan supervisor moatd starts (and `moat-ctl scan --local`). It is
// not meant to be run by hand: it expects its channel to moatd as descriptor 3.
if CommandLine.arguments.dropFirst().first == "--supervisor" {
    ScanSupervisor.main()
}
FileHandle.standardError.write(Data("""
    moat-scan: Moat's sandboxed libclamav workers. moatd starts it with --supervisor and a
    channel on descriptor 3; it is not run by hand.

    """.utf8))
exit(64)
