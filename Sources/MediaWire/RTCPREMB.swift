/// Receiver Estimated Maximum Bitrate, REMB (draft-alvestrand-rmcat-remb-03 §2.2): an
/// application-layer feedback message (PSFB, FMT 15) with unique identifier "REMB".
///
///      |V=2|P| FMT=15  |   PT=206      |             length            |
///      |                  SSRC of packet sender                        |
///      |                  SSRC of media source (0)                     |
///      |  Unique identifier 'R' 'E' 'M' 'B'                            |
///      |  Num SSRC     | BR Exp    |  BR Mantissa                      |
///      |   SSRC feedback                                               |  (Num SSRC times)
///
/// Bitrate = mantissa (18 bits) × 2^exp (6 bits), bits per second.
public struct RTCPREMB: RTCPBody {
    public static let packetType = RTCPPacketType.payloadFeedback
    public static let format: UInt8 = 15
    static let identifier: UInt32 = 0x5245_4D42  // "REMB"

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public var exponent: UInt8
    public var mantissa: UInt32
    public var ssrcs: [UInt32]

    public init(senderSSRC: UInt32, mediaSSRC: UInt32 = 0, exponent: UInt8, mantissa: UInt32, ssrcs: [UInt32]) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.exponent = exponent
        self.mantissa = mantissa
        self.ssrcs = ssrcs
    }

    /// Encodes `bitrate` with the smallest exponent whose mantissa fits 18 bits (rounding down).
    public init(senderSSRC: UInt32, bitrate: UInt64, ssrcs: [UInt32]) {
        var exponent: UInt8 = 0
        while exponent < 63 && (bitrate >> UInt64(exponent)) > 0x3FFFF { exponent += 1 }
        self.init(senderSSRC: senderSSRC, exponent: exponent,
                  mantissa: UInt32(truncatingIfNeeded: min(bitrate >> UInt64(exponent), 0x3FFFF)), ssrcs: ssrcs)
    }

    /// Bits per second; saturates at UInt64.max.
    public var bitrate: UInt64 {
        let m = UInt64(mantissa)
        let (v, overflow) = m.multipliedReportingOverflow(by: exponent >= 64 ? 0 : UInt64(1) << UInt64(exponent))
        return overflow || (exponent >= 64 && m > 0) ? .max : v
    }

    /// Whether a PSFB FMT 15 body carries the "REMB" identifier (other AFB uses stay opaque).
    static func isREMB(_ r: ByteReader) -> Bool {
        r.remaining >= 12 && r.bytes.readU32(r.position + 8) == identifier
    }

    public var countField: UInt8 { Self.format }
    public var bodySize: Int { 16 + ssrcs.count * 4 }

    public func writeBody(_ w: inout ByteWriter) {
        precondition(ssrcs.count <= 255 && exponent < 64 && mantissa <= 0x3FFFF)
        w.u32(senderSSRC)
        w.u32(mediaSSRC)
        w.u32(Self.identifier)
        w.u8(UInt8(ssrcs.count))
        w.u24(UInt32(exponent) << 18 | mantissa)
        for s in ssrcs { w.u32(s) }
    }

    public static func parseBody(_ r: inout ByteReader, count: UInt8) throws(WireError) -> RTCPREMB {
        let sender = try r.u32()
        let media = try r.u32()
        try r.skip(4)  // "REMB", checked by isREMB
        let number = Int(try r.u8())
        let br = try r.u24()
        try r.require(number * 4)
        var ssrcs: [UInt32] = []
        ssrcs.reserveCapacity(number)
        for _ in 0..<number { ssrcs.append(try r.u32()) }
        return RTCPREMB(senderSSRC: sender, mediaSSRC: media, exponent: UInt8(br >> 18), mantissa: br & 0x3FFFF, ssrcs: ssrcs)
    }
}
