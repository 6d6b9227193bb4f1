import Foundation
import HTTPTypes
import Hummingbird

/// The fields of an `application/x-www-form-urlencoded` body or query string.
struct Form: Sendable {
    /// Larger bodies are refused: the longest legitimate field is one rule.
    static let maxBodySize = 64 * 1024

    private(set) var fields: [String: String] = [:]

    init(encoded: String) {
        for pair in encoded.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), !name.isEmpty else { continue }
            let value = parts.count > 1 ? Self.decode(parts[1]) ?? "" : ""
            // The first of repeated fields counts.
            if fields[name] == nil { fields[name] = value }
        }
    }

    static func body(of request: Request) async throws -> Form {
        var request = request
        let buffer = try await request.collectBody(upTo: maxBodySize)
        return Form(encoded: String(buffer: buffer))
    }

    subscript(_ name: String) -> String? { fields[name] }

    private static func decode(_ text: Substring) -> String? {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
