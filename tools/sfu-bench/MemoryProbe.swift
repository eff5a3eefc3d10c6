import CShims
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
            let s = String(cString: line)
            if s.hasPrefix("VmRSS:") { return Int(s.split(separator: " ").dropFirst().first ?? "") ?? 0 }
        }
        return 0
    }

    static func run(count n: Int) {
        let certificate = try! DTLSCertificate.generate()
        let server = DTLSContext(certificate: certificate)
        let client = DTLSContext(certificate: try! DTLSCertificate.generate())
        var kept: [DTLSTransport] = []
        let before = rssKiB()
        for i in 0..<n {
            let s = DTLSTransport(context: server, role: .server, remoteFingerprint: client.certificate.fingerprint)
            let c = DTLSTransport(context: client, role: .client, remoteFingerprint: certificate.fingerprint)
            var toServer: [[UInt8]] = c.start(now: 0).compactMap { if case .send(let d) = $0 { d } else { nil } }
            var rounds = 0
            while !toServer.isEmpty, rounds < 20 {
                var toClient: [[UInt8]] = []
                for d in toServer { for e in s.receive(d, now: UInt64(i)) { if case .send(let x) = e { toClient.append(x) } } }
                toServer = []
                for d in toClient { for e in c.receive(d, now: UInt64(i)) { if case .send(let x) = e { toServer.append(x) } } }
                rounds += 1
            }
            precondition(s.state == .connected, "handshake \(i) did not complete: \(s.state)")
            kept.append(s)
        }
        let afterDTLS = rssKiB()
        var contexts: [SRTPContext] = []
        for _ in 0..<n {
            for profile in [SRTPProfile.aes128CmHmacSha1_80, .aes128CmHmacSha1_80] {
                contexts.append(SRTPContext(profile: profile, masterKey: SecureRandom.bytes(16), masterSalt: SecureRandom.bytes(14)))
            }
        }
        let afterSRTP = rssKiB()
        for t in kept { t.releaseAssociation() }
        _ = shihui_malloc_trim()
        let afterRelease = rssKiB()
        print("memory per peer connection (\(n) of each, RSS deltas):")
        print("  DTLS association (server side, after handshake): \((afterDTLS - before) * 1024 / n) bytes")
        print("  SRTP contexts (inbound + outbound, AES-CM):       \((afterSRTP - afterDTLS) * 1024 / n) bytes")
        print("  freed by releaseAssociation (+ malloc_trim):      \((afterSRTP - afterRelease) * 1024 / n) bytes")
        withExtendedLifetime((kept, contexts)) {}
    }
}
