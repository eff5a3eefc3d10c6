import Dispatch
import MediaCrypto
import MediaWire
import Testing
@testable import SFU

/// The media graph's seams beside WebRTC (issue 17): a source that hands the router clear RTP,
/// and taps that receive a track's clear packets through a bounded ring.
struct SourcesAndTapsTests {
    static let ms: UInt64 = 1_000_000
    static let drone = ParticipantKey(room: "ops", identity: "drone-7")

    static func vp8(_ seq: UInt16, keyframe: Bool = false, ssrc: UInt32 = 0x5EED) -> [UInt8] {
        var b = RTPPacketBuilder(payloadType: 96, sequenceNumber: seq, timestamp: UInt32(seq) * 3000, ssrc: ssrc, marker: true)
        // VP8 descriptor S=1 PID=0, then a frame tag whose P bit says key (0) or not (1).
        b.payload = [0x10, keyframe ? 0x00 : 0x01, 0x00, 0x00] + [UInt8](repeating: UInt8(truncatingIfNeeded: seq), count: 60)
        return b.serialized()
    }

    /// A router with a plain VP8 source and one connected WebRTC viewer subscribed to it.
    static func sourceAndViewer() throws -> (MediaRouter, SourceID, RTCPReportTests.Leg) {
        let router = MediaRouter(dtlsContext: DTLSContext(certificate: try DTLSCertificate.generate()), iceCredentials: ICELiteAgentTests.credentials)
        let source = router.addSource(publisher: Self.drone, tracks: [.init(codec: .vp8, payloadType: 96)])
        let viewer = RTCPReportTests.Leg(port: 20_000)
        let sub = router.addTransport(RTCPReportTests.answer(.sending), localUfrag: "s", now: 0)
        router.connectWithoutHandshake(transport: sub, keys: viewer.keys, address: viewer.address)
        router.subscribe(transport: sub, to: MediaRouter.TrackKey(publisher: Self.drone, kind: .video), ssrc: 1000, now: 0)
        return (router, source, viewer)
    }

