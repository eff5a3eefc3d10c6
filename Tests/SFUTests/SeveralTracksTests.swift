import MediaCrypto
import MediaWire
import Testing
import TestSupport
@testable import SFU

/// A participant's camera and screen share (issue 17): labelled by source, told apart on the
/// packet path though both use one payload type, renegotiated without touching the other track,
/// and offered to a viewer's sections each in its own codec.
struct SeveralTracksTests {
    static let ms: UInt64 = 1_000_000
    static let alice = ParticipantKey(room: "r", identity: "alice")

    // MARK: Labels

    /// Unlabelled sections take camera then screen, microphone then screen audio; a hint names
    /// a section's source; a mid keeps its source through renegotiations; a third video gets none.
    @Test func sourcesAreAssignedByHintThenOrder() {
        #expect(TrackSource.assign([("0", .audio), ("1", .video), ("2", .video), ("3", .video)])
                == ["0": .microphone, "1": .camera, "2": .screen])
        #expect(TrackSource.assign([("a", .video), ("b", .video)], hints: ["a": .screen]) == ["a": .screen, "b": .camera])
        // A hint of the wrong kind, or for a source already taken, is ignored.
        #expect(TrackSource.assign([("0", .audio), ("1", .video)], hints: ["0": .camera, "1": .microphone]) == ["0": .microphone, "1": .camera])
        #expect(TrackSource.assign([("1", .video), ("5", .video)], kept: ["1": .camera], hints: ["5": .camera]) == ["1": .camera, "5": .screen])
        #expect(TrackSource.assign([("7", .video)], kept: ["7": .screen]) == ["7": .screen])
    }

    // MARK: Packet path

    static func media(_ mid: String, _ direction: MediaSection.Direction, ssrcs: [UInt32] = [], midExtension: Bool = true, outbound: UInt32? = nil) -> MediaSection {
        MediaSection(mid: mid, codec: .vp8, payloadType: 96, extensions: midExtension ? [MediaSection.midExtensionURI: 4] : [:], remoteSSRCs: ssrcs, direction: direction,
                                    outboundSSRC: outbound)
    }

    static func answer(_ media: [MediaSection]) -> TransportParameters {
        TransportParameters(remoteUfrag: "x", remoteFingerprint: [], dtlsRole: .server, media: media)
    }

    /// A VP8 packet (a keyframe at 1) of stream `ssrc`, with the mid extension naming `mid` if given.
    static func packet(_ seq: UInt16, ssrc: UInt32, mid: String?, leg: RTCPReportTests.Leg) throws -> [UInt8] {
        var b = RTPPacketBuilder(payloadType: 96, sequenceNumber: seq, timestamp: UInt32(seq) * 3000, ssrc: ssrc, marker: true)
        if let mid { b.extensions = [RTPHeaderExtensionElement(id: 4, value: Array(mid.utf8))] }
        b.payload = [0x10, seq == 1 ? 0x00 : 0x01, 0x00, 0x00] + [UInt8](repeating: 7, count: 40)
        var bytes = b.serialized() + [UInt8](repeating: 0, count: 32)
        let n = try bytes.withUnsafeMutableBytes { try leg.peerSend.protectRTP($0, length: $0.count - 32) }
        return Array(bytes[0..<n])
    }

    struct Graph {
        let router: MediaRouter
        let publisher: RTCPReportTests.Leg, viewer: RTCPReportTests.Leg
        let pub: WebRTCTransport.ID
        /// Sends publisher packets; returns the viewer SSRC each forwarded copy went out with.
        func send(_ packets: [[UInt8]], at now: UInt64) -> [UInt32] {
            var out: [UInt32] = []
            for p in packets {
                p.withUnsafeBytes { router.handle($0, from: publisher.address, now: now) { bytes, to in
                    guard to == viewer.address else { return }
                    var b = Array(bytes)
                    if let n = try? b.withUnsafeMutableBytes({ try viewer.peerReceive.unprotectRTP($0, length: $0.count) }),
                       let h = try? b.withUnsafeBytes({ try RTPHeader.parse(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }) { out.append(h.ssrc) }
                } }
            }
            return out
        }
    }

    /// Alice publishes camera (mid 0) and screen (mid 1) in one payload type; one viewer gets
    /// the camera as SSRC 1000 and the screen as 2000.
    static func graph(publisherMedia: [MediaSection]) throws -> Graph {
        let router = MediaRouter(dtlsContext: DTLSContext(certificate: try DTLSCertificate.generate()), iceCredentials: ICELiteAgentTests.credentials)
        let publisher = RTCPReportTests.Leg(port: 10_000), viewer = RTCPReportTests.Leg(port: 20_000)
        let pub = router.addTransport(answer(publisherMedia), localUfrag: "p", now: 0)
        router.connectWithoutHandshake(transport: pub, keys: publisher.keys, address: publisher.address)
        router.publish(transport: pub, publisher: alice, sources: ["0": .camera, "1": .screen])
        let sub = router.addTransport(answer([media("0", .sending, outbound: 1000), media("1", .sending, outbound: 2000)]), localUfrag: "s", now: 0)
        router.connectWithoutHandshake(transport: sub, keys: viewer.keys, address: viewer.address)
        router.subscribe(transport: sub, to: MediaRouter.TrackKey(publisher: alice, source: .camera), ssrc: 1000, now: 0)
        router.subscribe(transport: sub, to: MediaRouter.TrackKey(publisher: alice, source: .screen), ssrc: 2000, now: 0)
        return Graph(router: router, publisher: publisher, viewer: viewer, pub: pub)
    }

    /// Told apart by the mid header extension (RFC 8843 §9.2) when no SSRC was announced.
    @Test func streamsAreBoundByTheirMid() throws {
        let g = try Self.graph(publisherMedia: [Self.media("0", .receiving), Self.media("1", .receiving)])
        let (p, l) = (Self.packet, g.publisher)
        let out = g.send([try p(1, 0xA, "1", l), try p(1, 0xB, "0", l), try p(2, 0xA, nil, l), try p(2, 0xB, nil, l)], at: 10 * Self.ms)
        #expect(out == [2000, 1000, 2000, 1000])
    }

    /// Told apart by the SSRCs their sections announced (a=ssrc), with no extension.
    @Test func streamsAreBoundByAnnouncedSSRCs() throws {
        let g = try Self.graph(publisherMedia: [Self.media("0", .receiving, ssrcs: [0xB], midExtension: false),
                                                Self.media("1", .receiving, ssrcs: [0xA], midExtension: false)])
        let (p, l) = (Self.packet, g.publisher)
        let out = g.send([try p(1, 0xA, nil, l), try p(1, 0xB, nil, l), try p(2, 0xC, nil, l)], at: 10 * Self.ms)
        #expect(out == [2000, 1000])  // 0xC was announced by no section: dropped
        #expect(g.router.stats.droppedMalformed == 1)
    }

    /// A renegotiation that stops the screen's section unpublishes the screen only: the camera
    /// keeps its track and its viewer, and the screen's packets still in flight are dropped,
    /// not taken for the camera's.
    @Test func stoppingTheShareRemovesOnlyThatTrack() throws {
        let g = try Self.graph(publisherMedia: [Self.media("0", .receiving), Self.media("1", .receiving)])
        let (p, l) = (Self.packet, g.publisher)
        #expect(g.send([try p(1, 0xA, "1", l), try p(1, 0xB, "0", l)], at: 10 * Self.ms) == [2000, 1000])
        let camera = try #require(g.router.tracks[MediaRouter.TrackKey(publisher: Self.alice, source: .camera)])
        g.router.updatePublisher(transport: g.pub, media: [Self.media("0", .receiving), Self.media("1", .inactive)], publisher: Self.alice,
                                 sources: ["0": .camera])
        #expect(g.router.tracks[MediaRouter.TrackKey(publisher: Self.alice, source: .camera)] === camera)
        #expect(!g.router.hasTrack(MediaRouter.TrackKey(publisher: Self.alice, source: .screen)))
        let dropped = g.router.stats.droppedMalformed
        #expect(g.send([try p(2, 0xA, "1", l), try p(3, 0xA, nil, l), try p(2, 0xB, "0", l)], at: 50 * Self.ms) == [1000])
        #expect(g.router.stats.droppedMalformed == dropped + 2)
        // Sharing again (a new section) publishes a new screen track.
        g.router.updatePublisher(transport: g.pub, media: [Self.media("0", .receiving), Self.media("1", .inactive), Self.media("2", .receiving)],
                                 publisher: Self.alice, sources: ["0": .camera, "2": .screen])
        #expect(g.router.tracks[MediaRouter.TrackKey(publisher: Self.alice, source: .screen)]?.mid == "2")
        #expect(g.router.tracks[MediaRouter.TrackKey(publisher: Self.alice, source: .camera)] === camera)
    }
}
