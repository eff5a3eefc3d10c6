/// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
/// §3.1): transport-layer feedback, FMT 15.
///
///      |V=2|P|  FMT=15 |    PT=205     |           length              |
///      |                     SSRC of packet sender                     |
///      |                      SSRC of media source                     |
///      |      base sequence number     |      packet status count      |
///      |                 reference time                | fb pkt. count |
///      |          packet chunk         |         packet chunk          |
///      .                                                               .
///      |         packet chunk          |  recv delta   |  recv delta   |
///      .                                                               .
///      |           recv delta          |  recv delta   | zero padding  |
///
/// Packet chunks (§3.1.3, §3.1.4), 16 bits each:
/// - run length: `0 | S(2) | run length(13)`, one status repeated;
/// - status vector: `1 | s | symbols`, s=0: 14 one-bit symbols (not received / small delta),
///   s=1: 7 two-bit symbols (not received / small / large).
/// Receive deltas (§3.1.5), in 250 µs units: one unsigned byte for "small delta", two signed
/// bytes for "large delta". The model keeps chunks as sent so serialisation is byte-exact.
public struct RTCPTransportCC: RTCPBody {
    public static let packetType = RTCPPacketType.transportFeedback
    public static let format: UInt8 = 15
    /// Bound on `packetStatusCount` accepted from the wire: a 1500-byte packet cannot describe more
    /// packets than its chunks can hold (8191 per run-length chunk), and this keeps expansion bounded.
    public static let maximumStatusCount = 1 << 15

    public enum Status: UInt8, Equatable, Sendable {
        case notReceived = 0, smallDelta = 1, largeDelta = 2
    }

    public enum Chunk: Equatable, Sendable {
        case runLength(Status, count: UInt16)
        /// 14 symbols, each `.notReceived` or `.smallDelta`.
        case oneBitVector([Status])
        /// 7 symbols.
        case twoBitVector([Status])

        var symbolCount: Int {
            switch self {
            case .runLength(_, let n): Int(n)
            case .oneBitVector: 14
            case .twoBitVector: 7
            }
        }
    }

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public var baseSequenceNumber: UInt16
    public var packetStatusCount: UInt16
    /// 24-bit signed reference time, in multiples of 64 ms.
    public var referenceTime: Int32
    public var feedbackPacketCount: UInt8
    public var chunks: [Chunk]
    /// One delta per received packet, in 250 µs units; small deltas are 0...255.
    public var receiveDeltas: [Int16]

