import MediaCrypto
import MediaWire
import Testing
@testable import SFU

/// RTCP reports per hop: receive statistics (RFC 3550 §6.4.1, A.1, A.3, A.8), NTP timestamps,
/// and the router's RRs toward publishers and SRs toward subscribers, driven by a manual clock.
struct RTCPReportTests {
    static let ms: UInt64 = 1_000_000
    static let s: UInt64 = 1_000_000_000

    /// RFC 3550 A.3: 10 expected, 8 received → cumulative 2, fraction 2/10 × 256 = 51.
    @Test func rfc3550LossCounts() {
        var r = ReceiveStatistics(clockRate: 90_000)
        for seq: UInt16 in 100...109 where seq != 103 && seq != 105 { r.received(sequenceNumber: seq, timestamp: 0, now: 0) }
        let block = r.reportBlock(ssrc: 7, now: 0)
        #expect(block.ssrc == 7)
        #expect(block.extendedHighestSequence == 109)
        #expect(block.cumulativeLost == 2)
        #expect(block.fractionLost == 51)
        // The next interval starts afresh: 5 more, none lost.
        for seq: UInt16 in 110...114 { r.received(sequenceNumber: seq, timestamp: 0, now: 0) }
        let next = r.reportBlock(ssrc: 7, now: 0)
        #expect(next.fractionLost == 0 && next.cumulativeLost == 2 && next.extendedHighestSequence == 114)
    }

    /// RFC 3550 A.1: the sequence number wraps into the cycle count of the extended number.
    @Test func rfc3550SequenceWrapCountsCycles() {
        var r = ReceiveStatistics(clockRate: 90_000)
        for seq: UInt16 in [65_534, 65_535, 0, 1] { r.received(sequenceNumber: seq, timestamp: 0, now: 0) }
        let block = r.reportBlock(ssrc: 1, now: 0)
        #expect(block.extendedHighestSequence == 0x1_0001)
        #expect(block.cumulativeLost == 0)
    }

    /// RFC 3550 A.1: one packet far ahead is ignored; two in sequence mean the sender restarted.
    @Test func rfc3550LargeJumpNeedsTwoPacketsToRestart() {
        var r = ReceiveStatistics(clockRate: 90_000)
        for seq: UInt16 in 1...10 { r.received(sequenceNumber: seq, timestamp: 0, now: 0) }
        r.received(sequenceNumber: 30_000, timestamp: 0, now: 0)
        #expect(r.received == 10)
        r.received(sequenceNumber: 30_001, timestamp: 0, now: 0)
        let block = r.reportBlock(ssrc: 1, now: 0)
        #expect(block.extendedHighestSequence == 30_001 && block.cumulativeLost == 0)
    }

    /// RFC 3550 A.8: one packet 10 ms late at 8 kHz (D = 80 ticks) gives J = 80/16 = 5.
    @Test func rfc3550InterarrivalJitter() {
        var r = ReceiveStatistics(clockRate: 8000)
        r.received(sequenceNumber: 1, timestamp: 0, now: 0)
        r.received(sequenceNumber: 2, timestamp: 160, now: 20 * Self.ms)
        #expect(r.reportBlock(ssrc: 1, now: 0).jitter == 0)
        r.received(sequenceNumber: 3, timestamp: 320, now: 50 * Self.ms)
        #expect(r.reportBlock(ssrc: 1, now: 0).jitter == 5)
    }

    /// RFC 3550 §6.4.1: LSR is the middle 32 bits of the last SR's NTP time, DLSR the delay since
    /// it arrived in 1/65536 s; both 0 before any SR.
    @Test func rfc3550LastSenderReportAndDelay() {
        var r = ReceiveStatistics(clockRate: 90_000)
        r.received(sequenceNumber: 1, timestamp: 0, now: 0)
        let before = r.reportBlock(ssrc: 1, now: Self.s)
        #expect(before.lastSenderReport == 0 && before.delaySinceLastSenderReport == 0)
        r.senderReport(ntpTimestamp: 0x0123_4567_89AB_CDEF, now: Self.s)
        let after = r.reportBlock(ssrc: 1, now: Self.s + 500 * Self.ms)
        #expect(after.lastSenderReport == 0x4567_89AB)
        #expect(after.delaySinceLastSenderReport == 32_768)
    }

