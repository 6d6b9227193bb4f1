/// How a message's parts are grouped into worker requests. Each request costs a round trip
/// between processes, a memfd and a few wake-ups (about 0.1-0.2 ms of CPU), which dominates
/// small parts: a message of twenty small parts is scanned faster as one request. Large parts
/// still go one per request, so that several workers share a big message.
enum PartBatches {
    /// Parts of at least this size go alone.
    static let largePart = 256 * 1024
    /// A request holds at most this many bytes of small parts...
    static let maximumBytes = 1024 * 1024
    /// ...and this many parts (each span and its name travel in one datagram of 64 KB).
    static let maximumParts = 64

    /// Consecutive index ranges covering every part once, in order.
    static func split(sizes: [Int]) -> [Range<Int>] {
        var batches: [Range<Int>] = []
        var start = 0
        var bytes = 0
        for (index, size) in sizes.enumerated() {
            let alone = size >= largePart
            let full = index - start >= maximumParts || bytes + size > maximumBytes
            if index > start, alone || full || sizes[index - 1] >= largePart {
                batches.append(start..<index)
                start = index
                bytes = 0
            }
            bytes += size
        }
        if start < sizes.count { batches.append(start..<sizes.count) }
        return batches
    }
}
