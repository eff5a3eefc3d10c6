/// The last `capacity` packets of one published track, shared by all its subscribers to answer
/// their NACKs (RFC 4585 §6.2.1). One allocation of fixed slots made up front; storing and
/// looking up a packet copies bytes and allocates nothing.
///
/// @unchecked Sendable: owned and used by one media worker thread.
public final class PacketCache: @unchecked Sendable {
    public static let slotSize = 1500
    public let capacity: Int
    private let storage: UnsafeMutableRawBufferPointer
    private var lengths: [Int]
    private var sequences: [UInt16]

    /// `capacity` must be a power of two (slot = seq & (capacity − 1)).
    public init(capacity: Int = 512) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0)
        self.capacity = capacity
        storage = .allocate(byteCount: capacity * Self.slotSize, alignment: 16)
        lengths = [Int](repeating: 0, count: capacity)
        sequences = [UInt16](repeating: 0, count: capacity)
    }

    deinit { storage.deallocate() }

    /// Stores a packet (decrypted RTP) under its sequence number; packets over the slot size are not cached.
    public func store(sequenceNumber seq: UInt16, _ packet: UnsafeRawBufferPointer) {
        let slot = Int(seq) & (capacity - 1)
        guard packet.count <= Self.slotSize, let base = packet.baseAddress else { lengths[slot] = 0; return }
        (storage.baseAddress! + slot * Self.slotSize).copyMemory(from: base, byteCount: packet.count)
        lengths[slot] = packet.count
        sequences[slot] = seq
    }

    /// The cached packet with exactly this sequence number, valid until the slot is reused.
    public func packet(sequenceNumber seq: UInt16) -> UnsafeRawBufferPointer? {
        let slot = Int(seq) & (capacity - 1)
        guard lengths[slot] > 0, sequences[slot] == seq else { return nil }
        return UnsafeRawBufferPointer(start: storage.baseAddress! + slot * Self.slotSize, count: lengths[slot])
    }
}
