import MediaCrypto
import MediaWire
import SFU

/// Fuzz entry point for the media transport's datagram entry point: any bytes from any address
/// never crash the router (RFC 7983 demux, STUN, DTLS, SRTP paths), and nothing is sent for input
/// that does not come from a validated address, except answers to valid STUN checks.
public enum MediaFuzzing {
    /// One router with one transport (known ICE credentials), shared across inputs like a server.
    /// nonisolated(unsafe): libFuzzer and the regression tests (a serialized suite) call the target
    /// from one thread at a time.
    nonisolated(unsafe) static var router: MediaRouter = makeRouter()
    static let certificate = try! DTLSCertificate.generate()
    /// A fixed key, so that the committed seed's check (signed by tools/fuzz/make-seeds.py with
    /// the password derived the same way) passes and the fuzzer starts past ICE.
    public static let credentials = ICECredentialMinter(key: Array("fuzz-ice-key".utf8))

    static func makeRouter() -> MediaRouter {
        let r = MediaRouter(dtlsContext: DTLSContext(certificate: certificate), iceCredentials: credentials)
        // The connection as the control plane negotiates it (no SDP in the graph): one VP8 section received.
        let parameters = TransportParameters(remoteUfrag: "peer", remoteFingerprint: Array(0..<32), dtlsRole: .server,
                                             media: [MediaSection(mid: "0", codec: .vp8, payloadType: 96, direction: .receiving)])
        let id = r.addTransport(parameters, localUfrag: "fuzz", now: 0)
        r.publish(transport: id, publisher: ParticipantKey(room: "room", identity: "p"))
        return r
    }

    /// First byte selects the source port (so both known and unknown 5-tuples are reached).
    public static func datagram(_ bytes: UnsafeRawBufferPointer) { _ = sent(for: bytes) }

    /// `datagram`, returning how many datagrams the router sent for the input (tests: a valid
    /// check is answered).
    public static func sent(for bytes: UnsafeRawBufferPointer) -> Int {
        guard let first = bytes.first else { return 0 }
        let from = TransportAddress(ip: .loopbackV4, port: 40_000 + UInt16(first & 0x07))
        let rest = UnsafeRawBufferPointer(rebasing: bytes.dropFirst())
        var sent = 0
        router.handle(rest, from: from, now: UInt64(first) * 1_000_000) { out, _ in
            precondition(out.count <= 1500, "oversized datagram")
            sent += 1
        }
        router.tick(now: UInt64(first) * 1_000_000) { _, _ in }
        return sent
    }
}
