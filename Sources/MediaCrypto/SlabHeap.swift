import Glibc

/// A heap of its own for OpenSSL (installed by `CryptoHeap`): size-class slabs, each its own
/// anonymous mapping, unmapped as soon as its last block is freed.
///
/// Why: a DTLS handshake allocates ~60 KB in OpenSSL and frees ~50 KB of it at connect. In the
/// process heap those freed chunks sit between the long-lived state allocated meanwhile (the
/// transport, SRTP keys, signaling), so a 1,000-viewer join storm left every page holding one
/// live chunk resident: ~11 KiB of RSS per viewer for ~4.4 KiB live (docs/PERFORMANCE.md,
/// memory per subscriber). Here a handshake's blocks share slabs only with other handshakes'
/// blocks, and the slabs go back to the kernel whole once their handshakes are done.
///
/// Blocks carry a 16-byte header (the slab it belongs to, or the size of a direct mapping) and
/// are 16-byte aligned. Requests above the largest class get a mapping each. Not a general
/// allocator: one lock for all threads, which suits OpenSSL's use here (handshakes, contexts
/// made once; the packet path's cipher calls allocate nothing, tested). No Foundation.
///
/// @unchecked Sendable: every member that touches the slabs runs under `mutex`.
public final class SlabHeap: @unchecked Sendable {
    /// Payload sizes of the block classes, bytes (multiples of 16).
    static let classSizes: [Int] = [16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512,
                                    640, 768, 896, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096,
                                    5120, 6144, 7168, 8192, 10240, 12288, 16384]
    static let blockHeader = 16
    /// Room for `Slab` at the start of a slab, a multiple of 16 (checked in `init`).
    static let slabHeader = 128
    static let pageSize = 4096
    /// Bytes of empty slabs kept mapped for the next handshakes instead of unmapped at once:
    /// mapping fresh slabs for every handshake (page faults on first touch) made handshakes 30 %
    /// slower; a storm's working set fits in this, and no more stays resident after it.
    let emptyBytesKept: Int

    /// What the heap holds now: bytes mapped (slabs and direct mappings) and bytes requested by
    /// live blocks.
    public struct Usage: Sendable, Equatable {
        public var mappedBytes = 0
        public var liveBytes = 0
        public var liveBlocks = 0
        public var slabs = 0
        /// Blocks handed out since the heap was made (allocations and growing reallocations).
        public var allocations = 0
    }

    /// Slab layout at the start of its mapping (`slabHeader` bytes reserved; the first block's header follows).
    private struct Slab {
        var classIndex: Int
        var mappingBytes: Int
        var capacity: Int
        var live: Int
        var bumped: Int  // blocks handed out from the never-used tail
        var freeList: UnsafeMutableRawPointer?
        var next: UnsafeMutablePointer<Slab>?
        var previous: UnsafeMutablePointer<Slab>?
        var listed: Bool
        /// Empty and kept (counted in `Counters.emptyBytes`) rather than unmapped.
        var keptEmpty: Bool
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    // The state lives behind pointers, not in Swift arrays and stored properties: every
    // OpenSSL allocation comes here, and bounds checks, `swift_once` on static tables and
    // exclusivity checks on class properties were a third of the heap's cost (perf, sfu-bench
    // --memory --crypto-heap).
    private struct Counters {
        var usage = Usage()
        var emptyBytes = 0
    }
    private let counters = UnsafeMutablePointer<Counters>.allocate(capacity: 1)
    /// Per class: slabs with a free block (a doubly linked list).
    private let partial: UnsafeMutablePointer<UnsafeMutablePointer<Slab>?>
    private let sizes: UnsafeMutablePointer<Int>
    /// Class index for a size of 1…16,384 bytes, by (size - 1) / 16.
    private let classOf: UnsafeMutablePointer<UInt8>
    private let largestClass = SlabHeap.classSizes.last!

    public init(emptyBytesKept: Int = 4 << 20) {
        precondition(MemoryLayout<Slab>.size <= Self.slabHeader, "slab header does not fit")
        self.emptyBytesKept = emptyBytesKept
        counters.initialize(to: Counters())
        partial = .allocate(capacity: Self.classSizes.count)
        partial.initialize(repeating: nil, count: Self.classSizes.count)
        sizes = .allocate(capacity: Self.classSizes.count)
        sizes.initialize(from: Self.classSizes, count: Self.classSizes.count)
        let steps = Self.classSizes.last! / 16
        classOf = .allocate(capacity: steps)
        var c = 0
        for step in 0..<steps {
            while Self.classSizes[c] < (step + 1) * 16 { c += 1 }
            classOf[step] = UInt8(c)
        }
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        counters.deallocate()
        partial.deallocate()
        sizes.deallocate()
        classOf.deallocate()
    }

