import MediaCrypto
import MediaWire
import Testing
@testable import SFU

/// The router's feedback toward publishers that `tick` sends (RFC 4585 §6.2.1 NACK, §6.3.1 PLI):
/// only tracks with something outstanding are visited, and a track leaves that list when done.
/// Manual clock throughout.
struct FeedbackTimerTests {
    static let ms: UInt64 = 1_000_000

    /// What the router sent; RTCP toward the publisher is opened once per datagram (SRTCP
    /// refuses a replay) and kept.
    final class Capture {
        var sent: [(bytes: [UInt8], to: TransportAddress)] = []
        private var opened: [RTCPPacket] = []
        private var consumed = 0
        var send: (UnsafeRawBufferPointer, TransportAddress) -> Void { { self.sent.append((Array($0), $1)) } }
        func clear() {
            sent.removeAll()
            opened.removeAll()
            consumed = 0
        }
        func toPublisher(_ publisher: RTCPReportTests.Leg) -> [RTCPPacket] {
            opened += sent[consumed...].filter { $0.to == publisher.address }.flatMap { publisher.rtcp($0.bytes) }
            consumed = sent.count
            return opened
        }
        func nacked(_ publisher: RTCPReportTests.Leg) -> [UInt16] {
            toPublisher(publisher).flatMap { (p: RTCPPacket) -> [UInt16] in
                if case .nack(let n) = p { return n.lostSequenceNumbers }
                return []
            }
        }
        func plis(_ publisher: RTCPReportTests.Leg) -> Int {
            toPublisher(publisher).filter { if case .pictureLossIndication = $0 { true } else { false } }.count
        }
    }

    static func sendVideo(_ router: MediaRouter, _ publisher: RTCPReportTests.Leg, seq: UInt16, now: UInt64, _ capture: Capture) throws {
        var b = RTPPacketBuilder(payloadType: 96, sequenceNumber: seq, timestamp: UInt32(seq) * 3000, ssrc: 0xABCD, marker: true)
        b.payload = [0x10, 0x00, 0x00, 0x00] + [UInt8](repeating: 7, count: 96)
        var p = b.serialized() + [UInt8](repeating: 0, count: 32)
        let n = try p.withUnsafeMutableBytes { try publisher.peerSend.protectRTP($0, length: $0.count - 32) }
        p.withUnsafeBytes { router.handle(UnsafeRawBufferPointer(rebasing: $0[0..<n]), from: publisher.address, now: now, send: capture.send) }
    }

    static func viewerPLI(_ router: MediaRouter, _ viewer: RTCPReportTests.Leg, now: UInt64, _ capture: Capture) throws {
        let pli = RTCPPacket.pictureLossIndication(RTCPPictureLossIndication(senderSSRC: 77, mediaSSRC: 1000))
        var bytes = pli.serialized() + [UInt8](repeating: 0, count: 32)
        let n = try bytes.withUnsafeMutableBytes { try viewer.peerSend.protectRTCP($0, length: pli.serializedSize) }
        bytes.withUnsafeBytes { router.handle(UnsafeRawBufferPointer(rebasing: $0[0..<n]), from: viewer.address, now: now, send: capture.send) }
    }

    /// A gap is NACKed on the next tick, again after the retry interval (20 ms) and not before;
    /// once the missing packet arrives the track leaves the list and nothing more is sent.
    @Test func aGapIsNackedUntilRepaired() throws {
        let (router, publisher, _) = try RTCPReportTests.publisherAndViewer()
        let c = Capture()
        try Self.sendVideo(router, publisher, seq: 1, now: 0, c)
        router.tick(now: 1 * Self.ms, send: c.send)  // the subscription's keyframe request goes out
        #expect(c.plis(publisher) == 1 && router.attentionCount == 0)
        c.clear()
        try Self.sendVideo(router, publisher, seq: 4, now: 2 * Self.ms, c)  // 2 and 3 lost
        #expect(router.attentionCount == 1)
        router.tick(now: 3 * Self.ms, send: c.send)
        #expect(c.nacked(publisher) == [2, 3])
        c.clear()
        router.tick(now: 13 * Self.ms, send: c.send)
        #expect(c.nacked(publisher).isEmpty)  // 10 ms later: not yet due again
        router.tick(now: 24 * Self.ms, send: c.send)
        #expect(c.nacked(publisher) == [2, 3])
        c.clear()
        try Self.sendVideo(router, publisher, seq: 2, now: 25 * Self.ms, c)
        try Self.sendVideo(router, publisher, seq: 3, now: 25 * Self.ms, c)
        router.tick(now: 50 * Self.ms, send: c.send)
        #expect(c.nacked(publisher).isEmpty)
        #expect(router.attentionCount == 0)
    }

    /// A viewer's PLI goes to the publisher at once; a second within the limiter's 500 ms is
    /// held and sent by the first tick after the interval, once.
    @Test func aDeferredKeyframeRequestGoesOutOnATick() throws {
        let (router, publisher, viewer) = try RTCPReportTests.publisherAndViewer()
        let c = Capture()
        try Self.sendVideo(router, publisher, seq: 1, now: 0, c)
        router.tick(now: 1 * Self.ms, send: c.send)
        c.clear()
        try Self.viewerPLI(router, viewer, now: 10 * Self.ms, c)
        #expect(c.plis(publisher) == 1)
        try Self.viewerPLI(router, viewer, now: 100 * Self.ms, c)
        #expect(c.plis(publisher) == 1 && router.attentionCount == 1)
        router.tick(now: 400 * Self.ms, send: c.send)
        #expect(c.plis(publisher) == 1)
        router.tick(now: 520 * Self.ms, send: c.send)
        #expect(c.plis(publisher) == 2 && router.attentionCount == 0)
        router.tick(now: 1_100 * Self.ms, send: c.send)
        #expect(c.plis(publisher) == 2)
    }

    /// A track whose publisher left is dropped from the list without a send.
    @Test func aRemovedTrackLeavesTheList() throws {
        let (router, publisher, _) = try RTCPReportTests.publisherAndViewer()
        let c = Capture()
        try Self.sendVideo(router, publisher, seq: 1, now: 0, c)
        try Self.sendVideo(router, publisher, seq: 5, now: 1 * Self.ms, c)  // a gap: on the list
        #expect(router.attentionCount == 1)
        router.removeTransport(1, send: c.send)  // the publisher's transport (the first added)
        c.clear()
        router.tick(now: 2 * Self.ms, send: c.send)
        #expect(c.sent.isEmpty)
        #expect(router.attentionCount == 0)
    }
}
