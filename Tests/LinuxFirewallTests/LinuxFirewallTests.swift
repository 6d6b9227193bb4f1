import Testing
@testable import LinuxFirewall
