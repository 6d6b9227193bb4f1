import CClamAV

/// The C callbacks Moat installs on every engine. They are plain functions (no captures);
/// the per-scan `ScanContext` arrives as libclamav's opaque context pointer.
enum ScanCallbacks {
    static func install(on engine: OpaquePointer) {
        cl_engine_set_clcb_virus_found(engine) { _, virname, context in
            guard let context, let virname else { return }
            ScanCallbacks.context(context).recordMatch(String(cString: virname))
        }
        cl_engine_set_clcb_file_inspection(engine) {
            _, type, _, parentSize, _, fileSize, _, level, _, context in
            guard let context else { return CL_CLEAN }
            let scan = ScanCallbacks.context(context)
            if scan.isCancelled {
                // Past the deadline: skip every further layer ("allowed", i.e. not scanned) so
                // libclamav returns soon; the caller has already been told `.timeout`.
                scan.record(.timeout)
                return CL_BREAK
            }
            let typeName = type.map { String(cString: $0) } ?? "CL_TYPE_ANY"
            if let exceeded = scan.enterLayer(type: typeName, level: Int(level),
                                              size: fileSize, parentSize: parentSize) {
                scan.record(exceeded)
                return CL_BREAK
            }
            return CL_CLEAN
        }
        cl_engine_set_clcb_meta(engine) { _, compressedSize, _, realSize, encrypted, _, context in
            guard let context else { return CL_CLEAN }
            ScanCallbacks.context(context).inspectMember(
                compressedSize: Int(clamping: compressedSize),
                declaredSize: Int(clamping: realSize),
                encrypted: encrypted != 0)
            return CL_CLEAN
        }
    }

    static func context(_ pointer: UnsafeMutableRawPointer) -> ScanContext {
        Unmanaged<ScanContext>.fromOpaque(pointer).takeUnretainedValue()
    }
}
