import MediaCrypto
import MediaWire
import Glibc
import Testing
@testable import SFU

/// The router's transport timers, driven by `tick` with a manual clock: DTLS retransmission for
/// transports still handshaking (RFC 6347 §4.2.4.1) and consent expiry (RFC 7675 §5.1), checked
/// once a second for all transports.
struct TransportTimerTests {
    static let ms: UInt64 = 1_000_000
    static let address = TransportAddress(ip: .loopbackV4, port: 40_000)

    /// A router whose one transport (the DTLS server) passed an ICE check from `address` at 1 s.
    static func checkedTransport(consentTimeout: UInt64? = nil) throws -> (MediaRouter, DTLSTransport, (([UInt8], UInt64) -> [[UInt8]])) {
        let serverCertificate = try DTLSCertificate.generate(), clientCertificate = try DTLSCertificate.generate()
        let router = MediaRouter(dtlsContext: DTLSContext(certificate: serverCertificate), iceCredentials: ICELiteAgentTests.credentials)
        if let consentTimeout { router.consentTimeout = consentTimeout }
        var answer = RTCPReportTests.answer(.sending)
        answer.remoteUfrag = "cliU"
        answer.remoteFingerprint = clientCertificate.fingerprint
        _ = router.addTransport(answer, localUfrag: "srvU", now: 0)
        let deliver: ([UInt8], UInt64) -> [[UInt8]] = { datagram, now in
            var sent: [[UInt8]] = []
            datagram.withUnsafeBytes { router.handle($0, from: Self.address, now: now) { bytes, to in if to == Self.address { sent.append(Array(bytes)) } } }
            return sent
        }
        #expect(deliver(ICELiteAgentTests.check(useCandidate: true).1, 1_000 * Self.ms).count == 1)
        let client = DTLSTransport(context: DTLSContext(certificate: clientCertificate), role: .client, remoteFingerprint: serverCertificate.fingerprint)
        return (router, client, deliver)
    }

    static func ticks(_ router: MediaRouter, at now: UInt64) -> [[UInt8]] {
        var sent: [[UInt8]] = []
        router.tick(now: now) { bytes, to in if to == Self.address { sent.append(Array(bytes)) } }
        return sent
    }

    /// The router's flight toward a client that never answers is sent again by a later tick
    /// (the retransmission timer starts at 250 ms), not by one right after it; a connected
    /// transport is no longer visited by the 50 ms pass.
    @Test func aHandshakingTransportRetransmitsItsFlight() throws {
        let (router, client, deliver) = try Self.checkedTransport()
        var flight: [[UInt8]] = []
        var toRouter = client.start(now: 0).compactMap { if case .send(let d) = $0 { d } else { nil } }
        // Play the client until the router answers with its handshake flight (after any cookie
        // exchange), then stop answering it.
        for _ in 0..<3 {
            flight = toRouter.flatMap { deliver($0, 1_010 * Self.ms) }
            let replies = flight.flatMap { d in client.receive(d, now: 0).compactMap { if case .send(let x) = $0 { x } else { nil } } }
            if flight.contains(where: { $0.count > 300 }) { break }  // the certificate flight
            toRouter = replies
        }
        #expect(flight.contains { $0.count > 300 })
        #expect(Self.ticks(router, at: 1_060 * Self.ms).isEmpty)
        // OpenSSL consults its own clock as well (DTLSTransport.tick): let 400 ms really pass.
        usleep(400_000)
        let again = Self.ticks(router, at: 2_500 * Self.ms)
        #expect(!again.isEmpty)
        #expect(again.allSatisfy { PacketDemultiplexer.classify($0.withUnsafeBytes { $0 }) == .dtls })
        #expect(router.handshakingCount == 1)
        // The client takes the retransmitted flight and finishes; the next pass drops the transport.
        let finish = again.flatMap { d in client.receive(d, now: 0).compactMap { if case .send(let x) = $0 { x } else { nil } } }
        for d in finish { _ = deliver(d, 2_510 * Self.ms) }
        #expect(router.stats.transportsConnected == 1)
        _ = Self.ticks(router, at: 2_600 * Self.ms)
        #expect(router.handshakingCount == 0)
    }