    /// A plain source's track fans out to a WebRTC viewer, SRTP-protected with the viewer's keys
    /// and rewritten to the viewer's SSRC; a packet of an undeclared payload type is dropped.
    @Test func aPlainSourceFansOutToWebRTCViewers() throws {
        let (router, source, viewer) = try Self.sourceAndViewer()
        var received: [RTPHeader] = []
        for seq: UInt16 in 1...5 {
            Self.vp8(seq, keyframe: seq == 1).withUnsafeBytes { p in
                router.ingest(source: source, packet: p, now: UInt64(seq) * 33 * Self.ms) { bytes, to in
                    guard to == viewer.address else { return }
                    var b = Array(bytes)
                    if let n = try? b.withUnsafeMutableBytes({ try viewer.peerReceive.unprotectRTP($0, length: $0.count) }),
                       let h = try? b.withUnsafeBytes({ try RTPHeader.parse(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }) { received.append(h) }
                }
            }
        }
        #expect(received.count == 5 && received.allSatisfy { $0.ssrc == 1000 && $0.payloadType == 96 })
        var wrong = Self.vp8(6)
        wrong[1] = 0x80 | 100  // marker, PT 100
        let dropped = router.stats.droppedMalformed
        wrong.withUnsafeBytes { router.ingest(source: source, packet: $0, now: 300 * Self.ms) { _, _ in } }
        #expect(router.stats.droppedMalformed == dropped + 1)
    }

    /// A viewer's PLI for a source's stream, and a gap in what the source sends, come out as
    /// router events for the source (it has no RTCP of its own), rate-limited like PLIs.
    @Test func feedbackToASourceIsAnEvent() throws {
        let (router, source, _) = try Self.sourceAndViewer()
        for seq: UInt16 in [1, 2, 5] {
            Self.vp8(seq, keyframe: seq == 1).withUnsafeBytes { router.ingest(source: source, packet: $0, now: UInt64(seq) * 33 * Self.ms) { _, _ in } }
        }
        for t in stride(from: UInt64(200), through: 600, by: 20) { router.tick(now: t * Self.ms) { _, _ in } }
        let events = router.takeEvents()
        #expect(events.contains(.keyframeRequested(source, ssrc: 0x5EED)))  // the new viewer's
        #expect(events.contains { if case .retransmissionRequested(source, 0x5EED, let lost) = $0 { lost == [3, 4] } else { false } })
    }

    /// A tap receives every packet of its track in order with its arrival time, whether the
    /// track comes from a source or a WebRTC publisher; removing the source ends the tap.
    @Test func aTapReceivesEveryPacketInOrder() throws {
        let (router, source, _) = try Self.sourceAndViewer()
        let ring = TapRing(capacity: 64)
        #expect(router.addTap(ring, to: MediaRouter.TrackKey(publisher: Self.drone, kind: .video)))
        #expect(!router.addTap(TapRing(capacity: 4), to: MediaRouter.TrackKey(publisher: Self.drone, kind: .audio)))
        for seq: UInt16 in 1...40 {
            Self.vp8(seq, keyframe: seq == 1).withUnsafeBytes { router.ingest(source: source, packet: $0, now: UInt64(seq) * Self.ms) { _, _ in } }
        }
        var seen: [(UInt16, UInt64)] = []
        ring.drain { packet, arrival in
            if let h = try? RTPHeader.parse(packet) { seen.append((h.sequenceNumber, arrival)) }
        }
        #expect(seen.map(\.0) == Array(1...40) && seen.map(\.1) == (1...40).map { UInt64($0) * Self.ms })
        #expect(ring.takeDropped() == 0 && !ring.isEnded)
        router.removeSource(source)
        #expect(ring.isEnded)
    }

    /// A tap that falls behind loses packets, counted, while the media thread goes on at once;
    /// it catches up after draining and can ask for a keyframe, which becomes a request to the
    /// source on the next tick.
    @Test func aSlowTapDropsWithACountAndNeverBlocks() throws {
        let (router, source, _) = try Self.sourceAndViewer()
        let ring = TapRing(capacity: 8)
        router.addTap(ring, to: MediaRouter.TrackKey(publisher: Self.drone, kind: .video))
        let started = DispatchTime.now().uptimeNanoseconds
        for seq: UInt16 in 1...1000 {
            Self.vp8(seq, keyframe: seq == 1).withUnsafeBytes { router.ingest(source: source, packet: $0, now: UInt64(seq) * Self.ms) { _, _ in } }
        }
        #expect(DispatchTime.now().uptimeNanoseconds - started < 2_000_000_000)  // 1,000 pushes never waited for the tap
        #expect(ring.count == 8 && ring.takeDropped() == 992 && ring.takeDropped() == 0)
        var first: UInt16 = 0
        #expect(ring.drain(limit: 1) { p, _ in first = (try? RTPHeader.parse(p))?.sequenceNumber ?? 0 } == 1)
        #expect(first == 1)  // the oldest kept, not overwritten
        _ = router.takeEvents()
        ring.requestKeyframe()
        router.tick(now: 5_000 * Self.ms) { _, _ in }
        #expect(router.takeEvents().contains(.keyframeRequested(source, ssrc: 0x5EED)))
    }

    /// The ring from another thread: a consumer draining while the producer pushes sees every
    /// packet it did not lose, in order, with nothing torn; kept and lost add up to all.
    @Test func theRingCrossesThreads() async throws {
        let ring = TapRing(capacity: 256)
        let total = 20_000
        let consumer = Task.detached { () -> (got: Int, lost: Int, ordered: Bool) in
            var next = 0, ordered = true, got = 0, lost = 0
            let deadline = DispatchTime.now().uptimeNanoseconds + 10_000_000_000
            while got + lost < total && DispatchTime.now().uptimeNanoseconds < deadline {
                ring.drain { p, arrival in
                    let v = Int(p.load(as: UInt32.self))
                    if v < next || Int(arrival) != v || p.count != 4 + v % 100 { ordered = false }
                    next = v + 1
                    got += 1
                }
                lost += ring.takeDropped()
            }
            return (got, lost, ordered)
        }
        var buffer = [UInt8](repeating: 0, count: 104)
        for i in 0..<total {
            buffer.withUnsafeMutableBytes { $0.storeBytes(of: UInt32(i), as: UInt32.self) }
            _ = buffer.withUnsafeBytes { ring.push(UnsafeRawBufferPointer(rebasing: $0[0..<(4 + i % 100)]), arrival: UInt64(i)) }
        }
        let result = await consumer.value
        #expect(result.ordered && result.got > 0 && result.got + result.lost == total)
    }
}
