import MediaCrypto
import MediaWire
import SFU
import Testing
@testable import Ingest

/// The media-thread side of an ingress port: comedia latch, RTCP counted apart, RTP into the
/// router's source, feedback toward the latched sender.
struct PlainRTPReceiverTests {
    static let drone = ParticipantKey(room: "ops", identity: "drone-7")

    static func rtp(_ seq: UInt16, pt: UInt8 = 96) -> [UInt8] {
        var b = RTPPacketBuilder(payloadType: pt, sequenceNumber: seq, timestamp: UInt32(seq) * 3000, ssrc: 0xD0, marker: true)
        b.payload = [0x10, seq == 1 ? 0x00 : 0x01, 0x00, 0x00] + [UInt8](repeating: 1, count: 50)
        return b.serialized()
    }

    @Test func theFirstSenderIsLatchedAndOthersAreCounted() throws {
        let router = MediaRouter(dtlsContext: DTLSContext(certificate: try DTLSCertificate.generate()))
        let receiver = PlainRTPReceiver(counters: IngressCounters(), socket: 9)
        receiver.source = router.addSource(publisher: Self.drone, tracks: [.init(codec: .vp8, payloadType: 96)])
        let ring = TapRing(capacity: 16)
        #expect(router.addTap(ring, to: MediaRouter.TrackKey(publisher: Self.drone, kind: .video)))
        let camera = TransportAddress("127.0.0.1:5004")!, stray = TransportAddress("127.0.0.1:6000")!
        func receive(_ bytes: [UInt8], from: TransportAddress, at ms: UInt64) {
            bytes.withUnsafeBytes { receiver.receive($0, from: from, now: ms * 1_000_000, router: router) { _, _ in } }
        }
        receive(Self.rtp(1), from: camera, at: 10)
        receive(Self.rtp(2), from: stray, at: 20)
        receive(RTCPPacket.receiverReport(RTCPReceiverReport(ssrc: 1, reports: [])).serialized(), from: camera, at: 30)
        receive(Self.rtp(3), from: camera, at: 40)
        receive(Self.rtp(4, pt: 100), from: camera, at: 50)  // a payload type not declared: the router drops it
        let s = receiver.counters.snapshot
        #expect(s.packets == 3 && s.rtcpPackets == 1 && s.droppedOtherSender == 1 && s.latched == camera && s.lastPacketAt == 50_000_000)
        var seqs: [UInt16] = []
        ring.drain { p, _ in if let h = try? RTPHeader.parse(p) { seqs.append(h.sequenceNumber) } }
        #expect(seqs == [1, 3])
        #expect(router.stats.droppedMalformed == 1)
        // A keyframe request for its source becomes a PLI for the sender's SSRC.
        let pli = try #require(receiver.feedback(for: .keyframeRequested(receiver.source!, ssrc: 0xD0)))
        let parsed = try RTCPCompound.parse(pli)
        #expect(parsed == [.pictureLossIndication(RTCPPictureLossIndication(senderSSRC: PlainRTPReceiver.feedbackSSRC, mediaSSRC: 0xD0))])
        #expect(receiver.feedback(for: .keyframeRequested(receiver.source! + 1, ssrc: 0xD0)) == nil)
    }

    /// Garbage from the latched sender is dropped by the router, never a crash.
    @Test func garbageFromTheSenderIsDropped() throws {
        let router = MediaRouter(dtlsContext: DTLSContext(certificate: try DTLSCertificate.generate()))
        let receiver = PlainRTPReceiver(counters: IngressCounters(), socket: 9)
        receiver.source = router.addSource(publisher: Self.drone, tracks: [.init(codec: .h264, payloadType: 102)])
        var rng = SystemRandomNumberGenerator()
        let from = TransportAddress("127.0.0.1:5004")!
        for n in 0..<2000 {
            var bytes = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if n % 2 == 0, bytes.count > 12 { bytes[0] = 0x80; bytes[1] = 102 }  // parses as RTP of the track
            bytes.withUnsafeBytes { receiver.receive($0, from: from, now: UInt64(n) * 1_000_000, router: router) { _, _ in } }
        }
        #expect(receiver.counters.snapshot.packets + receiver.counters.snapshot.rtcpPackets <= 2000)
    }

    /// H.264 is held back until an SPS says a browser can decode it; an interlaced SPS refuses
    /// the video with its reason, a later good SPS accepts it again.
    @Test func h264IsCheckedByItsSequenceParameterSet() throws {
        let router = MediaRouter(dtlsContext: DTLSContext(certificate: try DTLSCertificate.generate()))
        let receiver = PlainRTPReceiver(counters: IngressCounters(), socket: 9)
        receiver.source = router.addSource(publisher: Self.drone, tracks: [.init(codec: .h264, payloadType: 102)])
        receiver.h264PayloadType = 102
        let from = TransportAddress("127.0.0.1:5004")!
        func send(_ seq: UInt16, _ payload: [UInt8]) {
            var b = RTPPacketBuilder(payloadType: 102, sequenceNumber: seq, timestamp: UInt32(seq) * 3000, ssrc: 0xD0, marker: true)
            b.payload = payload
            b.serialized().withUnsafeBytes { receiver.receive($0, from: from, now: UInt64(seq) * 1_000_000, router: router) { _, _ in } }
        }
        let slice: [UInt8] = [0x41, 0x9A, 0x00, 0x10]
        func stapA(_ sps: String) -> [UInt8] {
            let unit = Self.hexBytes(sps)
            return [0x18, UInt8(unit.count >> 8), UInt8(unit.count & 0xFF)] + unit + [0x00, 0x04, 0x68, 0xCE, 0x38, 0x80]
        }
        send(1, slice)  // before any SPS: held back
        #expect(router.stats.packetsIn == 0)
        send(2, stapA("67640015ace405043f2e02d418181a94000003000400000300f27c50a920"))  // interlaced
        send(3, slice)
        #expect(router.stats.packetsIn == 0 && receiver.counters.snapshot.videoRefusal?.contains("interlaced") == true)
        send(4, stapA("6742c015d90141fb016a0c0c0d4a000003000200000300791e2c5c90"))  // baseline, progressive
        send(5, slice)
        #expect(router.stats.packetsIn == 2 && receiver.counters.snapshot.videoRefusal == nil)
    }

    static func hexBytes(_ text: String) -> [UInt8] {
        stride(from: 0, to: text.count, by: 2).map { i in UInt8(text.dropFirst(i).prefix(2), radix: 16)! }
    }
}