    /// RFC 5905 §6: NTP seconds count from 1900; the fraction is in 1/2^32 s.
    @Test func ntpTimestampFromUnixTime() {
        #expect(NTPTimestamp.fromUnix(nanoseconds: 0) == 2_208_988_800 << 32)
        #expect(NTPTimestamp.fromUnix(nanoseconds: 1_500_000_000) == (UInt64(2_208_988_801) << 32 | 0x8000_0000))
        #expect(NTPTimestamp.shortDuration(nanoseconds: 250_000_000) == 16_384)
    }

    /// A paused stream's SR timestamp keeps advancing with the wall clock; before the first
    /// packet there is nothing to report.
    @Test func rewriterTimestampForSenderReports() {
        var r = RTPStreamRewriter(outboundSSRC: 9, clockRate: 90_000)
        #expect(r.outputTimestamp(at: 0, sourceTimestamp: 100) == nil)
        _ = r.rewrite(ssrc: 1, sequenceNumber: 1, timestamp: 1000, now: 0)
        #expect(r.outputTimestamp(at: 10 * Self.ms, sourceTimestamp: 1900) == 1900)  // offset 0 in the first epoch
        r.pause()
        let paused = r.outputTimestamp(at: 100 * Self.ms, sourceTimestamp: 55)
        #expect(paused == UInt32(1000 + 9000))  // last sent + 100 ms
    }

    // MARK: The router's reports

    struct Leg {
        let keys: DTLSTransport.SRTPKeys
        /// The peer's side: protects what it sends with the router's remote key, reads with its local key.
        let peerSend: SRTPContext
        let peerReceive: SRTPContext
        let address: TransportAddress
        init(port: UInt16) {
            keys = DTLSTransport.SRTPKeys(profile: .aes128CmHmacSha1_80, localKey: SecureRandom.bytes(16), localSalt: SecureRandom.bytes(14),
                                          remoteKey: SecureRandom.bytes(16), remoteSalt: SecureRandom.bytes(14))
            peerSend = SRTPContext(profile: keys.profile, masterKey: keys.remoteKey, masterSalt: keys.remoteSalt)
            peerReceive = SRTPContext(profile: keys.profile, masterKey: keys.localKey, masterSalt: keys.localSalt)
            address = TransportAddress(ip: .loopbackV4, port: port)
        }

        func rtcp(_ bytes: [UInt8]) -> [RTCPPacket] {
            var b = bytes
            guard let n = try? b.withUnsafeMutableBytes({ try peerReceive.unprotectRTCP($0, length: $0.count) }),
                  let packets = try? b.withUnsafeBytes({ try RTCPCompound.parse(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }) else { return [] }
            return packets
        }
    }

    static func answer(_ direction: MediaSection.Direction) -> TransportParameters {
        TransportParameters(remoteUfrag: "x", remoteFingerprint: [], dtlsRole: .server,
                            media: [MediaSection(mid: "0", codec: .vp8, payloadType: 96, direction: direction)])
    }

    /// A router with one connected publisher transport ("room/p", video) and one connected viewer
    /// subscribed to it with SSRC 1000.
    static func publisherAndViewer() throws -> (MediaRouter, Leg, Leg) {
        let router = MediaRouter(dtlsContext: DTLSContext(certificate: try DTLSCertificate.generate()), iceCredentials: ICELiteAgentTests.credentials)
        let publisher = Leg(port: 10_000), viewer = Leg(port: 20_000)
        let pub = router.addTransport(answer(.receiving), localUfrag: "p", now: 0)
        router.connectWithoutHandshake(transport: pub, keys: publisher.keys, address: publisher.address)
        router.publish(transport: pub, publisher: ParticipantKey(room: "room", identity: "p"))
        let sub = router.addTransport(answer(.sending), localUfrag: "s", now: 0)
        router.connectWithoutHandshake(transport: sub, keys: viewer.keys, address: viewer.address)
        router.subscribe(transport: sub, to: MediaRouter.TrackKey(publisher: ParticipantKey(room: "room", identity: "p"), kind: .video), ssrc: 1000, now: 0)
        return (router, publisher, viewer)
    }

