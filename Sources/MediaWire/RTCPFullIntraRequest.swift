/// Full Intra Request, FIR (RFC 5104 §4.3.1): payload-specific feedback, FMT 4.
///
///      |V=2|P|  FMT=4  |    PT=206     |          length               |
///      |                  SSRC of packet sender                        |
///      |             SSRC of media source (unused, 0)                  |
///      |                              SSRC                             |  (FCI, one or more)
///      | Seq nr.       |    Reserved                                   |
public struct RTCPFullIntraRequest: RTCPBody {
    public static let packetType = RTCPPacketType.payloadFeedback
    public static let format: UInt8 = 4

    public struct Entry: Equatable, Sendable {
        public var ssrc: UInt32
        /// Command sequence number; incremented for each new request (§4.3.1.1).
        public var sequenceNumber: UInt8
        public init(ssrc: UInt32, sequenceNumber: UInt8) {
            self.ssrc = ssrc
            self.sequenceNumber = sequenceNumber
        }
    }

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public var entries: [Entry]

    public init(senderSSRC: UInt32, mediaSSRC: UInt32 = 0, entries: [Entry]) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.entries = entries
    }

    public var countField: UInt8 { Self.format }
    public var bodySize: Int { 8 + entries.count * 8 }

    public func writeBody(_ w: inout ByteWriter) {
        w.u32(senderSSRC)
        w.u32(mediaSSRC)
        for e in entries {
            w.u32(e.ssrc)
            w.u8(e.sequenceNumber)
            w.u24(0)
        }
    }

    public static func parseBody(_ r: inout ByteReader, count: UInt8) throws(WireError) -> RTCPFullIntraRequest {
        let sender = try r.u32()
        let media = try r.u32()
        guard r.remaining >= 8 else { throw WireError(.rtcp, .invalidField("FIR without an FCI entry"), at: r.absoluteOffset) }
        var entries: [Entry] = []
        while r.remaining >= 8 {
            let ssrc = try r.u32()
            let seq = try r.u8()
            try r.skip(3)
            entries.append(Entry(ssrc: ssrc, sequenceNumber: seq))
        }
        return RTCPFullIntraRequest(senderSSRC: sender, mediaSSRC: media, entries: entries)
    }
}
