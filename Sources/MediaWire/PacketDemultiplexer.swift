/// Classifies a datagram arriving on the shared media port by its first byte (RFC 7983 §7), and
/// RTP from RTCP by the payload-type field (RFC 5761 §4):
///
///                    +----------------+
///                    |        [0..3] -+--> STUN
///                    |      [16..19] -+--> ZRTP
///        packet -->  |      [20..63] -+--> DTLS
///                    |      [64..79] -+--> TURN channel
///                    |    [128..191] -+--> RTP/RTCP (RTCP when the second byte is 192...223)
///                    +----------------+
public enum PacketClass: Equatable, Sendable {
    case stun, zrtp, dtls, turnChannel, rtp, rtcp, unknown
}

public enum PacketDemultiplexer {
    @inline(__always)
    public static func classify(_ datagram: UnsafeRawBufferPointer) -> PacketClass {
        guard let first = datagram.first else { return .unknown }
        switch first {
        case 0...3: return .stun
        case 16...19: return .zrtp
        case 20...63: return .dtls
        case 64...79: return .turnChannel
        case 128...191:
            guard datagram.count >= 2 else { return .unknown }
            return (192...223).contains(datagram[1]) ? .rtcp : .rtp
        default: return .unknown
        }
    }
}