    /// The publisher gets an RR for its stream with LSR/DLSR from its SR; the subscriber gets an
    /// SR whose RTP time is the publisher's clock extrapolated from that SR (offset 0 here) and
    /// whose NTP time is our wall clock; packet and octet counts are what was forwarded.
    @Test func routerReportsOnEachHop() throws {
        let (router, publisher, viewer) = try Self.publisherAndViewer()
        router.unixTimeAtZero = 1_000 * Self.s

        var sent: [(bytes: [UInt8], to: TransportAddress)] = []
        let capture: (UnsafeRawBufferPointer, TransportAddress) -> Void = { sent.append((Array($0), $1)) }
        // 10 packets (seq 0...9 but 4), 100 payload bytes each; a keyframe first so video flows.
        for seq: UInt16 in 0...9 where seq != 4 {
            var b = RTPPacketBuilder(payloadType: 96, sequenceNumber: seq, timestamp: UInt32(seq) * 3000, ssrc: 0xABCD, marker: true)
            b.payload = [0x10, 0x00, 0x00, 0x00] + [UInt8](repeating: 7, count: 96)
            var packet = b.serialized() + [UInt8](repeating: 0, count: 32)
            let n = try packet.withUnsafeMutableBytes { try publisher.peerSend.protectRTP($0, length: $0.count - 32) }
            packet.withUnsafeBytes { router.handle(UnsafeRawBufferPointer(rebasing: $0[0..<n]), from: publisher.address, now: UInt64(seq) * 33 * Self.ms, send: capture) }
        }
        let forwarded = sent.filter { $0.to == viewer.address }.count
        #expect(forwarded == 9)
        // The publisher's SR at 400 ms: NTP 0x0000_1234_5678_0000, RTP 36000.
        let sr = RTCPPacket.senderReport(RTCPSenderReport(ssrc: 0xABCD, ntpTimestamp: 0x0000_1234_5678_0000, rtpTimestamp: 36_000, packetCount: 10, octetCount: 1000))
        var srBytes = sr.serialized() + [UInt8](repeating: 0, count: 32)
        let srLength = try srBytes.withUnsafeMutableBytes { try publisher.peerSend.protectRTCP($0, length: sr.serializedSize) }
        srBytes.withUnsafeBytes { router.handle(UnsafeRawBufferPointer(rebasing: $0[0..<srLength]), from: publisher.address, now: 400 * Self.ms, send: capture) }

        sent.removeAll()
        router.tick(now: 900 * Self.ms, send: capture)
        let toPublisher = sent.filter { $0.to == publisher.address }.flatMap { publisher.rtcp($0.bytes) }
        let rr = try #require(toPublisher.compactMap { if case .receiverReport(let r) = $0 { r } else { nil } }.first)
        let block = try #require(rr.reports.first)
        #expect(block.ssrc == 0xABCD && block.extendedHighestSequence == 9 && block.cumulativeLost == 1)
        #expect(block.lastSenderReport == 0x1234_5678)
        #expect(block.delaySinceLastSenderReport == 32_768)  // 500 ms
        #expect(toPublisher.contains { if case .sourceDescription = $0 { true } else { false } })

        let toViewer = sent.filter { $0.to == viewer.address }.flatMap { viewer.rtcp($0.bytes) }
        let ours = try #require(toViewer.compactMap { if case .senderReport(let r) = $0 { r } else { nil } }.first)
        #expect(ours.ssrc == 1000)
        #expect(ours.rtpTimestamp == 36_000 + 45_000)  // the SR's clock + 500 ms at 90 kHz
        #expect(ours.ntpTimestamp == NTPTimestamp.fromUnix(nanoseconds: 1_000 * Self.s + 900 * Self.ms))
        #expect(ours.packetCount == 9 && ours.octetCount == 900)

        // Reports repeat at 0.5–1.5 s, not on every tick (NACKs for seq 4 go on meanwhile).
        func reports() -> (toViewer: Int, toPublisher: Int) {
            (sent.filter { $0.to == viewer.address }.flatMap { viewer.rtcp($0.bytes) }.filter { if case .senderReport = $0 { true } else { false } }.count,
             sent.filter { $0.to == publisher.address }.flatMap { publisher.rtcp($0.bytes) }.filter { if case .receiverReport = $0 { true } else { false } }.count)
        }
        sent.removeAll()
        router.tick(now: 1_000 * Self.ms, send: capture)
        #expect(reports() == (0, 0))
        router.tick(now: 2_500 * Self.ms, send: capture)
        #expect(reports() == (1, 1))
    }
}

extension RTCPReportTests {
    /// A subscriber receiving many streams gets their SRs together: one compound per datagram
    /// holding an SR per stream (RFC 8108 §5.3) and the CNAME of the first, 16 streams at most
    /// per datagram; 20 streams make two datagrams, not twenty.
    @Test func senderReportsToOneSubscriberAreAggregated() throws {
        let router = MediaRouter(dtlsContext: DTLSContext(certificate: try DTLSCertificate.generate()), iceCredentials: ICELiteAgentTests.credentials)
        let viewer = Leg(port: 20_000)
        let sub = router.addTransport(Self.answer(.sending), localUfrag: "s", now: 0)
        router.connectWithoutHandshake(transport: sub, keys: viewer.keys, address: viewer.address)
        var sent: [(bytes: [UInt8], to: TransportAddress)] = []
        let capture: (UnsafeRawBufferPointer, TransportAddress) -> Void = { sent.append((Array($0), $1)) }
        for i in 0..<20 {
            let publisher = Leg(port: UInt16(10_000 + i))
            let pub = router.addTransport(Self.answer(.receiving), localUfrag: "p\(i)", now: 0)
            router.connectWithoutHandshake(transport: pub, keys: publisher.keys, address: publisher.address)
            router.publish(transport: pub, publisher: ParticipantKey(room: "room", identity: "p\(i)"))
            router.subscribe(transport: sub, to: MediaRouter.TrackKey(publisher: ParticipantKey(room: "room", identity: "p\(i)"), kind: .video), ssrc: UInt32(1000 + i), now: 0)
            var b = RTPPacketBuilder(payloadType: 96, sequenceNumber: 1, timestamp: 3000, ssrc: UInt32(0xA000 + i), marker: true)
            b.payload = [0x10, 0x00, 0x00, 0x00] + [UInt8](repeating: 7, count: 96)
            var packet = b.serialized() + [UInt8](repeating: 0, count: 32)
            let n = try packet.withUnsafeMutableBytes { try publisher.peerSend.protectRTP($0, length: $0.count - 32) }
            packet.withUnsafeBytes { router.handle(UnsafeRawBufferPointer(rebasing: $0[0..<n]), from: publisher.address, now: 10 * Self.ms, send: capture) }
        }
        sent.removeAll()
        router.tick(now: 900 * Self.ms, send: capture)
        let datagrams = sent.filter { $0.to == viewer.address }.map { viewer.rtcp($0.bytes) }
        #expect(datagrams.count == 2)
        let reports = datagrams.map { $0.compactMap { if case .senderReport(let r) = $0 { r.ssrc } else { nil } } }
        #expect(reports.map(\.count) == [16, 4])
        #expect(Set(reports.flatMap { $0 }) == Set((0..<20).map { UInt32(1000 + $0) }))
        for (d, ssrcs) in zip(datagrams, reports) {
            let cnames = d.compactMap { if case .sourceDescription(let s) = $0 { s.chunks.map(\.source) } else { nil } }.flatMap { $0 }
            #expect(cnames == [ssrcs[0]])
        }
    }
}

/// Transports free their DTLS association on the first timer pass after connecting; forwarding
/// goes on, and a publisher's RTCP BYE then ends it as its close_notify would have.
struct DTLSReleaseTests {
    /// Timer passes leave forwarding alone.
    @Test func forwardingGoesOnAcrossTimerPasses() throws {
        let (router, publisher, viewer) = try RTCPReportTests.publisherAndViewer()
        var forwarded = 0
        func packet(_ seq: UInt16, now: UInt64) throws {
            var b = RTPPacketBuilder(payloadType: 96, sequenceNumber: seq, timestamp: UInt32(seq) * 3000, ssrc: 0xABCD, marker: true)
            b.payload = [0x10, 0x00, 0x00, 0x00] + [UInt8](repeating: 7, count: 96)
            var p = b.serialized() + [UInt8](repeating: 0, count: 32)
            let n = try p.withUnsafeMutableBytes { try publisher.peerSend.protectRTP($0, length: $0.count - 32) }
            p.withUnsafeBytes { router.handle(UnsafeRawBufferPointer(rebasing: $0[0..<n]), from: publisher.address, now: now) { _, to in if to == viewer.address { forwarded += 1 } } }
        }
        try packet(1, now: 1_000_000_000)
        router.tick(now: 1_100_000_000) { _, _ in }
        try packet(2, now: 1_200_000_000)
        #expect(forwarded == 2)
    }

