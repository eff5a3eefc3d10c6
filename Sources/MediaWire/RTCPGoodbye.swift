/// Goodbye, BYE (RFC 3550 §6.6).
///
///      |V=2|P|    SC   |   PT=BYE=203  |             length            |
///      |                           SSRC/CSRC                           |
///      :                              ...                              :
///      |     length    |               reason for leaving            ... (opt)
public struct RTCPGoodbye: RTCPBody {
    public static let packetType = RTCPPacketType.goodbye
    public var sources: [UInt32]
    /// Optional UTF-8 reason (at most 255 bytes); empty when absent.
    public var reason: [UInt8]

    public init(sources: [UInt32], reason: [UInt8] = []) {
        self.sources = sources
        self.reason = reason
    }

    public var countField: UInt8 { UInt8(sources.count) }
    public var bodySize: Int { sources.count * 4 + (reason.isEmpty ? 0 : (1 + reason.count + 3) & ~3) }

    public func writeBody(_ w: inout ByteWriter) {
        for s in sources { w.u32(s) }
        if !reason.isEmpty {
            precondition(reason.count <= 255)
            w.u8(UInt8(reason.count))
            w.bytes(reason)
            w.zeros(((1 + reason.count + 3) & ~3) - 1 - reason.count)
        }
    }

    public static func parseBody(_ r: inout ByteReader, count: UInt8) throws(WireError) -> RTCPGoodbye {
        try r.require(Int(count) * 4)
        var sources: [UInt32] = []
        for _ in 0..<count { sources.append(try r.u32()) }
        var reason: [UInt8] = []
        if !r.isAtEnd {
            let length = Int(try r.u8())
            reason = try r.copyBytes(length)
        }
        return RTCPGoodbye(sources: sources, reason: reason)
    }
}