    /// A transport whose peer stops its consent checks fails once the timeout has passed, at
    /// the next once-a-second pass, and not before the timeout.
    @Test func consentExpiresWithinASecondOfTheTimeout() throws {
        let (router, _, _) = try Self.checkedTransport(consentTimeout: 5_000 * Self.ms)
        _ = Self.ticks(router, at: 1_100 * Self.ms)
        _ = Self.ticks(router, at: 5_900 * Self.ms)
        #expect(router.takeEvents().isEmpty)
        for t in stride(from: UInt64(6_000), through: 7_200, by: 100) { _ = Self.ticks(router, at: t * Self.ms) }
        let events = router.takeEvents()
        #expect(events == [.failed(1, "ICE consent expired")])
    }
}

extension TransportTimerTests {
    /// Associations are freed at most `releasesPerPass` per report pass, the rest on the next:
    /// 40 viewers that connected together are released over two passes, not in one stall.
    @Test func associationsAreReleasedAFewPerPass() throws {
        let serverCertificate = try DTLSCertificate.generate(), clientCertificate = try DTLSCertificate.generate()
        let router = MediaRouter(dtlsContext: DTLSContext(certificate: serverCertificate), iceCredentials: ICELiteAgentTests.credentials)
        let clientContext = DTLSContext(certificate: clientCertificate)
        let n = MediaRouter.releasesPerPass + 8
        for i in 0..<n {
            var answer = RTCPReportTests.answer(.sending)
            answer.remoteUfrag = "cliU"
            answer.remoteFingerprint = clientCertificate.fingerprint
            _ = router.addTransport(answer, localUfrag: "srv\(i)", now: 0)
            let address = TransportAddress(ip: .loopbackV4, port: UInt16(41_000 + i))
            let deliver: ([UInt8]) -> [[UInt8]] = { datagram in
                var sent: [[UInt8]] = []
                datagram.withUnsafeBytes { router.handle($0, from: address, now: 1_000 * Self.ms) { bytes, to in if to == address { sent.append(Array(bytes)) } } }
                return sent
            }
            _ = deliver(ICELiteAgentTests.check(username: "srv\(i):cliU", useCandidate: true).1)
            let client = DTLSTransport(context: clientContext, role: .client, remoteFingerprint: serverCertificate.fingerprint)
            var toRouter = client.start(now: 0).compactMap { if case .send(let d) = $0 { d } else { nil } }
            for _ in 0..<10 where client.state != .connected {
                let answered = toRouter.flatMap(deliver)
                toRouter = answered.flatMap { d in client.receive(d, now: 0).compactMap { if case .send(let x) = $0 { x } else { nil } } }
            }
            _ = toRouter.flatMap(deliver)
        }
        #expect(router.stats.transportsConnected == n)
        router.tick(now: 1_100 * Self.ms) { _, _ in }
        #expect(router.stats.dtlsReleased == MediaRouter.releasesPerPass)
        router.tick(now: 1_150 * Self.ms) { _, _ in }  // not a report pass yet
        #expect(router.stats.dtlsReleased == MediaRouter.releasesPerPass)
        router.tick(now: 1_250 * Self.ms) { _, _ in }
        #expect(router.stats.dtlsReleased == n)
    }
}

/// Removing a transport drops its own routes (its ufrag, the addresses that passed its checks)
/// and nobody else's.
struct TransportRemovalTests {
    @Test func aRemovedTransportNoLongerRoutesAndOthersStill() throws {
        let (router, publisher, viewer) = try RTCPReportTests.publisherAndViewer()
        // The viewer (transport 2) also passes an ICE check from a second address.
        let moved = TransportAddress(ip: .loopbackV4, port: 20_001)
        var sent: [TransportAddress] = []
        let capture: (UnsafeRawBufferPointer, TransportAddress) -> Void = { sent.append($1) }
        let check = ICELiteAgentTests.check(username: "s:x", useCandidate: true).1
        check.withUnsafeBytes { router.handle($0, from: moved, now: 0, send: capture) }
        #expect(sent == [moved])  // answered: the check was valid
        router.removeTransport(2, send: capture)
        sent.removeAll()
        let dropped = router.stats.droppedUnknownSource
        for from in [viewer.address, moved] {
            check.withUnsafeBytes { router.handle($0, from: from, now: 1, send: capture) }  // its ufrag is gone
        }
        #expect(sent.isEmpty && router.stats.droppedUnknownSource == dropped + 2)
        // The publisher's route is intact: its packets are still taken (and, with no viewer
        // left, forwarded to nobody).
        try FeedbackTimerTests.sendVideo(router, publisher, seq: 1, now: 2, FeedbackTimerTests.Capture())
        #expect(router.stats.droppedUnknownSource == dropped + 2)
        #expect(router.stats.droppedSRTP == 0)
    }