    /// A router transport after a real ICE check and DTLS handshake whose final flight (from the
    /// router) was lost on its way to the client; `deliver` hands the router a client datagram.
    struct LostFinalFlight {
        let router: MediaRouter
        let client: DTLSTransport
        let lastClientFlight: [[UInt8]]
        let deliver: ([UInt8], UInt64) -> [[UInt8]]
    }

    static func handshakeLosingTheFinalFlight(publishing: Bool) throws -> LostFinalFlight {
        let serverCertificate = try DTLSCertificate.generate(), clientCertificate = try DTLSCertificate.generate()
        let router = MediaRouter(dtlsContext: DTLSContext(certificate: serverCertificate), iceCredentials: ICELiteAgentTests.credentials)
        var answer = RTCPReportTests.answer(publishing ? .receiving : .sending)
        answer.remoteUfrag = "cliU"
        answer.remoteFingerprint = clientCertificate.fingerprint
        let id = router.addTransport(answer, localUfrag: "srvU", now: 0)
        if publishing { router.publish(transport: id, publisher: ParticipantKey(room: "room", identity: "p")) }
        let address = TransportAddress(ip: .loopbackV4, port: 40_000)
        let deliver: ([UInt8], UInt64) -> [[UInt8]] = { datagram, now in
            var sent: [[UInt8]] = []
            datagram.withUnsafeBytes { router.handle($0, from: address, now: now) { bytes, to in if to == address { sent.append(Array(bytes)) } } }
            return sent
        }
        #expect(deliver(ICELiteAgentTests.check(useCandidate: true).1, 1_000_000_000).count == 1)  // the check's success response
        let client = DTLSTransport(context: DTLSContext(certificate: clientCertificate), role: .client, remoteFingerprint: serverCertificate.fingerprint)
        func sends(_ e: [DTLSTransport.Event]) -> [[UInt8]] { e.compactMap { if case .send(let d) = $0 { d } else { nil } } }
        var toRouter = sends(client.start(now: 0)), lastClientFlight: [[UInt8]] = []
        for _ in 0..<10 where router.stats.transportsConnected == 0 {
            lastClientFlight = toRouter
            let answered = toRouter.flatMap { deliver($0, 1_010_000_000) }
            toRouter = []
            if router.stats.transportsConnected > 0 { break }  // `answered` is the final flight: lost
            for d in answered { toRouter += sends(client.receive(d, now: 0)) }
        }
        #expect(router.stats.transportsConnected == 1 && client.state == .handshaking)
        return LostFinalFlight(router: router, client: client, lastClientFlight: lastClientFlight, deliver: deliver)
    }