    public init(senderSSRC: UInt32, mediaSSRC: UInt32, baseSequenceNumber: UInt16, packetStatusCount: UInt16,
                referenceTime: Int32, feedbackPacketCount: UInt8, chunks: [Chunk], receiveDeltas: [Int16]) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.baseSequenceNumber = baseSequenceNumber
        self.packetStatusCount = packetStatusCount
        self.referenceTime = referenceTime
        self.feedbackPacketCount = feedbackPacketCount
        self.chunks = chunks
        self.receiveDeltas = receiveDeltas
    }

    /// Encodes per-packet results (nil = not received, else the delta in 250 µs units) choosing
    /// chunks greedily: a run-length chunk for runs of 7 or more, else the densest status vector.
    public init(senderSSRC: UInt32, mediaSSRC: UInt32, baseSequenceNumber: UInt16, referenceTime: Int32,
                feedbackPacketCount: UInt8, deltas: [Int16?]) {
        precondition(deltas.count <= Int(UInt16.max))
        let statuses: [Status] = deltas.map { d in
            guard let d else { return .notReceived }
            return (0...255).contains(d) ? .smallDelta : .largeDelta
        }
        var chunks: [Chunk] = []
        var i = 0
        while i < statuses.count {
            var run = 1
            while i + run < statuses.count && statuses[i + run] == statuses[i] && run < 8191 { run += 1 }
            if run >= 7 {
                chunks.append(.runLength(statuses[i], count: UInt16(run)))
                i += run
                continue
            }
            let window14 = statuses[i..<min(i + 14, statuses.count)]
            if !window14.contains(.largeDelta) && window14.count >= 8 {
                chunks.append(.oneBitVector(Array(window14) + Array(repeating: .notReceived, count: 14 - window14.count)))
                i += window14.count
            } else {
                let window7 = statuses[i..<min(i + 7, statuses.count)]
                chunks.append(.twoBitVector(Array(window7) + Array(repeating: .notReceived, count: 7 - window7.count)))
                i += window7.count
            }
        }
        self.init(senderSSRC: senderSSRC, mediaSSRC: mediaSSRC, baseSequenceNumber: baseSequenceNumber,
                  packetStatusCount: UInt16(deltas.count), referenceTime: referenceTime,
                  feedbackPacketCount: feedbackPacketCount, chunks: chunks, receiveDeltas: deltas.compactMap { $0 })
    }

    /// The status of each of the `packetStatusCount` packets from the base sequence number.
    public var statuses: [Status] {
        var out: [Status] = []
        out.reserveCapacity(Int(packetStatusCount))
        for chunk in chunks {
            switch chunk {
            case .runLength(let s, let n): out.append(contentsOf: repeatElement(s, count: Int(n)))
            case .oneBitVector(let v), .twoBitVector(let v): out.append(contentsOf: v)
            }
        }
        return Array(out.prefix(Int(packetStatusCount)))
    }

    public var countField: UInt8 { Self.format }

    private var deltaBytes: Int {
        statuses.reduce(0) { $0 + ($1 == .smallDelta ? 1 : $1 == .largeDelta ? 2 : 0) }
    }

    public var bodySize: Int { (16 + chunks.count * 2 + deltaBytes + 3) & ~3 }

    public func writeBody(_ w: inout ByteWriter) {
        let start = w.position
        w.u32(senderSSRC)
        w.u32(mediaSSRC)
        w.u16(baseSequenceNumber)
        w.u16(packetStatusCount)
        w.u24(UInt32(bitPattern: referenceTime) & 0xFF_FFFF)
        w.u8(feedbackPacketCount)
        for chunk in chunks {
            switch chunk {
            case .runLength(let s, let n):
                precondition(n <= 0x1FFF)
                w.u16(UInt16(s.rawValue) << 13 | n)
            case .oneBitVector(let v):
                precondition(v.count == 14 && !v.contains(.largeDelta))
                var bits: UInt16 = 0x8000
                for (i, s) in v.enumerated() { bits |= UInt16(s.rawValue) << UInt16(13 - i) }
                w.u16(bits)
            case .twoBitVector(let v):
                precondition(v.count == 7)
                var bits: UInt16 = 0xC000
                for (i, s) in v.enumerated() { bits |= UInt16(s.rawValue) << UInt16(12 - 2 * i) }
                w.u16(bits)
            }
        }
        var deltaIndex = 0
        for s in statuses where s != .notReceived {
            let d = receiveDeltas[deltaIndex]
            deltaIndex += 1
            if s == .smallDelta { w.u8(UInt8(clamping: d)) } else { w.u16(UInt16(bitPattern: d)) }
        }
        w.zeros(bodySize - (w.position - start))
    }

    public static func parseBody(_ r: inout ByteReader, count: UInt8) throws(WireError) -> RTCPTransportCC {
        let sender = try r.u32()
        let media = try r.u32()
        let base = try r.u16()
        let statusCount = try r.u16()
        let reference24 = try r.u24()
        let referenceTime = Int32(bitPattern: reference24 << 8) >> 8
        let fbCount = try r.u8()
        // Chunks: each chunk takes 2 bytes, so the count cannot exceed what the packet can carry.
        var chunks: [Chunk] = []
        var described = 0
        var small = 0, large = 0
        func tally(_ s: Status, _ n: Int) {
            let take = min(n, Int(statusCount) - described)
            guard take > 0 else { return }
            if s == .smallDelta { small += take } else if s == .largeDelta { large += take }
            described += take
        }
        while described < Int(statusCount) {
            let chunkOffset = r.absoluteOffset
            let bits = try r.u16()
            if bits & 0x8000 == 0 {
                guard let s = Status(rawValue: UInt8((bits >> 13) & 0x3)) else {
                    throw WireError(.rtcp, .invalidField("reserved status symbol in run-length chunk"), at: chunkOffset)
                }
                let n = bits & 0x1FFF
                guard n > 0 else { throw WireError(.rtcp, .invalidField("run-length chunk of zero"), at: chunkOffset) }
                chunks.append(.runLength(s, count: n))
                tally(s, Int(n))
            } else if bits & 0x4000 == 0 {
                var v: [Status] = []
                v.reserveCapacity(14)
                for i in 0..<14 {
                    let s: Status = (bits >> UInt16(13 - i)) & 1 == 1 ? .smallDelta : .notReceived
                    v.append(s)
                    tally(s, 1)
                }
                chunks.append(.oneBitVector(v))
            } else {
                var v: [Status] = []
                v.reserveCapacity(7)
                for i in 0..<7 {
                    guard let s = Status(rawValue: UInt8((bits >> UInt16(12 - 2 * i)) & 0x3)) else {
                        throw WireError(.rtcp, .invalidField("reserved status symbol in status vector"), at: chunkOffset)
                    }
                    v.append(s)
                    tally(s, 1)
                }
                chunks.append(.twoBitVector(v))
            }
        }
        try r.require(small + 2 * large)
        var deltas: [Int16] = []
        deltas.reserveCapacity(small + large)
        var result = RTCPTransportCC(senderSSRC: sender, mediaSSRC: media, baseSequenceNumber: base,
                                     packetStatusCount: statusCount, referenceTime: referenceTime,
                                     feedbackPacketCount: fbCount, chunks: chunks, receiveDeltas: [])
        for s in result.statuses where s != .notReceived {
            deltas.append(s == .smallDelta ? Int16(try r.u8()) : Int16(bitPattern: try r.u16()))
        }
        result.receiveDeltas = deltas
        return result  // Remaining bytes are zero padding to the 32-bit boundary.
    }
}
