/// Position of a part in the tree, e.g. `1.2.3`.
///
/// The root is the empty path (printed as `root`). Children of a multipart are numbered
/// from 1. The message inside a message/rfc822 part at `P` is `P.0` (0 is never a child
/// number, so the path stays unambiguous). Uuencoded blocks found inside a text leaf
/// at `P` are `P.1`, `P.2`, ... (a leaf has no other children).
public struct PartPath: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public var components: [Int]

    public init(_ components: [Int]) { self.components = components }
    public init(arrayLiteral elements: Int...) { self.components = elements }

    /// Parses `"1.2.3"`; `"root"` or `""` is the root. Returns nil on anything else.
    public init?(_ string: String) {
        if string.isEmpty || string == "root" { self.components = []; return }
        var parts: [Int] = []
        for piece in string.split(separator: ".", omittingEmptySubsequences: false) {
            guard let n = Int(piece), n >= 0 else { return nil }
            parts.append(n)
        }
        self.components = parts
    }

    public static let root = PartPath([])

    public var isRoot: Bool { components.isEmpty }
    public var depth: Int { components.count }
    public var parent: PartPath? { isRoot ? nil : PartPath(Array(components.dropLast())) }

    public func appending(_ index: Int) -> PartPath { PartPath(components + [index]) }

    public var description: String {
        isRoot ? "root" : components.map(String.init).joined(separator: ".")
    }

    /// Document order: a parent sorts before its descendants.
    public static func < (lhs: PartPath, rhs: PartPath) -> Bool {
        lhs.components.lexicographicallyPrecedes(rhs.components)
    }
}