    /// A viewer's association is freed on the timer pass after connecting, and a client that
    /// lost the router's final flight still connects, answered from the kept flight when it
    /// retransmits its own (RFC 6347 §4.2.4).
    @Test func aReleasedViewerTransportAnswersALostFinalFlight() throws {
        let h = try Self.handshakeLosingTheFinalFlight(publishing: false)
        h.router.tick(now: 1_100_000_000) { _, _ in }
        #expect(h.router.stats.dtlsReleased == 1)
        let replayed = h.lastClientFlight.flatMap { h.deliver($0, 1_500_000_000) }
        for d in replayed { _ = h.client.receive(d, now: 0) }
        #expect(h.client.state == .connected)
    }

    /// After `associationQuietPeriod` without DTLS from the peer, the kept final flight is
    /// dropped and with it the transport's DTLS object: a late retransmission gets no answer,
    /// the transport stays, and its removal still works.
    @Test func aQuietTransportDropsWhatIsLeftOfDTLS() throws {
        let h = try Self.handshakeLosingTheFinalFlight(publishing: false)
        let t = try #require(h.router.transports.values.first)
        h.router.tick(now: 1_100_000_000) { _, _ in }
        #expect(t.dtls?.isReleased == true && t.dtls?.holdsFinalFlight == true)
        h.router.tick(now: 1_010_000_000 + MediaRouter.associationQuietPeriod + MediaRouter.reportPassInterval) { _, _ in }
        #expect(t.dtls == nil && h.router.transports[t.id] === t && h.router.stats.dtlsFinished == 1)
        #expect(h.lastClientFlight.flatMap { h.deliver($0, 7_000_000_000) }.isEmpty)
        h.router.removeTransport(t.id) { _, _ in }
        #expect(h.router.transports.isEmpty)
    }

