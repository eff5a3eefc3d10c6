/// Generic NACK (RFC 4585 §6.2.1): transport-layer feedback, FMT 1.
///
///      |V=2|P|  FMT=1  |    PT=205     |          length               |
///      |                  SSRC of packet sender                        |
///      |                  SSRC of media source                         |
///      |            PID                |             BLP               |  (one or more)
///
/// PID is a lost sequence number; bit i of BLP (LSB = 0) reports PID+i+1 lost as well.
public struct RTCPNack: RTCPBody {
    public static let packetType = RTCPPacketType.transportFeedback
    public static let format: UInt8 = 1

    public struct Pair: Equatable, Sendable {
        public var packetID: UInt16
        public var lostBitmask: UInt16
        public init(packetID: UInt16, lostBitmask: UInt16) {
            self.packetID = packetID
            self.lostBitmask = lostBitmask
        }
    }

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public var pairs: [Pair]

    public init(senderSSRC: UInt32, mediaSSRC: UInt32, pairs: [Pair]) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.pairs = pairs
    }

    /// Packs lost sequence numbers (in sending order, wrap-aware) into PID/BLP pairs.
    public init(senderSSRC: UInt32, mediaSSRC: UInt32, lost: [UInt16]) {
        var pairs: [Pair] = []
        for sequence in lost {
            if var last = pairs.last {
                let d = SequenceNumber.distance(from: last.packetID, to: sequence)
                if d >= 1 && d <= 16 {
                    last.lostBitmask |= 1 << UInt16(d - 1)
                    pairs[pairs.count - 1] = last
                    continue
                }
                if d == 0 { continue }
            }
            pairs.append(Pair(packetID: sequence, lostBitmask: 0))
        }
        self.init(senderSSRC: senderSSRC, mediaSSRC: mediaSSRC, pairs: pairs)
    }

    /// Every sequence number reported lost, in order.
    public var lostSequenceNumbers: [UInt16] {
        var out: [UInt16] = []
        for p in pairs {
            out.append(p.packetID)
            for bit in 0..<16 where p.lostBitmask & (1 << UInt16(bit)) != 0 {
                out.append(p.packetID &+ UInt16(bit + 1))
            }
        }
        return out
    }

    public var countField: UInt8 { Self.format }
    public var bodySize: Int { 8 + pairs.count * 4 }

    public func writeBody(_ w: inout ByteWriter) {
        w.u32(senderSSRC)
        w.u32(mediaSSRC)
        for p in pairs {
            w.u16(p.packetID)
            w.u16(p.lostBitmask)
        }
    }

    public static func parseBody(_ r: inout ByteReader, count: UInt8) throws(WireError) -> RTCPNack {
        let sender = try r.u32()
        let media = try r.u32()
        guard r.remaining >= 4 else {
            throw WireError(.rtcp, .invalidField("NACK without a PID/BLP pair"), at: r.absoluteOffset)
        }
        var pairs: [Pair] = []
        pairs.reserveCapacity(r.remaining / 4)
        while r.remaining >= 4 { pairs.append(Pair(packetID: try r.u16(), lostBitmask: try r.u16())) }
        return RTCPNack(senderSSRC: sender, mediaSSRC: media, pairs: pairs)
    }
}
