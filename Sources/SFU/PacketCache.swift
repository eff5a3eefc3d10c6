/// The recent packets of one published track, shared by all its subscribers to answer their
/// NACKs (RFC 4585 §6.2.1): a ring of fixed 1500-byte slots indexed by `seq & (capacity − 1)`.
///
/// The ring starts small and doubles (up to `maximumCapacity`) when storing a packet would
/// evict one younger than `retention`: a 100 kbit/s camera keeps 16 slots (24 KiB), 2.5 Mbit/s
/// video grows to 512 (about 1.5 s). Growing copies the ring once (a few times per track's life);
/// steady-state storing and looking up copy bytes and allocate nothing.
///
/// @unchecked Sendable: owned and used by one media worker thread.
public final class PacketCache: @unchecked Sendable {
    public static let slotSize = 1500
    /// Packets younger than this are worth keeping for repair (a NACK round trip plus retries).
    public static let retention: UInt64 = 1_000_000_000
    public private(set) var capacity: Int
    public let maximumCapacity: Int
    private var storage: UnsafeMutableRawBufferPointer
    private var lengths: [Int]
    private var sequences: [UInt16]
    private var storedAt: [UInt64]

    /// Both capacities must be powers of two, `initialCapacity` ≤ `maximumCapacity`.
    public init(initialCapacity: Int = 32, maximumCapacity: Int = 512) {
        precondition(initialCapacity > 0 && initialCapacity & (initialCapacity - 1) == 0)
        precondition(maximumCapacity >= initialCapacity && maximumCapacity & (maximumCapacity - 1) == 0)
        capacity = initialCapacity
        self.maximumCapacity = maximumCapacity
        storage = .allocate(byteCount: initialCapacity * Self.slotSize, alignment: 16)
        lengths = [Int](repeating: 0, count: initialCapacity)
        sequences = [UInt16](repeating: 0, count: initialCapacity)
        storedAt = [UInt64](repeating: 0, count: initialCapacity)
    }

    deinit { storage.deallocate() }

    /// Stores a packet (decrypted RTP) under its sequence number; packets over the slot size are not cached.
    public func store(sequenceNumber seq: UInt16, _ packet: UnsafeRawBufferPointer, now: UInt64) {
        var slot = Int(seq) & (capacity - 1)
        if capacity < maximumCapacity, lengths[slot] > 0, sequences[slot] != seq, elapsed(now, since: storedAt[slot]) < Self.retention {
            grow()
            slot = Int(seq) & (capacity - 1)
        }
        guard packet.count <= Self.slotSize, let base = packet.baseAddress else { lengths[slot] = 0; return }
        (storage.baseAddress! + slot * Self.slotSize).copyMemory(from: base, byteCount: packet.count)
        lengths[slot] = packet.count
        sequences[slot] = seq
        storedAt[slot] = now
    }

    /// The cached packet with exactly this sequence number, valid until the slot is reused.
    public func packet(sequenceNumber seq: UInt16) -> UnsafeRawBufferPointer? {
        let slot = Int(seq) & (capacity - 1)
        guard lengths[slot] > 0, sequences[slot] == seq else { return nil }
        return UnsafeRawBufferPointer(start: storage.baseAddress! + slot * Self.slotSize, count: lengths[slot])
    }

    /// Doubles the ring; every cached packet keeps its place under the new mask (distinct modulo
    /// the old capacity means distinct modulo the new one).
    private func grow() {
        let newCapacity = capacity * 2
        let newStorage = UnsafeMutableRawBufferPointer.allocate(byteCount: newCapacity * Self.slotSize, alignment: 16)
        var newLengths = [Int](repeating: 0, count: newCapacity)
        var newSequences = [UInt16](repeating: 0, count: newCapacity)
        var newStoredAt = [UInt64](repeating: 0, count: newCapacity)
        for old in 0..<capacity where lengths[old] > 0 {
            let slot = Int(sequences[old]) & (newCapacity - 1)
            (newStorage.baseAddress! + slot * Self.slotSize).copyMemory(from: storage.baseAddress! + old * Self.slotSize, byteCount: lengths[old])
            newLengths[slot] = lengths[old]
            newSequences[slot] = sequences[old]
            newStoredAt[slot] = storedAt[old]
        }
        storage.deallocate()
        storage = newStorage
        lengths = newLengths
        sequences = newSequences
        storedAt = newStoredAt
        capacity = newCapacity
    }
}
