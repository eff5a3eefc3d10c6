/// The packets of a video track since its last keyframe (a GOP cache), so that a new viewer of a
/// camera that ignores keyframe requests starts from that keyframe at once instead of waiting
/// for the next one. One buffer, allocated at the first keyframe and reused: reset at each
/// keyframe, abandoned until the next when the group outgrows it (`capacity` bytes or
/// `maximumPackets`).
final class KeyframeCache {
    let capacity: Int
    static let maximumPackets = 4096
    private var storage: UnsafeMutableRawBufferPointer? = nil
    private var used = 0
    private var packets: [(offset: Int, length: Int)] = []
    /// It starts at a keyframe and holds every packet since.
    private(set) var isValid = false
    /// The RTP timestamp of the keyframe it starts at: H.264's SPS, PPS and IDR come in packets
    /// of one timestamp, each of which may look like a start, and are one picture.
    private var startTimestamp: UInt32 = 0

    init(capacity: Int) { self.capacity = capacity }

    deinit { storage?.deallocate() }

    var count: Int { isValid ? packets.count : 0 }

    func store(_ packet: UnsafeRawBufferPointer, timestamp: UInt32, keyframeStart: Bool) {
        if keyframeStart && !(isValid && timestamp == startTimestamp) {
            startTimestamp = timestamp
            if storage == nil {
                storage = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
                packets.reserveCapacity(256)
            }
            used = 0
            packets.removeAll(keepingCapacity: true)
            isValid = true
        }
        guard isValid, let storage else { return }
        guard used + packet.count <= capacity, packets.count < Self.maximumPackets, let base = packet.baseAddress else {
            isValid = false  // too long a group: the next keyframe starts over
            return
        }
        (storage.baseAddress! + used).copyMemory(from: base, byteCount: packet.count)
        packets.append((used, packet.count))
        used += packet.count
    }

    /// Calls `body` with each cached packet, oldest (the keyframe) first; nothing if not valid.
    func forEach(_ body: (UnsafeRawBufferPointer) -> Void) {
        guard isValid, let storage else { return }
        for p in packets { body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage)[p.offset..<(p.offset + p.length)])) }
    }
}
