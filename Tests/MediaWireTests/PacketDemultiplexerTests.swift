import Testing
import TestSupport
@testable import MediaWire

/// RFC 7983 §7 first-byte ranges and RFC 5761 §4 RTP/RTCP split.
struct PacketDemultiplexerTests {
    @Test(arguments: [
        ([0x00, 0x01], PacketClass.stun), ([0x03, 0x00], .stun),
        ([16, 0], .zrtp), ([19, 0], .zrtp),
        ([20, 0], .dtls), ([22, 0xFE], .dtls), ([63, 0], .dtls),
        ([64, 0], .turnChannel), ([79, 0], .turnChannel),
        ([0x80, 96], .rtp), ([0x80, 0xE0], .rtp), ([0xBF, 0x7F], .rtp),
        ([0x80, 200], .rtcp), ([0x81, 201], .rtcp), ([0x8F, 206], .rtcp), ([0x80, 223], .rtcp), ([0x80, 192], .rtcp),
        ([4, 0], .unknown), ([80, 0], .unknown), ([127, 0], .unknown), ([192, 0], .unknown), ([255, 0], .unknown),
        ([], .unknown), ([0x80], .unknown),
    ] as [([UInt8], PacketClass)])
    func classify(bytes: [UInt8], expected: PacketClass) {
        #expect(bytes.withUnsafeBytes { PacketDemultiplexer.classify($0) } == expected)
    }
}
