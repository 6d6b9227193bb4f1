import Foundation
import Synchronization

/// The state of one scan that libclamav's callbacks read and write. It travels through
/// libclamav as the opaque `context` pointer of `cl_scanmap_callback`/`cl_scanfile_callback`.
///
/// All mutable fields except `cancelled` are touched only by the scanning thread, from inside
/// the synchronous libclamav call, and read by that same thread after the call returns; hence
/// `@unchecked Sendable` (the object is handed to the worker thread once, before the scan).
final class ScanContext: @unchecked Sendable {
    let limits: ScanLimits
    /// Set from another thread when the outer deadline passed: the callbacks then skip every
    /// further layer so libclamav winds down quickly.
    let cancelled = Atomic<Bool>(false)

    /// Every signature name libclamav reported (all-match mode), in order.
    private(set) var matches: [String] = []
    /// What Moat's own limit checks found.
    private(set) var reasons: [UncheckedReason] = []
    /// Types of the layers currently open: `layerTypes[n]` is the type at recursion level n.
    private var layerTypes: [String] = []

    init(limits: ScanLimits) {
        self.limits = limits
    }

    /// The scan the calling thread is running inside libclamav, for callbacks that are not
    /// given it (libclamav's message callback).
    static var current: ScanContext? {
        guard let pointer = pthread_getspecific(currentKey) else { return nil }
        return Unmanaged<ScanContext>.fromOpaque(pointer).takeUnretainedValue()
    }

    private static let currentKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Runs `body` (a synchronous libclamav call) with this scan as the thread's current one.
    func whileCurrent<Result>(_ body: () -> Result) -> Result {
        pthread_setspecific(Self.currentKey, Unmanaged.passUnretained(self).toOpaque())
        defer { pthread_setspecific(Self.currentKey, nil) }
        return withExtendedLifetime(self) { body() }
    }

    func cancel() {
        cancelled.store(true, ordering: .relaxed)
    }

    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    func recordMatch(_ name: String) {
        if !matches.contains(name) { matches.append(name) }
    }

    func record(_ reason: UncheckedReason) {
        if !reasons.contains(reason) { reasons.append(reason) }
    }

    /// Called for every new layer before it is scanned. Returns the limit this layer would
    /// break, or nil when it may be scanned.
    func enterLayer(type: String, level: Int, size: Int, parentSize: Int) -> UncheckedReason? {
        if layerTypes.count > level { layerTypes.removeSubrange(level...) }
        while layerTypes.count < level { layerTypes.append("CL_TYPE_ANY") }  // levels libclamav did not show us
        layerTypes.append(type)

        let ancestors = layerTypes[..<level]
        var depth: [LayerKind: Int] = [:]
        for (index, ancestor) in ancestors.enumerated() {
            var kind = LayerKind(clamAVType: ancestor)
            // The input itself being a message does not make its attachments "attached messages".
            if kind == .mail && index == 0 { continue }
            if kind == .compressor {
                // `layerTypes[index + 1]` exists: index < level and the current layer is at `level`.
                if LayerKind(clamAVType: layerTypes[index + 1]) == .archive { continue }
                kind = .archive
            }
            depth[kind, default: 0] += 1
        }
        for kind in LayerKind.limited where depth[kind, default: 0] > kind.maxLevel(in: limits) {
            return .limitExceeded(kind.parameterName)
        }
        if level > 0, size >= ScanLimits.compressionRatioFloor, parentSize > 0,
           size / parentSize >= limits.maxCompressionRatio, size > parentSize * limits.maxCompressionRatio {
            return .limitExceeded("MaxCompressionRatio")
        }
        return nil
    }

    /// Called for each member an archive declares (zip central directory, rar/7z headers ...).
    func inspectMember(compressedSize: Int, declaredSize: Int, encrypted: Bool) {
        if encrypted { record(.encrypted) }
        if declaredSize >= ScanLimits.compressionRatioFloor, compressedSize > 0,
           declaredSize / compressedSize >= limits.maxCompressionRatio,
           declaredSize > compressedSize * limits.maxCompressionRatio {
            record(.limitExceeded("MaxCompressionRatio"))
        }
    }
}