    /// Adds a second connected viewer (transport 3, SSRC 2000) of "room/p" video.
    static func secondViewer(_ router: MediaRouter) -> RTCPReportTests.Leg {
        let leg = RTCPReportTests.Leg(port: 20_100)
        let id = router.addTransport(RTCPReportTests.answer(.sending), localUfrag: "s2", now: 0)
        router.connectWithoutHandshake(transport: id, keys: leg.keys, address: leg.address)
        router.subscribe(transport: id, to: MediaRouter.TrackKey(publisher: ParticipantKey(room: "room", identity: "p"), kind: .video), ssrc: 2000, now: 0)
        return leg
    }

    /// A viewer that leaves takes its own stream only: the other viewer still gets packets and
    /// its PLI (by its own SSRC) still reaches the publisher.
    @Test func aViewersRemovalDropsItsStreamOnly() throws {
        let (router, publisher, viewer) = try RTCPReportTests.publisherAndViewer()
        let other = Self.secondViewer(router)
        let capture = FeedbackTimerTests.Capture()
        router.removeTransport(2, send: capture.send)
        try FeedbackTimerTests.sendVideo(router, publisher, seq: 1, now: 1, capture)
        #expect(capture.sent.map(\.to) == [other.address])
        capture.clear()
        let pli = RTCPPacket.pictureLossIndication(RTCPPictureLossIndication(senderSSRC: 77, mediaSSRC: 2000))
        var bytes = pli.serialized() + [UInt8](repeating: 0, count: 32)
        let n = try bytes.withUnsafeMutableBytes { try other.peerSend.protectRTCP($0, length: pli.serializedSize) }
        bytes.withUnsafeBytes { router.handle(UnsafeRawBufferPointer(rebasing: $0[0..<n]), from: other.address, now: 2_000 * TransportTimerTests.ms, send: capture.send) }
        #expect(capture.plis(publisher) == 1)
        _ = viewer
    }

    /// A publisher that leaves takes its track out of its viewers' lists: a viewer's PLI for
    /// the stream it had is ignored, and its report pass sends it no SR for that stream.
    @Test func aPublishersRemovalEmptiesItsViewersLists() throws {
        let (router, publisher, viewer) = try RTCPReportTests.publisherAndViewer()
        let capture = FeedbackTimerTests.Capture()
        try FeedbackTimerTests.sendVideo(router, publisher, seq: 1, now: 1, capture)
        #expect(router.transports[2]?.subscriptions.count == 1)
        router.removeTransport(1, send: capture.send)
        #expect(router.transports[2]?.subscriptions.isEmpty == true)
        capture.clear()
        let requests = router.stats.keyframeRequests
        try FeedbackTimerTests.viewerPLI(router, viewer, now: 2_000 * TransportTimerTests.ms, capture)
        router.tick(now: 3_000 * TransportTimerTests.ms, send: capture.send)
        router.tick(now: 4_600 * TransportTimerTests.ms, send: capture.send)
        #expect(capture.sent.isEmpty)
        #expect(router.stats.keyframeRequests == requests)
    }

    /// A republish (same publisher and kind, a new transport) moves the viewers to the new
    /// track; the old transport, until it leaves, forwards to nobody, even after a viewer left.
    @Test func aRepublishMovesTheViewers() throws {
        let (router, publisher, viewer) = try RTCPReportTests.publisherAndViewer()
        let again = RTCPReportTests.Leg(port: 10_100)
        let id = router.addTransport(RTCPReportTests.answer(.receiving), localUfrag: "p2", now: 0)
        router.connectWithoutHandshake(transport: id, keys: again.keys, address: again.address)
        router.publish(transport: id, publisher: ParticipantKey(room: "room", identity: "p"))
        let capture = FeedbackTimerTests.Capture()
        try FeedbackTimerTests.sendVideo(router, again, seq: 1, now: 1, capture)
        #expect(capture.sent.map(\.to) == [viewer.address])
        capture.clear()
        try FeedbackTimerTests.sendVideo(router, publisher, seq: 2, now: 2, capture)
        #expect(capture.sent.isEmpty)
        router.removeTransport(2, send: capture.send)
        try FeedbackTimerTests.sendVideo(router, publisher, seq: 3, now: 3, capture)
        try FeedbackTimerTests.sendVideo(router, again, seq: 2, now: 4, capture)
        #expect(capture.sent.isEmpty)
    }

