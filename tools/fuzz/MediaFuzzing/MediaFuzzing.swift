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
        let offer = try! SessionDescription.parse(sampleOffer)
        let result = try! SDPAnswerer.answer(offer, SDPAnswerer.Parameters(sessionID: 1, iceUfrag: "fuzz", icePassword: credentials.password(for: "fuzz"),
                                                                             fingerprint: certificate.fingerprint, candidates: []))
        let id = r.addTransport(answer: result, localUfrag: "fuzz", now: 0)
        r.publish(transport: id, publisher: ParticipantKey(room: "room", identity: "p"))
        return r
    }

    static let sampleOffer = """
        v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=ice-ufrag:peer\r\na=ice-pwd:peer-password-0123456789\r\n\
        a=fingerprint:sha-256 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F\r\n\
        a=setup:actpass\r\na=rtcp-mux\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n
        """

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
