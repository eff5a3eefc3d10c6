import Foundation
import Testing
import Glibc
import COpenSSL
@testable import MediaCrypto

/// DTLS-SRTP (RFC 5764) between two in-memory transports: no sockets, datagrams passed by hand.
struct DTLSTests {
    static let serverCertificate = try! DTLSCertificate.generate()
    static let clientCertificate = try! DTLSCertificate.generate()

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Runs a handshake, delivering every datagram unless `drop` says otherwise; returns both sides' events.
    static func handshake(clientProfiles: [SRTPProfile] = [.aeadAes128Gcm, .aes128CmHmacSha1_80],
                          serverProfiles: [SRTPProfile] = [.aeadAes128Gcm, .aes128CmHmacSha1_80],
                          clientExpects: [UInt8]? = nil, clientGroups: String? = nil, drop: (Int) -> Bool = { _ in false },
                          inspect: (_ server: DTLSTransport, _ client: DTLSTransport) -> Void = { _, _ in }) -> ([DTLSTransport.Event], [DTLSTransport.Event]) {
        let server = DTLSTransport(context: DTLSContext(certificate: serverCertificate, profiles: serverProfiles), role: .server,
                                   remoteFingerprint: clientCertificate.fingerprint)
        let clientContext = DTLSContext(certificate: clientCertificate, profiles: clientProfiles)
        if let clientGroups { precondition(shihui_SSL_CTX_set1_groups_list(clientContext.ctx, clientGroups) == 1) }
        let client = DTLSTransport(context: clientContext, role: .client,
                                   remoteFingerprint: clientExpects ?? serverCertificate.fingerprint)
        defer { inspect(server, client) }
        var clientEvents = client.start(now: now()), serverEvents: [DTLSTransport.Event] = []
        var toServer = clientEvents.compactMap { if case .send(let d) = $0 { d } else { nil } }
        var toClient: [[UInt8]] = []
        var sent = 0
        let deadline = now() + 5_000_000_000
        while now() < deadline && (client.state == .handshaking || server.state == .handshaking) {
            for d in toServer {
                sent += 1
                if drop(sent) { continue }
                let e = server.receive(d, now: now())
                serverEvents += e
                toClient += e.compactMap { if case .send(let d) = $0 { d } else { nil } }
            }
            toServer = []
            for d in toClient {
                sent += 1
                if drop(sent) { continue }
                let e = client.receive(d, now: now())
                clientEvents += e
                toServer += e.compactMap { if case .send(let d) = $0 { d } else { nil } }
            }
            toClient = []
            if toServer.isEmpty {
                usleep(20_000)
                let c = client.tick(now: now()), s = server.tick(now: now())
                clientEvents += c
                serverEvents += s
                toServer += c.compactMap { if case .send(let d) = $0 { d } else { nil } }
                toClient += s.compactMap { if case .send(let d) = $0 { d } else { nil } }
            }
            if case .failed = client.state { break }
            if case .failed = server.state { break }
        }
        return (clientEvents, serverEvents)
    }

    static func keys(_ events: [DTLSTransport.Event]) -> DTLSTransport.SRTPKeys? {
        for e in events { if case .connected(let k) = e { return k } }
        return nil
    }

    /// The key exchange uses X25519 when the peer offers it, as browsers do (its ECDHE needs no
    /// public-key check, P-256's cost 12.6 % of a handshake pair), and P-256 with a peer that
    /// offers only that.
    @Test func ecdhePrefersX25519() throws {
        var groups: [String?] = []
        _ = Self.handshake(inspect: { server, client in groups = [server.negotiatedGroup, client.negotiatedGroup] })
        #expect(groups == ["X25519", "X25519"])
        let (client, server) = Self.handshake(clientGroups: "P-256", inspect: { s, _ in groups = [s.negotiatedGroup] })
        #expect(groups == ["prime256v1"] && Self.keys(client) != nil && Self.keys(server) != nil)
    }

