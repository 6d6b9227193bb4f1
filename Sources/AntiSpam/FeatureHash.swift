/// Stable 64-bit hashes of features (FNV-1a, then a SplitMix64 finaliser for spread).
///
/// Stable across runs and machines, unlike `Hasher`, because the hashes are stored in the
/// learned model.
enum FeatureHash {
    static func hash(_ prefix: StaticString, _ token: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        prefix.withUTF8Buffer { for b in $0 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
        h = (h ^ 0x1F) &* 0x100_0000_01b3
        for b in token.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return mix(h)
    }

    /// A pair of tokens `distance` words apart (orthogonal sparse bigram).
    static func pair(_ a: UInt64, _ b: UInt64, distance: Int) -> UInt64 {
        mix(a &* 0x9E37_79B9_7F4A_7C15 ^ (b &+ UInt64(distance) &* 0xBF58_476D_1CE4_E5B9))
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
