import Testing
@testable import MilterInterface
