import Testing
import TestSupport
@testable import MediaWire

/// Opus TOC and framing (RFC 6716 §3.1, §3.2, §3.4).
struct OpusPacketTests {
    static func parse(_ b: [UInt8]) throws(WireError) -> OpusPacket { try b.withWireBytes { x throws(WireError) in try OpusPacket.parse(x) } }

    /// RFC6716Section3_1Table2: configurations map to mode, bandwidth and frame duration.
    @Test(arguments: [
        (UInt8(0), OpusPacket.Mode.silk, OpusPacket.Bandwidth.narrow, 480),
        (3, .silk, .narrow, 2880),
        (9, .silk, .wide, 960),
        (13, .hybrid, .superWide, 960),
        (14, .hybrid, .full, 480),
        (16, .celt, .narrow, 120),
        (31, .celt, .full, 960),
    ] as [(UInt8, OpusPacket.Mode, OpusPacket.Bandwidth, Int)])
    func table2(config: UInt8, mode: OpusPacket.Mode, bandwidth: OpusPacket.Bandwidth, samples: Int) throws {
        let p = try Self.parse([config << 3, 0xAA])
        #expect(p.mode == mode && p.bandwidth == bandwidth && p.samplesPerFrame == samples && p.frameCount == 1)
    }

    /// RFC6716Section3_2: frame count codes 0–3, stereo flag, packet duration.
    @Test func frameCountCodes() throws {
        // What browsers send: config 31 (CELT FB 20 ms)? No — SILK/hybrid WB/FB 20 ms, stereo, code 0.
        let webrtc = try Self.parse([0x7C, 1, 2, 3])  // config 15, s=1, c=0
        #expect(webrtc.stereo && webrtc.frameCount == 1 && webrtc.samples == 960)
        #expect(try Self.parse([0x79, 1, 2]).frameCount == 2)            // code 1, two equal frames
        #expect(try Self.parse([0x7A, 2, 1, 2, 3, 4]).frameCount == 2)   // code 2, first frame 2 bytes
        let cbr = try Self.parse([0x7B, 0x03, 1, 2, 3])                  // code 3 CBR, 3 frames of 1 byte
        #expect(cbr.frameCount == 3 && cbr.samples == 2880)
        let vbr = try Self.parse([0x7B, 0x82, 1, 9, 9])                  // code 3 VBR, 2 frames: 1 + 1 byte
        #expect(vbr.frameCount == 2)
        let padded = try Self.parse([0x7B, 0x41, 2, 7, 0, 0])            // code 3, padding 2, one frame
        #expect(padded.frameCount == 1)
        let sixFrames = try Self.parse([0x03 << 3 | 3, 0x02, 0, 0])      // 2 × 60 ms = 120 ms: the maximum
        #expect(sixFrames.samples == OpusPacket.maximumSamples)
    }

    /// RFC6716Section3_4: packets breaking rules R1–R7 are refused.
    @Test(arguments: [
        ([], WireError(.opus, .truncated(needed: 1, available: 0), at: 0)),                         // R1
        ([0x79, 1, 2, 3], WireError(.opus, .invalidField("code 1 needs an even payload length"), at: 1)),  // R3
        ([0x7A, 9, 1], WireError(.opus, .badLength(declared: 9, available: 1), at: 1)),             // R4
        ([0x7B, 0x00], WireError(.opus, .invalidField("code 3 with zero frames"), at: 1)),           // R5
        ([0x03 << 3 | 3, 0x03], WireError(.opus, .invalidField("packet longer than 120 ms"), at: 1)), // R5
        ([0x7B, 0x03, 1, 2], WireError(.opus, .invalidField("CBR frames do not divide the payload"), at: 1)),  // R6
        ([0x7B, 0x82, 9, 1], WireError(.opus, .badLength(declared: 9, available: 1), at: 3)),       // R7
        ([0x7B, 0x41, 200, 1], WireError(.opus, .badLength(declared: 200, available: 1), at: 2)),   // padding
        ([0x7B], WireError(.opus, .truncated(needed: 1, available: 0), at: 1)),
    ] as [([UInt8], WireError)])
    func malformed(bytes: [UInt8], expected: WireError) {
        #expect(throws: expected) { try Self.parse(bytes) }
    }

    /// A 1276-byte single frame breaks R2.
    @Test func frameTooLong() {
        #expect(throws: WireError(.opus, .invalidField("frame longer than 1275 bytes"), at: 1)) {
            try Self.parse([0x78] + [UInt8](repeating: 0, count: 1276))
        }
    }
}