    /// RFC5764Section4_2: both sides connect and export mirrored SRTP keys; GCM is preferred.
    @Test func handshakeExportsMirroredKeys() throws {
        let (c, s) = Self.handshake()
        let client = try #require(Self.keys(c)), server = try #require(Self.keys(s))
        #expect(client.profile == .aeadAes128Gcm && server.profile == .aeadAes128Gcm)
        #expect(client.localKey == server.remoteKey && client.localSalt == server.remoteSalt)
        #expect(client.remoteKey == server.localKey && client.remoteSalt == server.localSalt)
        #expect(client.localKey != client.remoteKey && client.localSalt.count == 12)
        // Every datagram respects the MTU.
        for e in c + s { if case .send(let d) = e { #expect(d.count <= 1200) } }
        // The keys work: the client protects, the server unprotects.
        let tx = SRTPContext(profile: client.profile, masterKey: client.localKey, masterSalt: client.localSalt)
        let rx = SRTPContext(profile: server.profile, masterKey: server.remoteKey, masterSalt: server.remoteSalt)
        let p = try SRTPTests.protect(tx, SRTPTests.rtp(seq: 1))
        #expect(try SRTPTests.unprotect(rx, p) == SRTPTests.rtp(seq: 1))
    }

    /// The AES-CM profile is negotiated when it is the only one the client offers.
    @Test func negotiatesAESCM() throws {
        let (c, _) = Self.handshake(clientProfiles: [.aes128CmHmacSha1_80])
        #expect(Self.keys(c)?.profile == .aes128CmHmacSha1_80)
        #expect(Self.keys(c)?.localSalt.count == 14)
    }

    /// RFC8122Section5: a certificate that does not match the SDP fingerprint is refused, no keys.
    @Test func forgedFingerprintRefused() {
        var wrong = Self.serverCertificate.fingerprint
        wrong[0] ^= 0xFF
        let (c, _) = Self.handshake(clientExpects: wrong)
        #expect(Self.keys(c) == nil)
        #expect(c.contains(.failed("peer certificate does not match the SDP fingerprint")))
    }

    /// A lost flight is retransmitted on the DTLS timer and the handshake still completes.
    @Test func retransmissionAfterLoss() throws {
        let (c, s) = Self.handshake(drop: { $0 == 1 || $0 == 3 })  // lose the ClientHello and a server datagram
        #expect(Self.keys(c) != nil && Self.keys(s) != nil)
    }

    /// A server that released its association at once still completes a handshake whose final
    /// flight was lost: the client retransmits its last flight, the server answers with the kept
    /// final flight, and the client connects (RFC 6347 §4.2.4). Other records are ignored, the
    /// replays are bounded, and none are left once the flight is forgotten.
    @Test func releasedServerReplaysItsFinalFlight() throws {
        let server = DTLSTransport(context: DTLSContext(certificate: Self.serverCertificate), role: .server,
                                   remoteFingerprint: Self.clientCertificate.fingerprint)
        let client = DTLSTransport(context: DTLSContext(certificate: Self.clientCertificate), role: .client,
                                   remoteFingerprint: Self.serverCertificate.fingerprint)
        func sends(_ e: [DTLSTransport.Event]) -> [[UInt8]] { e.compactMap { if case .send(let d) = $0 { d } else { nil } } }
        var toServer = sends(client.start(now: Self.now()))
        var lastClientFlight: [[UInt8]] = []
        var serverFinal: [[UInt8]] = []
        for _ in 0..<10 where server.state == .handshaking {
            lastClientFlight = toServer
            var toClient: [[UInt8]] = []
            for d in toServer {
                let e = server.receive(d, now: Self.now())
                if Self.keys(e) != nil { serverFinal = sends(e) } else { toClient += sends(e) }
            }
            toServer = []
            for d in toClient { toServer += sends(client.receive(d, now: Self.now())) }
        }
        #expect(server.state == .connected && client.state == .handshaking && !serverFinal.isEmpty)
        server.releaseAssociation()  // the final flight (serverFinal) never reached the client
        #expect(server.isReleased && server.holdsFinalFlight)
        // Anything but a handshake record is ignored.
        #expect(server.receive([23, 0xFE, 0xFD] + [UInt8](repeating: 0, count: 30), now: Self.now()).isEmpty)
        // The client's retransmitted last flight gets the final flight again, byte for byte.
        var replayed: [[UInt8]] = []
        for d in lastClientFlight { replayed += sends(server.receive(d, now: Self.now())) }
        #expect(Array(replayed.prefix(serverFinal.count)) == serverFinal)
        var clientEvents: [DTLSTransport.Event] = []
        for d in serverFinal { clientEvents += client.receive(d, now: Self.now()) }
        #expect(client.state == .connected && Self.keys(clientEvents) != nil)
        // Bounded: at most 8 replays in all.
        var more = 0
        for _ in 0..<20 { more += sends(server.receive(lastClientFlight[0], now: Self.now())).isEmpty ? 0 : 1 }
        #expect(more == 8 - lastClientFlight.count)
        server.forgetFinalFlight()
        #expect(!server.holdsFinalFlight)
    }

    /// The certificate survives a PEM round trip with the same fingerprint; garbage is refused.
    @Test func certificatePersistence() throws {
        let pem = Self.serverCertificate.pem()
        #expect(pem.contains("BEGIN PRIVATE KEY") && pem.contains("BEGIN CERTIFICATE"))
        #expect(try DTLSCertificate.load(pem: pem).fingerprint == Self.serverCertificate.fingerprint)
        #expect(throws: DTLSCertificate.Error.invalidPEM) { try DTLSCertificate.load(pem: "not a pem") }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dtls-\(UUID().uuidString).pem").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let created = try DTLSCertificate.loadOrCreate(path: path)
        #expect(try DTLSCertificate.loadOrCreate(path: path).fingerprint == created.fingerprint)
        #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) == 0o600)
    }

    /// Garbage datagrams during the handshake fail it cleanly (no crash, no keys).
    @Test func garbageFailsCleanly() {
        let server = DTLSTransport(context: DTLSContext(certificate: Self.serverCertificate), role: .server, remoteFingerprint: [])
        let events = server.receive([22, 0xFE, 0xFD] + [UInt8](repeating: 0x41, count: 60), now: Self.now())
        #expect(events.contains { if case .failed = $0 { true } else { false } } || server.state == .handshaking)
        #expect(Self.keys(events) == nil)
    }

    /// Records are packed into datagrams at record boundaries, never above the MTU.
    @Test func recordPacking() {
        func record(_ n: Int) -> [UInt8] { [22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, UInt8(n >> 8), UInt8(n & 0xFF)] + [UInt8](repeating: 1, count: n) }
        let stream = record(500) + record(600) + record(100) + record(1000)
        let d = DTLSTransport.packRecords(stream, mtu: 1200)
        #expect(d.map(\.count) == [513 + 613, 113 + 1013])  // greedy: whole records while they fit
        #expect(d.flatMap { $0 } == stream)
    }
}