    /// Removals fill the gap in a track's list with its last viewer: after the first of three
    /// leaves and then the one moved into its place, the middle one still gets every packet.
    @Test func removalsInAnyOrderKeepTheRest() throws {
        let (router, publisher, _) = try RTCPReportTests.publisherAndViewer()
        let second = Self.secondViewer(router)
        let third = RTCPReportTests.Leg(port: 20_200)
        let id = router.addTransport(RTCPReportTests.answer(.sending), localUfrag: "s3", now: 0)
        router.connectWithoutHandshake(transport: id, keys: third.keys, address: third.address)
        router.subscribe(transport: id, to: MediaRouter.TrackKey(publisher: ParticipantKey(room: "room", identity: "p"), kind: .video), ssrc: 3000, now: 0)
        let capture = FeedbackTimerTests.Capture()
        try FeedbackTimerTests.sendVideo(router, publisher, seq: 1, now: 1, capture)
        #expect(capture.sent.count == 3)
        router.removeTransport(2, send: capture.send)
        router.removeTransport(id, send: capture.send)
        capture.clear()
        try FeedbackTimerTests.sendVideo(router, publisher, seq: 2, now: 2, capture)
        #expect(capture.sent.map(\.to) == [second.address])
        router.removeTransport(3, send: capture.send)
        capture.clear()
        try FeedbackTimerTests.sendVideo(router, publisher, seq: 3, now: 3, capture)
        #expect(capture.sent.isEmpty)
    }

    /// Reports are sent from the wheel: a removed transport leaves it once its slot comes.
    @Test func aRemovedTransportLeavesTheReportWheel() throws {
        let (router, _, _) = try RTCPReportTests.publisherAndViewer()
        #expect(router.reportWheel.count == 2)
        router.removeTransport(2) { _, _ in }
        for t in stride(from: UInt64(100), through: 4_000, by: 100) { router.tick(now: t * TransportTimerTests.ms) { _, _ in } }
        #expect(router.reportWheel.count == 1)
    }
}

/// Half-open transports (issue 16, finding 3): an offer whose peer never checks, or never
/// finishes DTLS, fails at `connectTimeout`, within the once-a-second pass; a connected one
/// never does.
struct ConnectTimeoutTests {
    static let s: UInt64 = 1_000_000_000

    @Test func anUnconnectedTransportFailsAtItsDeadline() throws {
        let router = MediaRouter(dtlsContext: DTLSContext(certificate: try DTLSCertificate.generate()), iceCredentials: ICELiteAgentTests.credentials)
        router.connectTimeout = 10 * Self.s
        let silent = router.addTransport(RTCPReportTests.answer(.sending), localUfrag: "never", now: 1 * Self.s)
        let late = router.addTransport(RTCPReportTests.answer(.sending), localUfrag: "later", now: 5 * Self.s)
        let connected = router.addTransport(RTCPReportTests.answer(.sending), localUfrag: "fine", now: 1 * Self.s)
        router.connectWithoutHandshake(transport: connected, keys: RTCPReportTests.Leg(port: 30_000).keys, address: TransportTimerTests.address, now: 2 * Self.s)
        for t in stride(from: UInt64(1), through: 10, by: 1) { router.tick(now: t * Self.s) { _, _ in } }
        #expect(router.takeEvents().isEmpty)
        for t in stride(from: UInt64(11), through: 12, by: 1) { router.tick(now: t * Self.s) { _, _ in } }
        #expect(router.takeEvents() == [.failed(silent, "not connected within 10 s (no ICE check, or DTLS did not finish)")])
        router.removeTransport(late) { _, _ in }  // removed before its deadline: nothing to report
        for t in stride(from: UInt64(13), through: 40, by: 1) { router.tick(now: t * Self.s) { _, _ in } }
        #expect(router.takeEvents().isEmpty)
        #expect(router.stats.connectTimeouts == 1)
    }
}
