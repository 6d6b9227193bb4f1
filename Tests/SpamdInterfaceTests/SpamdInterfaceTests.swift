import Testing
@testable import SpamdInterface
