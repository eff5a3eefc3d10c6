import COpenSSL

/// OpenSSL's allocations in a `SlabHeap` of their own (`CRYPTO_set_mem_functions`, OpenSSL 3
/// crypto.h), so that what handshakes allocate and free does not fragment the process heap
/// that holds the long-lived per-viewer state (docs/PERFORMANCE.md, memory per subscriber).
///
/// OpenSSL accepts the functions only before its first allocation: `install()` must be the
/// first thing an executable does (shihui-server's `ServerMain` calls it before anything else);
/// it returns false when too late, and OpenSSL then keeps using malloc.
public enum CryptoHeap {
    static let heap = SlabHeap()
    nonisolated(unsafe) private static var installed = false

    /// Routes OpenSSL's malloc/realloc/free to the crypto heap. True when OpenSSL took them.
    @discardableResult
    public static func install() -> Bool {
        if installed { return true }
        let ok = CRYPTO_set_mem_functions(
            { size, _, _ in CryptoHeap.heap.allocate(size) },
            { pointer, size, _, _ in CryptoHeap.heap.reallocate(pointer, size) },
            { pointer, _, _ in CryptoHeap.heap.free(pointer) }) == 1
        installed = ok
        return ok
    }

    /// Unmaps the empty slabs kept for the next handshakes (call when none is in flight).
    public static func releaseEmptySlabs() { heap.releaseEmptySlabs() }

    /// Mapped and live bytes of the crypto heap (zero when not installed).
    public static var usage: SlabHeap.Usage { heap.current }
}
