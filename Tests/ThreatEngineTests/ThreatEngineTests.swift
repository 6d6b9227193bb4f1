import Testing
@testable import ThreatEngine
