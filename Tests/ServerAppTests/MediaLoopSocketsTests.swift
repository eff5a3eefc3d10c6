import Foundation
import Glibc
import MediaCrypto
import MediaIO
import MediaWire
import SFU
import Synchronization
import Testing

/// The media loop serves sockets beside the WebRTC port, each with its own handler, in the same
/// thread and batches (issue 17): here a plain-RTP socket whose handler feeds a router source,
/// and a tap on that source's track that receives what a real UDP sender sent.
struct MediaLoopSocketsTests {
    final class Box<T>: @unchecked Sendable {  // set once by the media thread, read after a wait
        let lock = NSLock()
        var value: T
        init(_ value: T) { self.value = value }
        func set(_ v: T) { lock.lock(); value = v; lock.unlock() }
        func get() -> T { lock.lock(); defer { lock.unlock() }; return value }
    }

    @Test func aPlainRTPSocketFeedsASourceAndItsTap() throws {
        let router = MediaRouter(dtlsContext: DTLSContext(certificate: try DTLSCertificate.generate()))
        let loop = try MediaLoop(address: TransportAddress("127.0.0.1:0")!, router: router)
        loop.start()
        defer { loop.stop() }
        let drone = ParticipantKey(room: "ops", identity: "drone-7")
        let ring = TapRing(capacity: 256)
        let bound = Box<TransportAddress?>(nil)
        loop.perform { router in
            let source = router.addSource(publisher: drone, tracks: [.init(codec: .vp8, payloadType: 96)])
            router.addTap(ring, to: MediaRouter.TrackKey(publisher: drone, kind: .video))
            loop.addSocket(address: TransportAddress("127.0.0.1:0")!, handler: { router, datagram, _, now, send in
                router.ingest(source: source, packet: datagram, now: now, send: send)
            }, done: { result in if case .success(let s) = result { bound.set(s.address) } })
        }
        var port: UInt16 = 0
        for _ in 0..<200 where port == 0 {
            port = bound.get()?.port ?? 0
            usleep(10_000)
        }
        #expect(port != 0)
        // A real UDP sender on loopback: 20 VP8 packets, the first a keyframe.
        let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(s) }
        var to = sockaddr_in()
        to.sin_family = sa_family_t(AF_INET)
        to.sin_port = port.bigEndian
        to.sin_addr.s_addr = inet_addr("127.0.0.1")
        for seq: UInt16 in 1...20 {
            var b = RTPPacketBuilder(payloadType: 96, sequenceNumber: seq, timestamp: UInt32(seq) * 3000, ssrc: 0xD7, marker: true)
            b.payload = [0x10, seq == 1 ? 0x00 : 0x01, 0x00, 0x00] + [UInt8](repeating: 1, count: 100)
            let bytes = b.serialized()
            _ = bytes.withUnsafeBytes { p in withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(s, p.baseAddress, p.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } }
        }
        var sequence: [UInt16] = []
        for _ in 0..<300 where sequence.count < 20 {
            ring.drain { p, _ in if let h = try? RTPHeader.parse(p) { sequence.append(h.sequenceNumber) } }
            usleep(10_000)
        }
        #expect(sequence == Array(1...20))
    }
}
