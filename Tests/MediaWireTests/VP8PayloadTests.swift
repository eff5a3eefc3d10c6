import Testing
import TestSupport
@testable import MediaWire

/// RFC 7741 payload descriptor and the VP8 keyframe header (RFC 6386 §9.1).
struct VP8PayloadTests {
    /// RFC7741Section4_2: every optional field (15-bit picture ID, TL0PICIDX, TID/Y, KEYIDX).
    @Test func rfc7741AllFields() throws {
        let bytes = hex("""
            b0        // X=1 N=1 S=1 PID=0
            f0        // I=1 L=1 T=1 K=1
            92 34     // M=1, picture ID 0x1234
            07        // TL0PICIDX 7
            a5        // TID=2 Y=1 KEYIDX=5
            10 02 00 9d 01 2a 40 01 f0 00  // VP8 data (keyframe tag)
            """)
        let d = try bytes.withWireBytes { b throws(WireError) in try VP8PayloadDescriptor.parse(b) }
        #expect(d.extended && d.nonReference && d.startOfPartition && d.partitionIndex == 0 && d.isStartOfFrame)
        #expect(d.pictureID == 0x1234 && d.pictureIDIsLong && d.tl0PictureIndex == 7)
        #expect(d.temporalLayer == 2 && d.layerSync && d.keyIndex == 5)
        #expect(d.serializedSize == 6)
        #expect(d.serialized() == Array(bytes[0..<6]))
    }

    /// RFC7741Section4_2: the minimal one-byte descriptor and a 7-bit picture ID.
    @Test func shortForms() throws {
        let minimal = try [UInt8(0x10), 0x00].withWireBytes { b throws(WireError) in try VP8PayloadDescriptor.parse(b) }
        #expect(minimal.serializedSize == 1 && minimal.pictureID == nil && !minimal.extended)
        let short = try [UInt8(0x80), 0x80, 0x7f, 0xaa].withWireBytes { b throws(WireError) in try VP8PayloadDescriptor.parse(b) }
        #expect(short.pictureID == 0x7F && !short.pictureIDIsLong && short.serializedSize == 3 && !short.startOfPartition)
        // X=1 with no optional field still has its extension byte.
        let bare = try [UInt8(0x90), 0x00, 0x01].withWireBytes { b throws(WireError) in try VP8PayloadDescriptor.parse(b) }
        #expect(bare.serializedSize == 2 && bare.serialized() == [0x90, 0x00])
    }

    /// RFC6386Section9_1: keyframe start code and 14-bit dimensions with scale bits.
    @Test func keyframeHeader() throws {
        let data = hex("50 42 00  9d 01 2a  80 42  68 01")  // 640 (scale 1), 360
        let h = try data.withWireBytes { b throws(WireError) in try VP8FrameHeader.parse(b) }
        #expect(h.isKeyFrame && h.showFrame && h.version == 0 && h.firstPartitionSize == 530)
        #expect(h.width == 640 && h.horizontalScale == 1 && h.height == 360 && h.verticalScale == 0)
        let inter = try hex("51 42 00").withWireBytes { b throws(WireError) in try VP8FrameHeader.parse(b) }
        #expect(!inter.isKeyFrame && inter.width == 0)
        #expect(hex("10 50 42 00 9d 01 2a 80 02 68 01").withUnsafeBytes { VP8PayloadDescriptor.isKeyFrameStart($0) })
        #expect(!hex("10 51 42 00").withUnsafeBytes { VP8PayloadDescriptor.isKeyFrameStart($0) })
        #expect(!hex("11 50 42 00").withUnsafeBytes { VP8PayloadDescriptor.isKeyFrameStart($0) })  // PID 1
    }

    /// Picture ID and TL0PICIDX are rewritten in place in their wire form.
    @Test func rewritePictureID() throws {
        var bytes = hex("90 c0 80 01 05 aa")
        // (An explicit `throws(WireError)` closure here crashes Swift 6.3.1's IRGen; untyped is fine.)
        try bytes.withUnsafeMutableBytes { b in
            try VP8PayloadDescriptor.rewrite(pictureID: 0x7FFF, tl0PictureIndex: 9, in: b)
        }
        #expect(bytes == hex("90 c0 ff ff 09 aa"))
    }

    /// Malformed input table.
    @Test(arguments: [
        (hex(""), WireError(.vp8, .truncated(needed: 1, available: 0), at: 0)),
        (hex("10"), WireError(.vp8, .invalidField("no VP8 data after the descriptor"), at: 1)),
        (hex("80"), WireError(.vp8, .truncated(needed: 1, available: 0), at: 1)),
        (hex("80 80 80"), WireError(.vp8, .truncated(needed: 1, available: 0), at: 3)),
        (hex("80 40"), WireError(.vp8, .truncated(needed: 1, available: 0), at: 2)),
        (hex("80 20"), WireError(.vp8, .truncated(needed: 1, available: 0), at: 2)),
    ])
    func malformed(bytes: [UInt8], expected: WireError) {
        #expect(throws: expected) { try bytes.withWireBytes { b throws(WireError) in try VP8PayloadDescriptor.parse(b) } }
    }

    /// A keyframe tag without the start code is refused.
    @Test func badStartCode() {
        #expect(throws: WireError(.vp8, .invalidField("keyframe start code is not 9d 01 2a"), at: 3)) {
            try hex("50 42 00 9d 01 2b 80 02 68 01").withWireBytes { b throws(WireError) in try VP8FrameHeader.parse(b) }
        }
    }
}
