import Testing
import TestSupport
@testable import MediaWire

/// RTCP compound packets and every packet type we parse and build (RFC 3550, 4585, 5104,
/// draft-holmer transport-cc, draft-alvestrand REMB).
struct RTCPTests {
    static func parse(_ bytes: [UInt8]) throws -> [RTCPPacket] { try RTCPCompound.parse(bytes) }

    /// RFC3550Section6_4_1: a sender report with one report block, decoded field by field and
    /// re-serialised byte for byte.
    @Test func rfc3550SenderReport() throws {
        let bytes = hex("""
            81 c8 00 0c              // V=2 P=0 RC=1 PT=SR length=12
            00 00 00 01              // SSRC of sender
            e6 5b 3e 80 40 00 00 00  // NTP timestamp
            00 00 03 e8              // RTP timestamp 1000
            00 00 00 0a              // sender's packet count
            00 00 04 00              // sender's octet count
            00 00 00 02              // report block: SSRC
            10 ff ff fe              // fraction lost 16/256, cumulative lost -2
            00 01 00 05              // extended highest sequence number
            00 00 00 20              // interarrival jitter
            11 22 33 44              // LSR
            00 00 80 00              // DLSR (0.5 s)
            """)
        let packets = try Self.parse(bytes)
        guard case .senderReport(let sr) = packets.first, packets.count == 1 else { Issue.record("not one SR"); return }
        #expect(sr.ssrc == 1 && sr.ntpTimestamp == 0xE65B_3E80_4000_0000 && sr.rtpTimestamp == 1000)
        #expect(sr.packetCount == 10 && sr.octetCount == 1024)
        #expect(sr.reports == [RTCPReportBlock(ssrc: 2, fractionLost: 16, cumulativeLost: -2, extendedHighestSequence: 0x10005,
                                               jitter: 32, lastSenderReport: 0x11223344, delaySinceLastSenderReport: 0x8000)])
        #expect(RTCPCompound.serialize(packets) == bytes)
    }

    /// RFC3550Section6_1Compound: RR + SDES CNAME + BYE with reason, as a receiver sends them.
    @Test func rfc3550CompoundReceiverReportSDESBye() throws {
        let bytes = hex("""
            80 c9 00 01  00 00 00 07              // RR, no blocks, SSRC 7
            81 ca 00 03  00 00 00 07              // SDES, one chunk, SSRC 7
            01 05 61 62 63 64 65 00               // CNAME "abcde", end of items
            81 cb 00 03  00 00 00 07              // BYE SSRC 7
            04 62 79 65 21 00 00 00               // reason "bye!" + zero padding
            """)
        let packets = try Self.parse(bytes)
        #expect(packets == [
            .receiverReport(RTCPReceiverReport(ssrc: 7)),
            .sourceDescription(RTCPSourceDescription(source: 7, cname: "abcde")),
            .goodbye(RTCPGoodbye(sources: [7], reason: Array("bye!".utf8))),
        ])
        #expect(RTCPCompound.serialize(packets) == bytes)
    }

    /// RFC4585Section6_2_1: generic NACK packs lost sequence numbers into PID/BLP pairs.
    @Test func rfc4585GenericNack() throws {
        let nack = RTCPNack(senderSSRC: 1, mediaSSRC: 2, lost: [100, 101, 105, 117, 118])
        #expect(nack.pairs == [.init(packetID: 100, lostBitmask: 0x0011), .init(packetID: 117, lostBitmask: 0x0001)])
        #expect(nack.lostSequenceNumbers == [100, 101, 105, 117, 118])
        let bytes = RTCPPacket.nack(nack).serialized()
        #expect(bytes == hex("81 cd 00 04  00 00 00 01  00 00 00 02  00 64 00 11  00 75 00 01"))
        #expect(try Self.parse(bytes) == [.nack(nack)])
        // Across the sequence wrap.
        #expect(RTCPNack(senderSSRC: 1, mediaSSRC: 2, lost: [65535, 0, 1]).lostSequenceNumbers == [65535, 0, 1])
    }

    /// RFC4585Section6_3_1 PLI and RFC5104Section4_3_1 FIR round-trip byte for byte.
    @Test func pliAndFir() throws {
        let pli = hex("81 ce 00 02  00 00 00 01  00 00 00 02")
        #expect(try Self.parse(pli) == [.pictureLossIndication(.init(senderSSRC: 1, mediaSSRC: 2))])
        let fir = hex("84 ce 00 04  00 00 00 01  00 00 00 00  00 00 00 09  05 00 00 00")
        let parsed = try Self.parse(fir)
        #expect(parsed == [.fullIntraRequest(.init(senderSSRC: 1, entries: [.init(ssrc: 9, sequenceNumber: 5)]))])
        #expect(RTCPCompound.serialize(parsed) == fir)
    }

    /// draft-alvestrand-rmcat-remb-03 §2.2: REMB bitrate = mantissa · 2^exp.
    @Test func remb() throws {
        let remb = RTCPREMB(senderSSRC: 1, bitrate: 1_000_000, ssrcs: [0x1234])
        #expect(remb.exponent == 2 && remb.mantissa == 250_000 && remb.bitrate == 1_000_000)
        let bytes = RTCPPacket.remb(remb).serialized()
        #expect(bytes == hex("8f ce 00 05  00 00 00 01  00 00 00 00  52 45 4d 42  01 0b d0 90  00 00 12 34"))
        #expect(try Self.parse(bytes) == [.remb(remb)])
        // Another AFB message (not "REMB") stays opaque.
        let afb = hex("8f ce 00 03  00 00 00 01  00 00 00 00  41 42 43 44")
        #expect(try Self.parse(afb) == [.unknown(packetType: 206, count: 15, body: Array(afb[4...]))])
    }

    /// APP packets and unknown types are kept opaque and re-serialise identically.
    @Test func applicationDefinedAndUnknown() throws {
        let bytes = hex("""
            82 cc 00 03  00 00 00 05  71 6f 73 31  de ad be ef   // APP subtype 2, name "qos1"
            80 cf 00 01  01 02 03 04                             // PT 207 (XR), opaque
            """)
        let packets = try Self.parse(bytes)
        #expect(packets == [
            .applicationDefined(.init(subtype: 2, source: 5, name: 0x716F_7331, data: [0xDE, 0xAD, 0xBE, 0xEF])),
            .unknown(packetType: 207, count: 0, body: [1, 2, 3, 4]),
        ])
        #expect(RTCPCompound.serialize(packets) == bytes)
    }

    /// Transport-cc feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1): a
    /// run-length chunk, a two-bit status vector with a large delta, a one-bit status vector, small
    /// and large deltas, zero padding — decoded and re-encoded byte for byte.
    @Test func transportCCRunLengthAndBothVectorSizes() throws {
        let bytes = hex("""
            8f cd 00 0a                 // V=2 FMT=15 PT=205 length=10
            00 00 00 01                 // SSRC of packet sender
            00 00 00 02                 // SSRC of media source
            00 64 00 14                 // base sequence 100, status count 20
            ff ff fe 05                 // reference time -2 (× 64 ms), feedback count 5
            20 0c                       // run length: small delta × 12
            e1 40                       // 2-bit vector: large, not received, small, small, not received ×3
            a0 00                       // 1-bit vector: small, then 13 not received
            04 04 04 04 04 04 04 04 04 04 04 04  // twelve 1 ms deltas
            ff 38                       // large delta: -200 × 250 µs
            08 0c                       // two small deltas
            10                          // small delta
            00                          // padding to 32 bits
            """)
        let packets = try Self.parse(bytes)
        guard case .transportCC(let fb) = packets.first else { Issue.record("not transport-cc"); return }
        #expect(fb.baseSequenceNumber == 100 && fb.packetStatusCount == 20 && fb.referenceTime == -2 && fb.feedbackPacketCount == 5)
        #expect(fb.chunks.count == 3)
        #expect(fb.chunks[0] == .runLength(.smallDelta, count: 12))
        #expect(fb.chunks[1] == .twoBitVector([.largeDelta, .notReceived, .smallDelta, .smallDelta, .notReceived, .notReceived, .notReceived]))
        let s = fb.statuses
        #expect(s.count == 20 && s.filter { $0 != .notReceived }.count == 16)
        #expect(fb.receiveDeltas == Array(repeating: 4, count: 12) + [-200, 8, 12, 16])
        #expect(RTCPCompound.serialize(packets) == bytes)
    }

    /// The automatic encoder picks run-length, one-bit and two-bit chunks and round-trips.
    @Test func transportCCEncoderChoosesChunks() throws {
        var deltas: [Int16?] = Array(repeating: 1, count: 20)          // run → run-length
        deltas += [nil, 3, nil, 3, nil, 3, nil, 3, nil, 3, nil, 3, 3, 3] // mixed, no large → 1-bit
        deltas += [300, nil, 2, -5, nil]                                  // large → 2-bit
        let fb = RTCPTransportCC(senderSSRC: 1, mediaSSRC: 2, baseSequenceNumber: 65530, referenceTime: 100,
                                 feedbackPacketCount: 0, deltas: deltas)
        #expect(fb.chunks.contains { if case .runLength = $0 { true } else { false } })
        #expect(fb.chunks.contains { if case .oneBitVector = $0 { true } else { false } })
        #expect(fb.chunks.contains { if case .twoBitVector = $0 { true } else { false } })
        let parsed = try Self.parse(RTCPPacket.transportCC(fb).serialized())
        #expect(parsed == [.transportCC(fb)])
        guard case .transportCC(let back) = parsed[0] else { return }
        #expect(back.statuses.count == deltas.count)
        #expect(back.receiveDeltas == deltas.compactMap { $0 })
    }

    /// Round trip of every type built in code, as one compound.
    @Test func roundTripEveryType() throws {
        let packets: [RTCPPacket] = [
            .senderReport(.init(ssrc: 1, ntpTimestamp: 42, rtpTimestamp: 3, packetCount: 4, octetCount: 5,
                                reports: [.init(ssrc: 9, fractionLost: 1, cumulativeLost: 0x7FFFFF, extendedHighestSequence: 2)])),
            .receiverReport(.init(ssrc: 2, reports: [.init(ssrc: 3, cumulativeLost: -0x800000)])),
            .sourceDescription(.init(chunks: [.init(source: 1, items: [.init(type: 1, text: Array("cname".utf8)), .init(type: 6, text: [])]),
                                              .init(source: 2, items: [])])),
            .goodbye(.init(sources: [1, 2, 3])),
            .applicationDefined(.init(subtype: 31, source: 1, name: 0x41424344, data: [])),
            .nack(.init(senderSSRC: 1, mediaSSRC: 2, lost: [1, 3, 5])),
            .transportCC(.init(senderSSRC: 1, mediaSSRC: 2, baseSequenceNumber: 1, referenceTime: -1, feedbackPacketCount: 255, deltas: [1, nil, 1000])),
            .pictureLossIndication(.init(senderSSRC: 1, mediaSSRC: 2)),
            .fullIntraRequest(.init(senderSSRC: 1, entries: [.init(ssrc: 2, sequenceNumber: 255), .init(ssrc: 3, sequenceNumber: 0)])),
            .remb(.init(senderSSRC: 1, bitrate: 0, ssrcs: [])),
            .unknown(packetType: 195, count: 3, body: [9, 9, 9, 9]),
        ]
        let bytes = RTCPCompound.serialize(packets)
        #expect(bytes.count == RTCPCompound.serializedSize(packets))
        #expect(try Self.parse(bytes) == packets)
    }

    /// Padding on the last packet is removed; on any other packet it is an error.
    @Test func padding() throws {
        let padded = hex("a1 ce 00 03  00 00 00 01  00 00 00 02  00 00 00 04")  // PLI + 4 bytes padding
        #expect(try Self.parse(padded) == [.pictureLossIndication(.init(senderSSRC: 1, mediaSSRC: 2))])
        #expect(throws: WireError(.rtcp, .invalidField("padding on a packet that is not last"), at: 0)) {
            try Self.parse(padded + hex("81 ce 00 02  00 00 00 01  00 00 00 02"))
        }
    }

    /// Malformed input table: each gives its typed error and offset.
    @Test(arguments: [
        (hex("80 c9 00"), WireError(.rtcp, .truncated(needed: 4, available: 3), at: 0)),
        (hex("40 c9 00 01 00 00 00 01"), WireError(.rtcp, .badVersion(1), at: 0)),
        (hex("80 c9 00 05 00 00 00 01"), WireError(.rtcp, .badLength(declared: 24, available: 8), at: 2)),
        (hex("80 c9 00 01 00 00 00 01 80"), WireError(.rtcp, .truncated(needed: 4, available: 1), at: 8)),
        (hex("a0 c9 00 01 00 00 00 00"), WireError(.rtcp, .badPadding(0), at: 7)),
        (hex("a0 c9 00 01 00 00 00 09"), WireError(.rtcp, .badPadding(9), at: 7)),
        (hex("81 c9 00 01 00 00 00 01"), WireError(.rtcp, .truncated(needed: 24, available: 0), at: 8)),
        // Found by fuzz-rtcp: 2 bytes of padding leave a body that is not 32-bit aligned.
        (hex("ac 87 00 06 99 e6 56 62 ee b3 98 a2 f3 c9 70 f7 b3 2a f4 67 01 00 00 00 00 00 01 02"), WireError(.rtcp, .badPadding(2), at: 27)),
        (hex("81 c8 00 01 00 00 00 01"), WireError(.rtcp, .truncated(needed: 8, available: 0), at: 8)),
        (hex("81 cd 00 02 00 00 00 01 00 00 00 02"), WireError(.rtcp, .invalidField("NACK without a PID/BLP pair"), at: 12)),
        (hex("84 ce 00 02 00 00 00 01 00 00 00 02"), WireError(.rtcp, .invalidField("FIR without an FCI entry"), at: 12)),
        (hex("8f cd 00 05 00 00 00 01 00 00 00 02 00 01 00 01 00 00 00 00 60 01 00 00"),
         WireError(.rtcp, .invalidField("reserved status symbol in run-length chunk"), at: 20)),
        (hex("8f cd 00 05 00 00 00 01 00 00 00 02 00 01 00 01 00 00 00 00 20 00 00 00"),
         WireError(.rtcp, .invalidField("run-length chunk of zero"), at: 20)),
        (hex("8f cd 00 05 00 00 00 01 00 00 00 02 00 01 00 01 00 00 00 00 f0 00 00 00"),
         WireError(.rtcp, .invalidField("reserved status symbol in status vector"), at: 20)),
        (hex("8f cd 00 05 00 00 00 01 00 00 00 02 00 01 00 03 00 00 00 00 20 03 00 00"),
         WireError(.rtcp, .truncated(needed: 3, available: 2), at: 22)),
        (hex("81 ca 00 02 00 00 00 01 01 09 61 62"), WireError(.rtcp, .truncated(needed: 9, available: 2), at: 10)),
    ])
    func malformed(bytes: [UInt8], expected: WireError) {
        #expect(throws: expected) { try Self.parse(bytes) }
    }

    /// More packets than the bound in one datagram is refused (bounded work for hostile input).
    @Test func tooManyPackets() {
        let one = hex("80 c9 00 01 00 00 00 01")
        let many = Array((0..<(RTCPCompound.maximumPackets + 1)).map { _ in one }.joined())
        #expect(throws: WireError(.rtcp, .tooMany("packets", limit: RTCPCompound.maximumPackets), at: 8 * RTCPCompound.maximumPackets)) {
            try Self.parse(many)
        }
    }

    /// Every strict prefix of a valid compound is rejected (RTCP lengths are self-describing).
    @Test func everyTruncationRejected() throws {
        let compound = RTCPCompound.serialize([
            .senderReport(.init(ssrc: 1, ntpTimestamp: 1, rtpTimestamp: 1, packetCount: 1, octetCount: 1, reports: [.init(ssrc: 2)])),
            .sourceDescription(.init(source: 1, cname: "x")),
            .transportCC(.init(senderSSRC: 1, mediaSSRC: 2, baseSequenceNumber: 1, referenceTime: 0, feedbackPacketCount: 0, deltas: [1, 2, nil, 400])),
        ])
        for n in 0..<compound.count where n % 4 != 0 || n == 0 {
            #expect(throws: WireError.self) { try Self.parse(Array(compound[..<n])) }
        }
    }
}
