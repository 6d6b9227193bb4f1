import Testing
@testable import RspamdInterface
