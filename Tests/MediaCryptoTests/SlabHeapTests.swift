import Testing
@testable import MediaCrypto

/// OpenSSL's heap (SlabHeap): blocks are distinct, aligned and keep their contents; realloc
/// copies; and memory goes back to the kernel when its blocks are freed, which is its purpose.
struct SlabHeapTests {
    /// A deterministic xorshift64* sequence for sizes and orders.
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return Int((state &* 0x2545_F491_4F6C_DD1D) >> 33) % bound
        }
    }

    /// Fills `n` bytes at `p` with a pattern derived from `tag`.
    static func fill(_ p: UnsafeMutableRawPointer, _ n: Int, tag: Int) {
        for i in 0..<n { p.storeBytes(of: UInt8(truncatingIfNeeded: tag &* 31 &+ i), toByteOffset: i, as: UInt8.self) }
    }

    static func intact(_ p: UnsafeMutableRawPointer, _ n: Int, tag: Int) -> Bool {
        (0..<n).allSatisfy { p.load(fromByteOffset: $0, as: UInt8.self) == UInt8(truncatingIfNeeded: tag &* 31 &+ $0) }
    }

    /// Thousands of blocks of every class and some direct mappings, freed in random order while
    /// more are made: every block keeps its own bytes (no two overlap), is 16-byte aligned, and
    /// once all are freed the heap holds no live bytes and at most its kept empty slabs.
    @Test func blocksAreDistinctAlignedAndIntact() {
        let heap = SlabHeap(emptyBytesKept: 1 << 20)
        var rng = Random(state: 0x1234_5678_9ABC_DEF1)
        var live: [(UnsafeMutableRawPointer, Int, Int)] = []
        for tag in 0..<6_000 {
            let size = rng.next(10) == 0 ? 1 + rng.next(40_000) : 1 + rng.next(2_000)
            let p = heap.allocate(size)!
            #expect(Int(bitPattern: p) % 16 == 0)
            Self.fill(p, size, tag: tag)
            live.append((p, size, tag))
            if rng.next(3) == 0 {
                let k = rng.next(live.count)
                let (q, n, t) = live.remove(at: k)
                #expect(Self.intact(q, n, tag: t))
                heap.free(q)
            }
        }
        #expect(heap.current.liveBlocks == live.count)
        #expect(heap.current.liveBytes == live.reduce(0) { $0 + $1.1 })
        for (q, n, t) in live {
            #expect(Self.intact(q, n, tag: t))
            heap.free(q)
        }
        let after = heap.current
        #expect(after.liveBytes == 0 && after.liveBlocks == 0)
        #expect(after.mappedBytes <= 1 << 20)  // only the kept empty slabs
    }

    /// What a join storm does: many handshakes' worth of blocks with a few long-lived ones made
    /// in between. Freeing the handshakes' blocks unmaps their slabs (the long-lived blocks pin
    /// only the slabs they are in), so mapped memory falls to a small part of the peak; with a
    /// budget for empty slabs, exactly that much more stays mapped.
    @Test func freedHandshakesGiveTheirSlabsBack() {
        let heap = SlabHeap(emptyBytesKept: 0)
        var transient: [UnsafeMutableRawPointer] = []
        var kept: [UnsafeMutableRawPointer] = []
        for i in 0..<500 {
            for size in [48, 200, 600, 1_500, 4_000, 9_000, 17_000, 96, 320] { transient.append(heap.allocate(size)!) }
            if i % 10 == 0 { kept.append(heap.allocate(64)!) }
        }
        let peak = heap.current.mappedBytes
        for p in transient { heap.free(p) }
        let after = heap.current
        #expect(peak > 10_000_000)
        #expect(after.liveBlocks == kept.count)
        #expect(after.mappedBytes <= 65_536)  // 50 blocks of 64 bytes fit in one slab
        for p in kept { heap.free(p) }
        #expect(heap.current.mappedBytes == 0 && heap.current.slabs == 0)

        let budgeted = SlabHeap(emptyBytesKept: 1 << 20)
        let blocks = (0..<2_000).map { _ in budgeted.allocate(9_000)! }  // ~18 MB of 9 KiB blocks
        for p in blocks { budgeted.free(p) }
        #expect(budgeted.current.liveBlocks == 0)
        #expect(budgeted.current.mappedBytes <= 1 << 20 && budgeted.current.mappedBytes > (1 << 20) - 131_072)
    }

    /// Once a storm is over, the kept empty slabs are unmapped on request; slabs with a live
    /// block stay, and the heap serves allocations as before.
    @Test func keptEmptySlabsAreReleasedOnRequest() {
        let heap = SlabHeap(emptyBytesKept: 4 << 20)
        let live = heap.allocate(200)!
        let storm = (0..<1_000).flatMap { _ in [100, 700, 3_000].map { heap.allocate($0)! } }
        for p in storm { heap.free(p) }
        let kept = heap.current.mappedBytes
        #expect(kept > 1 << 20 && kept <= (4 << 20) + 3 * 65_536)
        let released = heap.releaseEmptySlabs()
        #expect(released > 0 && heap.current.mappedBytes == kept - released)
        #expect(heap.current.slabs == 1 && heap.current.mappedBytes == 65_536)  // the live block's slab
        #expect(heap.releaseEmptySlabs() == 0)
        let again = heap.allocate(3_000)!
        heap.free(again)
        heap.free(live)
        #expect(heap.current.liveBlocks == 0)
    }

    /// realloc keeps the contents, grows across classes and into a direct mapping, stays in
    /// place within a class, and frees on size 0; nil reallocates as malloc.
    @Test func reallocateKeepsContents() {
        let heap = SlabHeap()
        var p = heap.reallocate(nil, 10)!
        Self.fill(p, 10, tag: 7)
        let same = heap.reallocate(p, 16)!
        #expect(same == p)  // 10 and 16 bytes share the 16-byte class
        p = same
        for size in [100, 5_000, 50_000, 300] {
            let q = heap.reallocate(p, size)!
            #expect(Self.intact(q, 10, tag: 7))
            p = q
        }
        #expect(heap.current.liveBytes == 300 && heap.current.liveBlocks == 1)
        #expect(heap.reallocate(p, 0) == nil)
        #expect(heap.current.liveBlocks == 0)
        heap.free(nil)
    }

    /// Two threads allocating and freeing at once corrupt nothing (one lock for all).
    @Test func concurrentUseIsSafe() async {
        let heap = SlabHeap()
        await withTaskGroup(of: Bool.self) { group in
            for t in 0..<4 {
                group.addTask {
                    var ok = true
                    var rng = Random(state: UInt64(t + 1) * 0x9E37_79B9)
                    var mine: [(UnsafeMutableRawPointer, Int)] = []
                    for i in 0..<5_000 {
                        let n = 1 + rng.next(3_000)
                        let p = heap.allocate(n)!
                        Self.fill(p, n, tag: t * 100_000 + i)
                        mine.append((p, t * 100_000 + i))
                        if mine.count > 50 {
                            let (q, tag) = mine.removeFirst()
                            ok = ok && Self.intact(q, 1, tag: tag)
                            heap.free(q)
                        }
                    }
                    for (q, _) in mine { heap.free(q) }
                    return ok
                }
            }
            for await ok in group { #expect(ok) }
        }
        #expect(heap.current.liveBlocks == 0)
    }
}
