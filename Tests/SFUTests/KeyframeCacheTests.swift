import MediaCrypto
import MediaWire
import Testing
@testable import SFU

/// A source's keyframe cache (issue 19, "instant first frame"): a new viewer gets the group
/// since the last keyframe at once, then the live packets, with continuous numbers.
struct KeyframeCacheTests {
    static let ms: UInt64 = 1_000_000

    static func bytes(_ n: Int) -> [UInt8] { [UInt8](repeating: UInt8(n & 0xFF), count: 100) }

    @Test func aGroupIsKeptFromItsKeyframeAndBounded() {
        let cache = KeyframeCache(capacity: 350)
        var seen: [UInt8] = []
        func stored() -> [UInt8] { seen = []; cache.forEach { seen.append($0[0]) }; return seen }
        Self.bytes(1).withUnsafeBytes { cache.store($0, timestamp: 1, keyframeStart: false) }
        #expect(cache.count == 0)  // nothing before the first keyframe
        for (n, key) in [(2, true), (3, false), (4, false)] { Self.bytes(n).withUnsafeBytes { cache.store($0, timestamp: UInt32(n), keyframeStart: key) } }
        #expect(stored() == [2, 3, 4])
        // A second start with the keyframe's own timestamp (H.264: the IDR after its SPS) is the same picture.
        let cache2 = KeyframeCache(capacity: 1000)
        for (n, ts, key) in [(10, 9, true), (11, 9, true), (12, 12, false)] { Self.bytes(n).withUnsafeBytes { cache2.store($0, timestamp: UInt32(ts), keyframeStart: key) } }
        var kept: [UInt8] = []
        cache2.forEach { kept.append($0[0]) }
        #expect(kept == [10, 11, 12])
        // Over capacity: abandoned until the next keyframe, which starts over.
        Self.bytes(5).withUnsafeBytes { cache.store($0, timestamp: 5, keyframeStart: false) }
        #expect(cache.count == 0)
        Self.bytes(6).withUnsafeBytes { cache.store($0, timestamp: 6, keyframeStart: false) }
        #expect(cache.count == 0)
        Self.bytes(7).withUnsafeBytes { cache.store($0, timestamp: 7, keyframeStart: true) }
        #expect(stored() == [7])
    }

    /// A viewer that connects mid-group gets the cached group first, then the live packet.
    @Test(arguments: [true, false])
    func aNewViewerStartsFromTheCachedKeyframe(cached: Bool) throws {
        let router = MediaRouter(dtlsContext: DTLSContext(certificate: try DTLSCertificate.generate()), iceCredentials: ICELiteAgentTests.credentials)
        router.keyframeCacheBytes = cached ? 1 << 20 : 0
        let drone = SourcesAndTapsTests.drone
        let source = router.addSource(publisher: drone, tracks: [.init(codec: .vp8, payloadType: 96)])
        for seq: UInt16 in 1...5 {
            SourcesAndTapsTests.vp8(seq, keyframe: seq == 1).withUnsafeBytes { router.ingest(source: source, packet: $0, now: UInt64(seq) * 33 * Self.ms) { _, _ in } }
        }
        let viewer = RTCPReportTests.Leg(port: 20_000)
        let sub = router.addTransport(RTCPReportTests.answer(.sending), localUfrag: "s", now: 0)
        router.subscribe(transport: sub, to: MediaRouter.TrackKey(publisher: drone, kind: .video), ssrc: 1000, now: 200 * Self.ms)
        SourcesAndTapsTests.vp8(6).withUnsafeBytes { router.ingest(source: source, packet: $0, now: 200 * Self.ms) { _, _ in } }  // not connected yet
        router.connectWithoutHandshake(transport: sub, keys: viewer.keys, address: viewer.address)
        var received: [(seq: UInt16, firstPayloadByte: UInt8)] = []
        SourcesAndTapsTests.vp8(7).withUnsafeBytes { p in
            router.ingest(source: source, packet: p, now: 233 * Self.ms) { bytes, to in
                guard to == viewer.address else { return }
                var b = Array(bytes)
                if let n = try? b.withUnsafeMutableBytes({ try viewer.peerReceive.unprotectRTP($0, length: $0.count) }),
                   let h = try? b.withUnsafeBytes({ try RTPHeader.parse(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }) {
                    received.append((h.sequenceNumber, b[h.payloadOffset + 4]))  // the payload filler is the input seq
                }
            }
        }
        if cached {
            #expect(received.map(\.firstPayloadByte) == [1, 2, 3, 4, 5, 6, 7])
            let base = received[0].seq
            #expect(received.map(\.seq) == (0..<7).map { base &+ UInt16($0) })
            #expect(router.stats.keyframeCacheReplays == 6)
        } else {
            #expect(received.map(\.firstPayloadByte) == [7])
        }
    }
}
