import Testing
import TestSupport
@testable import MediaWire

/// RFC 6184 payloads (packetization-mode 1): single NAL units, STAP-A, FU-A, and where a decoder
/// joining a stream can start.
struct H264PayloadTests {
    static func parse(_ bytes: [UInt8]) throws(WireError) -> H264Payload {
        try bytes.withWireBytes { b throws(WireError) in try H264Payload.parse(b) }
    }

    static func keyframe(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { H264Payload.isKeyFrameStart($0) } }
    static func starts(_ bytes: [UInt8]) -> H264Payload.Starts { bytes.withUnsafeBytes { H264Payload.starts(in: $0) } }

    /// RFC6184Section5_6: one NAL unit is the whole payload; a non-IDR slice starts no keyframe.
    @Test func rfc6184SingleNALUnit() throws {
        let slice = hex("41 9a 02 10")  // F=0 NRI=2 type 1 (non-IDR slice), slice data
        #expect(try Self.parse(slice) == H264Payload(packetization: .single(type: 1), nri: 2))
        #expect(!Self.keyframe(slice))
        let idr = hex("65 88 84 00 33")  // NRI=3 type 5 (IDR slice)
        #expect(try Self.parse(idr).packetization == .single(type: 5))
        #expect(Self.keyframe(idr) && Self.starts(idr) == H264Payload.Starts(idr: true))
    }

    /// RFC6184Section5_7_1: STAP-A with SPS, PPS and an IDR slice, as encoders send a keyframe's
    /// first packet (x264 with rtph264pay, libwebrtc).
    @Test func rfc6184STAPA() throws {
        let stap = hex("""
            78              // F=0 NRI=3 type 24 (STAP-A)
            00 0b           // NALU 1 size 11
            67 42 c0 1f da 01 40 16 ec 04 40  // SPS (type 7): profile 42, level 1f
            00 04           // NALU 2 size 4
            68 ce 3c 80     // PPS (type 8)
            00 03           // NALU 3 size 3
            65 88 84        // IDR slice (type 5)
            """)
        #expect(try Self.parse(stap) == H264Payload(packetization: .stapA(count: 3), nri: 3))
        #expect(Self.starts(stap) == H264Payload.Starts(idr: true, sequenceParameterSet: true, pictureParameterSet: true))
        #expect(Self.keyframe(stap))
        let parameterSetsOnly = hex("78 00 02 67 42 00 02 68 ce")
        #expect(Self.keyframe(parameterSetsOnly))
    }

    /// RFC6184Section5_8: FU-A fragments; only the first fragment of an IDR starts a keyframe.
    @Test func rfc6184FUA() throws {
        let first = hex("7c 85 88 84 00")   // FU indicator NRI=3 type 28; FU header S=1 type 5
        let middle = hex("7c 05 11 22")      // S=0 E=0
        let last = hex("7c 45 33")           // E=1
        #expect(try Self.parse(first).packetization == .fuA(type: 5, start: true, end: false))
        #expect(try Self.parse(middle).packetization == .fuA(type: 5, start: false, end: false))
        #expect(try Self.parse(last).packetization == .fuA(type: 5, start: false, end: true))
        #expect(Self.keyframe(first) && !Self.keyframe(middle) && !Self.keyframe(last))
        #expect(!Self.keyframe(hex("5c 81 9a 02")))  // FU-A start of a non-IDR slice
    }

    /// Hostile and unsupported payloads give a typed error naming the place; none is a keyframe.
    @Test(arguments: [
        ("", WireError(.h264, .truncated(needed: 1, available: 0), at: 0)),
        ("e1 00", WireError(.h264, .invalidField("forbidden_zero_bit is set"), at: 0)),
        ("41", WireError(.h264, .invalidField("NAL unit of type 1 has no body"), at: 1)),
        ("78", WireError(.h264, .invalidField("STAP-A aggregates no NAL unit"), at: 1)),
        ("78 00", WireError(.h264, .truncated(needed: 2, available: 1), at: 1)),
        ("78 00 00", WireError(.h264, .invalidField("STAP-A unit of size 0"), at: 1)),
        ("78 00 09 67 42", WireError(.h264, .badLength(declared: 9, available: 2), at: 1)),
        ("78 00 02 e7 42", WireError(.h264, .invalidField("forbidden_zero_bit is set in an aggregated unit"), at: 3)),
        ("78 00 02 78 42", WireError(.h264, .invalidField("aggregated unit of type 24"), at: 3)),
        ("7c", WireError(.h264, .truncated(needed: 1, available: 0), at: 1)),
        ("7c c5 00", WireError(.h264, .invalidField("FU-A header has both start and end set"), at: 1)),
        ("7c 9c 00", WireError(.h264, .invalidField("FU-A fragments a unit of type 28"), at: 1)),
        ("7c 85", WireError(.h264, .invalidField("FU-A carries no fragment"), at: 2)),
        ("79 00 02", WireError(.h264, .invalidField("type 25 needs packetization-mode 2 (interleaved), which is not negotiated"), at: 0)),
        ("7d 85 00", WireError(.h264, .invalidField("type 29 needs packetization-mode 2 (interleaved), which is not negotiated"), at: 0)),
        ("60 00", WireError(.h264, .invalidField("NAL unit type 0 is reserved"), at: 0)),
        ("7f 00", WireError(.h264, .invalidField("NAL unit type 31 is reserved"), at: 0)),
    ] as [(String, WireError)])
    func malformed(text: String, error: WireError) {
        let bytes = hex(text)
        #expect(throws: error) { try Self.parse(bytes) }
        #expect(!Self.keyframe(bytes))
    }
}

/// RFC 6184 §8.1 profile-level-id and how profiles match (§8.2.2).
struct H264ProfileLevelIDTests {
    @Test func profilesFromTheConstraintFlags() throws {
        let cases: [(String, H264ProfileLevelID.Profile)] = [
            ("42e01f", .constrainedBaseline), ("42c01f", .constrainedBaseline), ("42001f", .baseline), ("4d001f", .main),
            ("4d401f", .constrainedBaseline), ("640c1f", .constrainedHigh), ("64001f", .high), ("f4001f", .high444),
        ]
        for (text, profile) in cases {
            let p = try #require(H264ProfileLevelID(text))
            #expect(p.profile == profile, "\(text)")
            #expect(p.description == text)
        }
        #expect(H264ProfileLevelID("42e01") == nil && H264ProfileLevelID("zz0000") == nil && H264ProfileLevelID("ff001f") == nil)
        #expect(try #require(H264ProfileLevelID("42e01f")).matches(try #require(H264ProfileLevelID("42c034"))))
        #expect(try !#require(H264ProfileLevelID("42e01f")).matches(try #require(H264ProfileLevelID("42001f"))))
    }

    @Test func fmtpParameters() {
        let fmtp = "level-asymmetry-allowed=1;packetization-mode=1; profile-level-id=42e01f"
        #expect(H264ProfileLevelID.from(fmtp: fmtp)?.profile == .constrainedBaseline)
        #expect(H264ProfileLevelID.packetizationMode(fmtp: fmtp) == 1)
        #expect(H264ProfileLevelID.packetizationMode(fmtp: "profile-level-id=42e01f") == 0)
        #expect(H264ProfileLevelID.from(fmtp: "packetization-mode=1") == H264ProfileLevelID.default)
        #expect(H264ProfileLevelID.from(fmtp: "profile-level-id=xyz") == nil)
    }
}