    public var current: Usage {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return counters.pointee.usage
    }

    /// Unmaps every empty slab kept for the next handshakes (once a storm is over: kept, they
    /// were up to `emptyBytesKept` of resident memory for nothing). Returns the bytes unmapped.
    @discardableResult
    public func releaseEmptySlabs() -> Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        var released = 0
        for c in 0..<Self.classSizes.count {
            var s = partial[c]
            while let slab = s {
                s = slab.pointee.next
                guard slab.pointee.keptEmpty else { continue }
                unlist(slab)
                released += slab.pointee.mappingBytes
                counters.pointee.usage.mappedBytes -= slab.pointee.mappingBytes
                counters.pointee.usage.slabs -= 1
                munmap(UnsafeMutableRawPointer(slab), slab.pointee.mappingBytes)
            }
        }
        counters.pointee.emptyBytes -= released
        return released
    }

    // MARK: malloc, realloc, free

    /// A block of at least `size` bytes, 16-byte aligned; nil when the kernel refuses a mapping.
    public func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return allocateLocked(size)
    }

    /// Frees a block from `allocate` (nil: nothing).
    public func free(_ pointer: UnsafeMutableRawPointer?) {
        guard let pointer else { return }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        freeLocked(pointer)
    }

    /// realloc(3): the same block when the new size fits its class, else a new one with the
    /// contents copied. Size 0 frees and returns nil.
    public func reallocate(_ pointer: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
        guard let pointer else { return allocate(size) }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if size == 0 {
            freeLocked(pointer)
            return nil
        }
        let old = capacity(of: pointer)
        let requested = Self.requested(of: pointer)
        if size <= old {
            counters.pointee.usage.liveBytes += size - requested
            Self.setRequested(pointer, size)
            return pointer
        }
        guard let fresh = allocateLocked(size) else { return nil }
        fresh.copyMemory(from: pointer, byteCount: min(requested, size))
        freeLocked(pointer)
        return fresh
    }

    // MARK: Block headers: word 0 the slab (nil for a direct mapping), word 1 the requested size.
    // A direct mapping stores its size in its first page; the block starts on the second.

    private static func header(_ p: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer { p - blockHeader }

    private static func slab(of p: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Slab>? {
        header(p).load(as: UnsafeMutablePointer<Slab>?.self)
    }

    private static func requested(of p: UnsafeMutableRawPointer) -> Int {
        header(p).load(fromByteOffset: 8, as: Int.self)
    }

    private static func setRequested(_ p: UnsafeMutableRawPointer, _ size: Int) {
        header(p).storeBytes(of: size, toByteOffset: 8, as: Int.self)
    }

    /// Usable bytes of a block: its class size, or what its direct mapping holds.
    private func capacity(of p: UnsafeMutableRawPointer) -> Int {
        if let s = Self.slab(of: p) { return sizes[s.pointee.classIndex] }
        return Self.directMappingBytes(of: p) - Self.pageSize
    }

    /// The size of the direct mapping holding `p` (kept at the mapping's start).
    private static func directMappingBytes(of p: UnsafeMutableRawPointer) -> Int {
        (header(p) - (pageSize - blockHeader)).load(as: Int.self)
    }

    @inline(__always)
    private func classIndex(for size: Int) -> Int? {
        size <= largestClass ? Int(classOf[(size - 1) >> 4]) : nil
    }

    private static func map(_ bytes: Int) -> UnsafeMutableRawPointer? {
        guard let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              p != UnsafeMutableRawPointer(bitPattern: -1) else { return nil }
        return p
    }

    // MARK: Under the lock

    private func allocateLocked(_ size: Int) -> UnsafeMutableRawPointer? {
        let size = max(size, 1)
        guard let c = classIndex(for: size) else { return allocateDirect(size) }
        guard let s = partial[c] ?? newSlab(c) else { return nil }
        let block: UnsafeMutableRawPointer
        if let free = s.pointee.freeList {
            s.pointee.freeList = free.load(as: UnsafeMutableRawPointer?.self)
            block = free
        } else {
            let stride = Self.blockHeader + sizes[c]
            block = UnsafeMutableRawPointer(s) + Self.slabHeader + s.pointee.bumped * stride + Self.blockHeader
            s.pointee.bumped += 1
        }
        if s.pointee.keptEmpty {
            s.pointee.keptEmpty = false
            counters.pointee.emptyBytes -= s.pointee.mappingBytes
        }
        s.pointee.live += 1
        if s.pointee.live == s.pointee.capacity { unlist(s) }
        Self.header(block).storeBytes(of: s, as: UnsafeMutablePointer<Slab>?.self)
        Self.setRequested(block, size)
        counters.pointee.usage.liveBytes += size
        counters.pointee.usage.liveBlocks += 1
        counters.pointee.usage.allocations += 1
        return block
    }

    private func freeLocked(_ block: UnsafeMutableRawPointer) {
        let size = Self.requested(of: block)
        counters.pointee.usage.liveBytes -= size
        counters.pointee.usage.liveBlocks -= 1
        guard let s = Self.slab(of: block) else {
            let bytes = Self.directMappingBytes(of: block)
            counters.pointee.usage.mappedBytes -= bytes
            munmap(Self.header(block) - (Self.pageSize - Self.blockHeader), bytes)
            return
        }
        block.storeBytes(of: s.pointee.freeList, as: UnsafeMutableRawPointer?.self)
        s.pointee.freeList = block
        s.pointee.live -= 1
        if !s.pointee.listed { list(s) }
        if s.pointee.live == 0 {
            if counters.pointee.emptyBytes + s.pointee.mappingBytes <= emptyBytesKept {
                counters.pointee.emptyBytes += s.pointee.mappingBytes
                s.pointee.keptEmpty = true
            } else {
                unlist(s)
                counters.pointee.usage.mappedBytes -= s.pointee.mappingBytes
                counters.pointee.usage.slabs -= 1
                munmap(UnsafeMutableRawPointer(s), s.pointee.mappingBytes)
            }
        }
    }

    private func allocateDirect(_ size: Int) -> UnsafeMutableRawPointer? {
        let bytes = (size + 2 * Self.pageSize - 1) / Self.pageSize * Self.pageSize
        guard let base = Self.map(bytes) else { return nil }
        base.storeBytes(of: bytes, as: Int.self)
        let block = base + Self.pageSize
        Self.header(block).storeBytes(of: nil, as: UnsafeMutablePointer<Slab>?.self)
        Self.setRequested(block, size)
        counters.pointee.usage.mappedBytes += bytes
        counters.pointee.usage.liveBytes += size
        counters.pointee.usage.liveBlocks += 1
        counters.pointee.usage.allocations += 1
        return block
    }

    /// A fresh slab for class `c`, put on the class's list: 64 KiB, or 8 blocks for large classes.
    private func newSlab(_ c: Int) -> UnsafeMutablePointer<Slab>? {
        let stride = Self.blockHeader + sizes[c]
        let bytes = max(65_536, (Self.slabHeader + 8 * stride + Self.pageSize - 1) / Self.pageSize * Self.pageSize)
        guard let base = Self.map(bytes) else { return nil }
        let s = base.bindMemory(to: Slab.self, capacity: 1)
        s.initialize(to: Slab(classIndex: c, mappingBytes: bytes, capacity: (bytes - Self.slabHeader) / stride, live: 0, bumped: 0,
                              freeList: nil, next: nil, previous: nil, listed: false, keptEmpty: false))
        counters.pointee.usage.mappedBytes += bytes
        counters.pointee.usage.slabs += 1
        list(s)
        return s
    }

    private func list(_ s: UnsafeMutablePointer<Slab>) {
        let c = s.pointee.classIndex
        s.pointee.previous = nil
        s.pointee.next = partial[c]
        partial[c]?.pointee.previous = s
        partial[c] = s
        s.pointee.listed = true
    }

    private func unlist(_ s: UnsafeMutablePointer<Slab>) {
        guard s.pointee.listed else { return }
        let c = s.pointee.classIndex
        if let p = s.pointee.previous { p.pointee.next = s.pointee.next } else { partial[c] = s.pointee.next }
        s.pointee.next?.pointee.previous = s.pointee.previous
        s.pointee.next = nil
        s.pointee.previous = nil
        s.pointee.listed = false
    }
}
