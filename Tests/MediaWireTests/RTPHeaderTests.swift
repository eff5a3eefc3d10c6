import Testing
import TestSupport
@testable import MediaWire

/// RFC 3550 §5.1 fixed header, CSRC list, padding and extension framing.
struct RTPHeaderTests {
    static let minimal = hex("""
        80 60 12 34  // V=2 P=0 X=0 CC=0 | M=0 PT=96 | sequence 0x1234
        00 00 03 e8  // timestamp 1000
        de ad be ef  // SSRC
        01 02 03     // payload
        """)

    static let full = hex("""
        b2 e0 ff ff  // V=2 P=1 X=1 CC=2 | M=1 PT=96 | sequence 65535
        ff ff ff ff  // timestamp
        00 00 00 01  // SSRC
        00 00 00 0a  // CSRC 1
        00 00 00 0b  // CSRC 2
        be de 00 01  // one-byte extension profile, length 1 word
        10 aa 00 00  // ID 1 L=0 value aa, two padding bytes
        c0 ff ee     // payload
        00 00 03     // padding: 3 bytes, count byte last
        """)

    /// RFC3550Section5_1: every fixed-header field decodes and the payload is a range of the input.
    @Test func rfc3550FixedHeader() throws {
        let h = try Self.minimal.withWireBytes { b throws(WireError) in try RTPHeader.parse(b) }
        #expect(!h.marker)
        #expect(h.payloadType == 96)
        #expect(h.sequenceNumber == 0x1234)
        #expect(h.timestamp == 1000)
        #expect(h.ssrc == 0xDEAD_BEEF)
        #expect(h.csrcCount == 0)
        #expect(h.extensionProfile == nil)
        #expect(h.payloadOffset == 12 && h.payloadLength == 3 && h.paddingLength == 0)
    }

    /// RFC3550Section5_1: CSRCs, the X bit's extension and P bit's padding are framed correctly.
    @Test func rfc3550CSRCExtensionPadding() throws {
        let h = try Self.full.withWireBytes { b throws(WireError) in try RTPHeader.parse(b) }
        #expect(h.marker && h.payloadType == 96 && h.sequenceNumber == 0xFFFF && h.timestamp == 0xFFFF_FFFF)
        #expect(h.csrcCount == 2)
        Self.full.withUnsafeBytes { b in
            #expect(h.csrc(0, in: b) == 0x0A)
            #expect(h.csrc(1, in: b) == 0x0B)
            #expect(Array(h.payload(in: b)) == [0xC0, 0xFF, 0xEE])
        }
        #expect(h.extensionProfile == 0xBEDE && h.extensionOffset == 24 && h.extensionLength == 4)
        #expect(h.payloadOffset == 28 && h.paddingLength == 3 && h.payloadLength == 3)
    }

    /// Malformed input table: each yields its exact typed error with the offset.
    @Test(arguments: [
        (hex("80 60 12"), WireError(.rtp, .truncated(needed: 12, available: 3), at: 0)),
        (hex("40 60 12 34 00 00 00 00 00 00 00 01"), WireError(.rtp, .badVersion(1), at: 0)),
        (hex("83 60 12 34 00 00 00 00 00 00 00 01 00 00 00 01"), WireError(.rtp, .truncated(needed: 24, available: 16), at: 12)),
        (hex("90 60 12 34 00 00 00 00 00 00 00 01 be de"), WireError(.rtp, .truncated(needed: 16, available: 14), at: 12)),
        (hex("90 60 12 34 00 00 00 00 00 00 00 01 be de 00 02 00 00 00 00"), WireError(.rtp, .badLength(declared: 8, available: 4), at: 14)),
        (hex("a0 60 12 34 00 00 00 00 00 00 00 01 05 00"), WireError(.rtp, .badPadding(0), at: 13)),
        (hex("a0 60 12 34 00 00 00 00 00 00 00 01 05 03"), WireError(.rtp, .badPadding(3), at: 13)),
        (hex("a0 60 12 34 00 00 00 00 00 00 00 01"), WireError(.rtp, .badPadding(0), at: 11)),
    ])
    func malformed(bytes: [UInt8], expected: WireError) {
        #expect(throws: expected) { try bytes.withWireBytes { b throws(WireError) in try RTPHeader.parse(b) } }
    }

    /// Every truncation of a valid packet either throws a typed error or, past the header, parses
    /// with a payload that ends inside the truncated buffer.
    @Test func everyTruncation() {
        for packet in [Self.minimal, Self.full] {
            let header = try! packet.withWireBytes { b throws(WireError) in try RTPHeader.parse(b) }
            for n in 0..<packet.count {
                let prefix = Array(packet[..<n])
                let result = Result { () throws(WireError) in try prefix.withWireBytes { b throws(WireError) in try RTPHeader.parse(b) } }
                if n < header.payloadOffset {
                    #expect(throws: WireError.self) { try result.get() }
                } else if case .success(let h) = result {
                    #expect(h.payloadOffset + h.payloadLength + h.paddingLength == n)
                }
            }
        }
    }

    /// The builder writes what the parser reads, CSRCs, extensions and padding included.
    @Test func builderRoundTrip() throws {
        var b = RTPPacketBuilder(payloadType: 111, sequenceNumber: 7, timestamp: 960, ssrc: 42, marker: true, payload: [1, 2, 3, 4, 5])
        b.csrcs = [9, 10]
        b.extensions = [RTPHeaderExtensionElement(id: 1, value: [0x30]), RTPHeaderExtensionElement(id: 3, value: [1, 2, 3])]
        b.paddingLength = 4
        let bytes = b.serialized()
        #expect(bytes.count == b.serializedSize)
        let h = try bytes.withWireBytes { x throws(WireError) in try RTPHeader.parse(x) }
        #expect(h.marker && h.payloadType == 111 && h.sequenceNumber == 7 && h.timestamp == 960 && h.ssrc == 42)
        #expect(h.csrcCount == 2 && h.paddingLength == 4 && h.payloadLength == 5)
        let elements = try bytes.withWireBytes { x throws(WireError) in try RTPHeaderExtensionBlock.elements(in: x, header: h) }
        #expect(elements == b.extensions)
        bytes.withUnsafeBytes { #expect(Array(h.payload(in: $0)) == [1, 2, 3, 4, 5]) }
    }

    /// In-place rewriting changes only the targeted fields.
    @Test func rewriteInPlace() throws {
        var packet = Self.full
        packet.withUnsafeMutableBytes { p in
            RTPHeaderRewriter.setSequenceNumber(0x0102, in: p)
            RTPHeaderRewriter.setTimestamp(0x0A0B0C0D, in: p)
            RTPHeaderRewriter.setSSRC(0x11223344, in: p)
            RTPHeaderRewriter.setPayloadType(100, in: p)
            RTPHeaderRewriter.setMarker(false, in: p)
        }
        let h = try packet.withWireBytes { b throws(WireError) in try RTPHeader.parse(b) }
        #expect(h.sequenceNumber == 0x0102 && h.timestamp == 0x0A0B0C0D && h.ssrc == 0x11223344)
        #expect(h.payloadType == 100 && !h.marker && h.csrcCount == 2 && h.paddingLength == 3)
        #expect(packet[12...] == Self.full[12...])
    }
}