    /// A publisher's association is kept while the peer may still close it with close_notify,
    /// and freed after `associationQuietPeriod` of DTLS quiet; the lost final flight is answered
    /// either way.
    @Test func aPublishersAssociationIsFreedAfterItsQuietPeriod() throws {
        let h = try Self.handshakeLosingTheFinalFlight(publishing: true)
        h.router.tick(now: 1_100_000_000) { _, _ in }
        #expect(h.router.stats.dtlsReleased == 0)
        h.router.tick(now: 1_010_000_000 + MediaRouter.associationQuietPeriod) { _, _ in }
        #expect(h.router.stats.dtlsReleased == 1)
        let replayed = h.lastClientFlight.flatMap { h.deliver($0, 7_000_000_000) }
        for d in replayed { _ = h.client.receive(d, now: 0) }
        #expect(h.client.state == .connected)
    }

    /// A BYE naming every stream the publisher sends ends its transport; a BYE for another
    /// source, or an unauthenticated one, does not.
    @Test func aPublishersGoodbyeEndsItsTransport() throws {
        let (router, publisher, _) = try RTCPReportTests.publisherAndViewer()
        func rtcp(_ packets: [RTCPPacket], protect: Bool = true) throws {
            let size = packets.reduce(0) { $0 + $1.serializedSize }
            var b = packets.flatMap { $0.serialized() } + [UInt8](repeating: 0, count: 32)
            let n = protect ? try b.withUnsafeMutableBytes { try publisher.peerSend.protectRTCP($0, length: size) } : size + 14
            b.withUnsafeBytes { router.handle(UnsafeRawBufferPointer(rebasing: $0[0..<n]), from: publisher.address, now: 2_000_000_000) { _, _ in } }
        }
        var b = RTPPacketBuilder(payloadType: 96, sequenceNumber: 1, timestamp: 3000, ssrc: 0xABCD, marker: true)
        b.payload = [0x10, 0x00, 0x00, 0x00] + [UInt8](repeating: 7, count: 96)
        var p = b.serialized() + [UInt8](repeating: 0, count: 32)
        let n = try p.withUnsafeMutableBytes { try publisher.peerSend.protectRTP($0, length: $0.count - 32) }
        p.withUnsafeBytes { router.handle(UnsafeRawBufferPointer(rebasing: $0[0..<n]), from: publisher.address, now: 1_000_000_000) { _, _ in } }
        _ = router.takeEvents()

        let rr = RTCPPacket.receiverReport(RTCPReceiverReport(ssrc: 0xABCD, reports: []))
        try rtcp([rr, .goodbye(RTCPGoodbye(sources: [0x9999]))])
        try rtcp([rr, .goodbye(RTCPGoodbye(sources: [0xABCD]))], protect: false)
        #expect(router.takeEvents().isEmpty)
        try rtcp([rr, .goodbye(RTCPGoodbye(sources: [0xABCD]))])
        #expect(router.takeEvents().contains { if case .failed(_, let why) = $0 { why == "peer sent RTCP BYE" } else { false } })
    }
}
