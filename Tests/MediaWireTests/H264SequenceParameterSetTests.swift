import Testing
import TestSupport
@testable import MediaWire

/// Sequence parameter sets as x264 writes them (GStreamer `x264enc`, 320×240), and hostile ones.
struct H264SequenceParameterSetTests {
    static func parse(_ hex: String) throws(WireError) -> H264SequenceParameterSet {
        let bytes = TestSupport.hex(hex)
        let result = bytes.withUnsafeBytes { raw in Result { () throws(WireError) in try H264SequenceParameterSet.parse(raw) } }
        return try result.get()
    }

    @Test func x264ConstrainedBaseline() throws {
        let s = try Self.parse("6742c015d90141fb016a0c0c0d4a000003000200000300791e2c5c90")
        #expect(s.profileIDC == 66 && s.chromaFormatIDC == 1 && s.bitDepthLuma == 8 && s.frameMBsOnly)
        #expect(s.width == 320 && s.height == 240 && (s.maxNumReorderFrames ?? 0) == 0 && s.browserIncompatibility == nil)
    }

    @Test(arguments: [
        ("67640014acd94141fb016a0c0c0d4a000003000200000300791e28532c", "B-frames"),
        ("67640015ace405043f2e02d418181a94000003000400000300f27c50a920", "interlaced"),
        ("677a000dbcb20283f602d41818190000030001000003003c8f142a48", "4:2:2"),
        ("676e000da6cb20283f602d418181a940000003004000000f23c50a92", "10-bit"),
    ])
    func whatBrowsersCannotDecodeIsNamed(hex: String, reason: String) throws {
        let s = try Self.parse(hex)
        #expect(s.width == 320 && s.height == 240, "\(s)")
        #expect(s.browserIncompatibility?.contains(reason) == true, "\(s.browserIncompatibility ?? "none")")
    }

    @Test(arguments: [
        ("", WireError(.h264, .truncated(needed: 1, available: 0), at: 0)),
        ("68ce3880", WireError(.h264, .invalidField("NAL unit of type 8 is not an SPS"), at: 0)),
        ("6742", WireError(.h264, .truncated(needed: 3, available: 2), at: 2)),
    ])
    func malformed(hex: String, error: WireError) {
        #expect(throws: error) { try Self.parse(hex) }
    }

    /// An Exp-Golomb prefix of 32 zero bits, a size field out of range, cropping past the picture.
    @Test func hostileFieldsAreRefused() {
        #expect(throws: WireError.self) { try Self.parse("67420015" + "00000000" + "00") }
        #expect(throws: WireError.self) { try Self.parse("6742c015" + String(repeating: "00", count: 5000)) }
        // pic_width_in_mbs_minus1 = 2047 (above 1023).
        #expect(throws: WireError.self) { try Self.parse("6742c015" + "f0" + "0000" + "8000") }
    }
}
