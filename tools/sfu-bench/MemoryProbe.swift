import CShims
import Foundation
import Glibc
import MediaCrypto
import MediaWire
import SFU

/// `sfu-bench --memory`: resident memory per peer connection, by part: N DTLS associations
/// handshaken in memory (server side kept), N pairs of SRTP contexts, N router subscriber
/// transports. RSS from /proc/self/status before and after each part.
enum MemoryProbe {
    static func rssKiB() -> Int {
        guard let f = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, 256, f) != nil {
            let s = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if s.hasPrefix("VmRSS:") { return Int(s.split(separator: " ").dropFirst().first ?? "") ?? 0 }
        }
        return 0
    }

    /// Completes `server`'s handshake in memory with a fresh client transport (from `client`,
    /// expecting `certificate`), which is dropped afterwards.
    static func handshake(_ server: DTLSTransport, with client: DTLSContext, expecting certificate: DTLSCertificate, now: UInt64) {
        let c = DTLSTransport(context: client, role: .client, remoteFingerprint: certificate.fingerprint)
        var toServer: [[UInt8]] = c.start(now: 0).compactMap { if case .send(let d) = $0 { d } else { nil } }
        var rounds = 0
        while !toServer.isEmpty, rounds < 20 {
            var toClient: [[UInt8]] = []
            for d in toServer { for e in server.receive(d, now: now) { if case .send(let x) = e { toClient.append(x) } } }
            toServer = []
            for d in toClient { for e in c.receive(d, now: now) { if case .send(let x) = e { toServer.append(x) } } }
            rounds += 1
        }
        precondition(server.state == .connected, "handshake did not complete: \(server.state)")
    }

    static func run(count n: Int) {
        let certificate = try! DTLSCertificate.generate()
        let server = DTLSContext(certificate: certificate)
        let client = DTLSContext(certificate: try! DTLSCertificate.generate())
        var kept: [DTLSTransport] = []
        let before = rssKiB(), heapBefore = shihui_heap_in_use()
        let handshakeStart = shihui_monotonic_ns()
        for i in 0..<n {
            let s = DTLSTransport(context: server, role: .server, remoteFingerprint: client.certificate.fingerprint)
            handshake(s, with: client, expecting: certificate, now: UInt64(i))
            kept.append(s)
        }
        let handshakeNanos = shihui_monotonic_ns() - handshakeStart
        let afterDTLS = rssKiB(), heapAfterDTLS = shihui_heap_in_use()
        // A viewer's two contexts as they are used: the outbound one protects RTP and RTCP
        // (sender reports), the inbound one only opens the viewer's RTCP (its inbound RTP key
        // never sees a packet, so its cipher context is never created).
        // Their cipher contexts are shared, as the router's are (SRTPCipherContexts).
        var contexts: [SRTPContext] = []
        let shared = SRTPCipherContexts()
        var rtp = [UInt8](repeating: 0, count: 1300), rtcp = [UInt8](repeating: 0, count: 200)
        for _ in 0..<n {
            let outbound = SRTPContext(profile: .aes128CmHmacSha1_80, masterKey: SecureRandom.bytes(16), masterSalt: SecureRandom.bytes(14), sharing: shared)
            let key = SecureRandom.bytes(16), salt = SecureRandom.bytes(14)
            let inbound = SRTPContext(profile: .aes128CmHmacSha1_80, masterKey: key, masterSalt: salt, sharing: shared)
            let viewer = SRTPContext(profile: .aes128CmHmacSha1_80, masterKey: key, masterSalt: salt)
            rtp.withUnsafeMutableBytes { b in
                b.storeBytes(of: 0x80, toByteOffset: 0, as: UInt8.self); b.storeBytes(of: 96, toByteOffset: 1, as: UInt8.self)
                _ = try! outbound.protectRTP(b, length: 1200)
            }
            rtcp.withUnsafeMutableBytes { b in
                // A receiver report with one block (RFC 3550 §6.4.2): V=2, RC=1, PT 201, length 7.
                func report() { for i in 0..<32 { b[i] = 0 }; for (i, v) in [0x81, 201, 0, 7, 0, 0, 0, 7].enumerated() { b[i] = UInt8(v) } }
                report()
                _ = try! outbound.protectRTCP(b, length: 32)
                report()
                let protected = try! viewer.protectRTCP(b, length: 32)
                _ = try! inbound.unprotectRTCP(b, length: protected)
            }
            contexts += [outbound, inbound]
        }
        let afterSRTP = rssKiB()
        for t in kept { t.releaseAssociation() }
        _ = shihui_malloc_trim()
        let afterRelease = rssKiB(), heapAfterRelease = shihui_heap_in_use()
        let router = routerViewers(count: n, context: server)
        _ = shihui_malloc_trim()
        let beforeFresh = rssKiB()
        let fresh = (0..<n).map { _ in DTLSTransport(context: server, role: .server, remoteFingerprint: client.certificate.fingerprint) }
        let freshBytes = (rssKiB() - beforeFresh) * 1024 / n
        withExtendedLifetime(fresh) {}
        print("DTLS handshakes in memory, client and server on this thread: \(handshakeNanos / UInt64(n) / 1000) µs each")
        print("memory per peer connection (\(n) of each, RSS deltas):")
        print("  DTLS association (server side, after handshake): \((afterDTLS - before) * 1024 / n) bytes")
        print("  SRTP keys (inbound + outbound, AES-CM, used, shared cipher contexts): \((afterSRTP - afterDTLS) * 1024 / n) bytes")
        print("  freed by releaseAssociation (+ malloc_trim):      \((afterSRTP - afterRelease) * 1024 / n) bytes")
        // Live heap (mallinfo2) against RSS: what RSS keeps beyond it is fragmentation, pages
        // that one live chunk among the handshake's freed ones keeps resident.
        print("    live heap per connection after the handshake / after release (with its SRTP contexts): \((heapAfterDTLS - heapBefore) / n) / \((heapAfterRelease - heapBefore) / n) bytes")
        print("  router viewer transport, 2 subscriptions, SRTP keyed, association released: \(router.viewer) bytes")
        print("    of which the transport before keys and subscriptions (ICE, DTLS object, media): \(router.transport) bytes")
        print("    of which a DTLS transport not yet handshaken (SSL_new + BIOs; these viewers skip the handshake,")
        print("    so theirs is never released; after a real handshake it is):                  \(freshBytes) bytes")
        withExtendedLifetime((kept, contexts)) {}
    }

    /// A router with one publisher (video + audio) and `count` viewers, each connected (keys, no
    /// handshake) and subscribed to both tracks, their DTLS associations released: what the
    /// media plane keeps per viewer besides the shared packet cache.
    /// `sfu-bench --removal`: a router with one publisher and `n` connected viewers, then every
    /// viewer removed, as at a briefing's end; prints the time per removal.
    static func removal(count n: Int) {
        let context = DTLSContext(certificate: try! DTLSCertificate.generate())
        let router = routerWithPublisher(context: context)
        let ids = addViewers(n, to: router)
        connectAndSubscribe(ids, in: router)
        let start = shihui_monotonic_ns()
        for id in ids { router.removeTransport(id) { _, _ in } }
        let nanos = shihui_monotonic_ns() - start
        print("removing \(n) viewers: \(nanos / 1_000_000) ms, \(nanos / UInt64(n) / 1000) µs each")
    }

    static func answer(_ direction: MediaSection.Direction) -> TransportParameters {
        TransportParameters(remoteUfrag: "remoteufrag", remoteFingerprint: [UInt8](repeating: 7, count: 32), dtlsRole: .server, media: [
            MediaSection(mid: "0", codec: .vp8, payloadType: 96, extensions: [MediaSection.midExtensionURI: 1], direction: direction),
            MediaSection(mid: "1", codec: .opus, payloadType: 111, extensions: [MediaSection.midExtensionURI: 1], direction: direction),
        ])
    }

    static func keys() -> DTLSTransport.SRTPKeys {
        DTLSTransport.SRTPKeys(profile: .aes128CmHmacSha1_80, localKey: SecureRandom.bytes(16), localSalt: SecureRandom.bytes(14),
                               remoteKey: SecureRandom.bytes(16), remoteSalt: SecureRandom.bytes(14))
    }

    /// A router with one connected publisher ("room/p", video + audio).
    static func routerWithPublisher(context: DTLSContext) -> MediaRouter {
        let router = MediaRouter(dtlsContext: context)
        let publisher = router.addTransport(answer(.receiving), localUfrag: "pub", now: 0)
        router.connectWithoutHandshake(transport: publisher, keys: keys(), address: TransportAddress(ip: .loopbackV4, port: 9))
        router.publish(transport: publisher, publisher: ParticipantKey(room: "room", identity: "p"))
        return router
    }

    /// Adds `n` viewer transports (not yet connected).
    static func addViewers(_ n: Int, to router: MediaRouter) -> [WebRTCTransport.ID] {
        (0..<n).map { i in
            let ufrag = String(format: "v%07d", i)
            return router.addTransport(answer(.sending), localUfrag: ufrag, now: 0)
        }
    }

    /// Connects the viewers and subscribes each to both tracks.
    static func connectAndSubscribe(_ ids: [WebRTCTransport.ID], in router: MediaRouter) {
        for (i, id) in ids.enumerated() {
            router.connectWithoutHandshake(transport: id, keys: keys(), address: TransportAddress(ip: .loopbackV4, port: UInt16(10_000 + i % 50_000)))
            for kind in [MediaKind.video, .audio] {
                router.subscribe(transport: id, to: MediaRouter.TrackKey(publisher: ParticipantKey(room: "room", identity: "p"), kind: kind), ssrc: UInt32(2 * i + 100), now: 0)
            }
        }
    }

    static func routerViewers(count n: Int, context: DTLSContext) -> (viewer: Int, transport: Int) {
        let router = routerWithPublisher(context: context)
        _ = shihui_malloc_trim()
        let start = rssKiB()
        let ids = addViewers(n, to: router)
        let afterTransports = rssKiB()
        connectAndSubscribe(ids, in: router)
        router.tick(now: 10_000_000_000) { _, _ in }  // releases every quiet association
        _ = shihui_malloc_trim()
        let end = rssKiB()
        withExtendedLifetime(router) {}
        return ((end - start) * 1024 / n, (afterTransports - start) * 1024 / n)
    }
}
