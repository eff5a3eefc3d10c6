import Testing
@testable import Ingest

/// The RTSP client's pure parts (RFC 2326): the response and interleaved-frame parser, with its
/// malformed-input table, and Basic/Digest authentication against RFC 2617's own example.
struct RTSPTests {
    static func parseAll(_ text: String, chunk: Int = 7) throws(RTSPMessageParser.Error) -> [RTSPMessageParser.Message] {
        var p = RTSPMessageParser()
        var out: [RTSPMessageParser.Message] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            p.append(bytes[i..<min(i + chunk, bytes.count)])
            i += chunk
            while let m = try p.next() { out.append(m) }
        }
        return out
    }

    @Test func responsesAndInterleavedFramesInPieces() throws {
        let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=cam\r\n"
        let text = "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Base: rtsp://127.0.0.1:8554/cam/\r\nContent-Type: application/sdp\r\nContent-Length: \(sdp.utf8.count)\r\n\r\n\(sdp)"
            + "$\u{01}\u{00}\u{03}abc" + "RTSP/1.0 401 Unauthorized\r\nCSeq: 3\r\nWWW-Authenticate: Basic realm=\"cam\"\r\n\r\n"
        for chunk in [1, 7, 1000] {
            let messages = try Self.parseAll(text, chunk: chunk)
            #expect(messages.count == 3)
            guard case .response(let ok) = messages[0], case .interleaved(1, let payload) = messages[1], case .response(let denied) = messages[2] else {
                Issue.record("\(messages)"); return
            }
            #expect(ok.status == 200 && ok.reason == "OK" && ok.header("cseq") == "2" && ok.body == Array(sdp.utf8))
            #expect(payload == Array("abc".utf8))
            #expect(denied.status == 401 && denied.header("WWW-Authenticate") == "Basic realm=\"cam\"" && denied.body.isEmpty)
        }
    }

    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\n\r\n", "is not RTSP/1.0"),
        ("RTSP/1.0 2000 OK\r\n\r\n", "three digits"),
        ("RTSP/1.0 abc OK\r\n\r\n", "three digits"),
        ("RTSP/1.0 200 OK\r\nno colon here\r\n\r\n", "without a name"),
        ("RTSP/1.0 200 OK\r\n: empty\r\n\r\n", "without a name"),
        ("RTSP/1.0 200 OK\r\nBad Name: x\r\n\r\n", "forbidden character"),
        ("RTSP/1.0 200 OK\r\nContent-Length: -4\r\n\r\n", "not a number"),
        ("RTSP/1.0 200 OK\r\nContent-Length: 999999\r\n\r\n", "over"),
        ("RTSP/1.0 200 OK\r\n" + String(repeating: "X-A: b\r\n", count: 70) + "\r\n", "more than 64 headers"),
        ("RTSP/1.0 200 OK\r\nX: " + String(repeating: "a", count: 17_000), "longer than"),
    ])
    func malformed(text: String, reason: String) {
        do {
            _ = try Self.parseAll(text, chunk: 4096)
            Issue.record("accepted: \(text.prefix(40))")
        } catch {
            #expect(error.reason.contains(reason), "\(error)")
        }
    }

    /// RFC 2617 §3.5's example (an HTTP GET; RTSP computes the same with its method and URL).
    @Test func digestMatchesRFC2617() {
        let r = RTSPAuthentication.digestResponse(user: "Mufasa", password: "Circle Of Life", realm: "testrealm@host.com",
                                                  nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", method: "GET", uri: "/dir/index.html",
                                                  qop: "auth", nonceCount: "00000001", clientNonce: "0a4f113b")
        #expect(r == "6629fae49393a05397450978507c4ef1")
        let challenge = RTSPAuthentication.challenge(#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#)
        #expect(challenge == RTSPAuthentication.Challenge(scheme: .digest, realm: "testrealm@host.com", nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                                                          qop: "auth", opaque: "5ccc069c403ebaf9f0171e9517f40e41"))
        let header = RTSPAuthentication.authorization(challenge!, user: "Mufasa", password: "Circle Of Life", method: "GET", uri: "/dir/index.html",
                                                      nonceCount: 1, clientNonce: "0a4f113b")
        #expect(header.contains(#"response="6629fae49393a05397450978507c4ef1""#) && header.contains("nc=00000001") && header.contains(#"opaque="5ccc069c403ebaf9f0171e9517f40e41""#))
        let basic = RTSPAuthentication.challenge(#"Basic realm="cam""#)!
        #expect(RTSPAuthentication.authorization(basic, user: "Aladdin", password: "open sesame", method: "DESCRIBE", uri: "rtsp://x/", nonceCount: 1, clientNonce: "")
                == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")  // RFC 7617 §2
        #expect(RTSPAuthentication.challenge(#"Digest realm="r", nonce="n", algorithm=SHA-256"#) == nil)
        #expect(RTSPAuthentication.challenge("Negotiate abc") == nil)
    }
}
