import Synchronization

/// The hand-off from the media thread to a tap (the recorder, the snapshot decoder, a relay to
/// another router): a single-producer, single-consumer ring of fixed packet slots, allocated
/// once. `push` never waits and never allocates: when the ring is full the packet is dropped and
/// counted, and the tap learns how many it lost (`takeDropped`); it can ask for a keyframe to
/// start again from (`requestKeyframe`), which the router turns into a PLI on its next tick.
///
/// The one mechanism by which packets cross threads: the producer writes slots in `head..<tail
/// + capacity` and then publishes `head` with release ordering; the consumer reads slots in
/// `tail..<head` after an acquiring load of `head` and gives them back by publishing `tail`.
/// No slot is ever touched by both at once, so the storage needs no lock. @unchecked Sendable
/// for the raw storage pointer, which only that protocol accesses.
public final class TapRing: @unchecked Sendable {
    /// Bytes a slot holds (RTP packets over this are dropped and counted as oversized).
    public static let slotPayloadBytes = 1500
    static let slotHeaderBytes = 16
    static var slotStride: Int { slotHeaderBytes + slotPayloadBytes + 4 }  // 8-byte aligned

    public let capacity: Int
    private let mask: Int
    private let storage: UnsafeMutableRawPointer
    /// Next slot the producer fills (written by the media thread only).
    private let head = Atomic<Int>(0)
    /// Next slot the consumer reads (written by the tap's thread only).
    private let tail = Atomic<Int>(0)
    private let dropped = Atomic<Int>(0)
    private let keyframeWanted = Atomic<Bool>(false)
    private let ended = Atomic<Bool>(false)

    /// `capacity` is rounded up to a power of two.
    public init(capacity: Int) {
        var c = 1
        while c < max(2, capacity) { c <<= 1 }
        self.capacity = c
        mask = c - 1
        storage = UnsafeMutableRawPointer.allocate(byteCount: c * Self.slotStride, alignment: 16)
    }

    deinit { storage.deallocate() }

    // MARK: Producer (the media thread)

    /// Copies `packet` with its arrival time into the next slot; false (and counted) when the
    /// ring is full or the packet does not fit a slot.
    @inline(__always)
    public func push(_ packet: UnsafeRawBufferPointer, arrival: UInt64) -> Bool {
        let h = head.load(ordering: .relaxed)
        guard packet.count <= Self.slotPayloadBytes, h &- tail.load(ordering: .acquiring) < capacity else {
            dropped.add(1, ordering: .relaxed)
            return false
        }
        let slot = storage + (h & mask) * Self.slotStride
        slot.storeBytes(of: UInt32(packet.count), as: UInt32.self)
        slot.storeBytes(of: arrival, toByteOffset: 8, as: UInt64.self)
        if let base = packet.baseAddress { (slot + Self.slotHeaderBytes).copyMemory(from: base, byteCount: packet.count) }
        head.store(h &+ 1, ordering: .releasing)
        return true
    }

    /// Takes the tap's keyframe request, if it made one since the last call.
    public func takeKeyframeRequest() -> Bool { keyframeWanted.exchange(false, ordering: .relaxed) }

    /// The track ended (its publisher left): nothing more will come.
    public func end() { ended.store(true, ordering: .releasing) }

    // MARK: Consumer (the tap's thread)

    /// Calls `body` with each waiting packet and its arrival time, oldest first, at most `limit`;
    /// returns how many. The buffer is valid only during the call.
    @discardableResult
    public func drain(limit: Int = .max, _ body: (UnsafeRawBufferPointer, UInt64) -> Void) -> Int {
        var t = tail.load(ordering: .relaxed)
        let h = head.load(ordering: .acquiring)
        var n = 0
        while t != h && n < limit {
            let slot = storage + (t & mask) * Self.slotStride
            let length = Int(slot.load(as: UInt32.self))
            let arrival = slot.load(fromByteOffset: 8, as: UInt64.self)
            body(UnsafeRawBufferPointer(start: slot + Self.slotHeaderBytes, count: length), arrival)
            t &+= 1
            n += 1
            tail.store(t, ordering: .releasing)
        }
        return n
    }

    /// Packets waiting.
    public var count: Int { head.load(ordering: .acquiring) &- tail.load(ordering: .relaxed) }

    /// Packets lost since the last call (the ring was full), and resets the count.
    public func takeDropped() -> Int { dropped.exchange(0, ordering: .relaxed) }

    /// Asks the track's publisher for a keyframe (after a loss, or to start a picture).
    public func requestKeyframe() { keyframeWanted.store(true, ordering: .relaxed) }

    /// Whether the track ended.
    public var isEnded: Bool { ended.load(ordering: .acquiring) }
}
