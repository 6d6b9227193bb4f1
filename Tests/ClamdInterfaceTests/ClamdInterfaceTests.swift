import Testing
@testable import ClamdInterface
