/// Picture Loss Indication, PLI (RFC 4585 §6.3.1): payload-specific feedback, FMT 1, no FCI.
///
///      |V=2|P|  FMT=1  |    PT=206     |          length=2             |
///      |                  SSRC of packet sender                        |
///      |                  SSRC of media source                         |
public struct RTCPPictureLossIndication: RTCPBody {
    public static let packetType = RTCPPacketType.payloadFeedback
    public static let format: UInt8 = 1
    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32

    public init(senderSSRC: UInt32, mediaSSRC: UInt32) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
    }

    public var countField: UInt8 { Self.format }
    public var bodySize: Int { 8 }

    public func writeBody(_ w: inout ByteWriter) {
        w.u32(senderSSRC)
        w.u32(mediaSSRC)
    }

    public static func parseBody(_ r: inout ByteReader, count: UInt8) throws(WireError) -> RTCPPictureLossIndication {
        RTCPPictureLossIndication(senderSSRC: try r.u32(), mediaSSRC: try r.u32())
    }
}
