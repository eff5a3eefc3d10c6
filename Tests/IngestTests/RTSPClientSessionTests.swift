import Foundation
import Testing
@testable import Ingest

/// The RTSP client session against a scripted camera (the exchange GStreamer's rtsp-server and
/// IP cameras have: OPTIONS, DESCRIBE with a Digest 401 first, SETUP per track, PLAY, keep-alive).
struct RTSPClientSessionTests {
    static let s: UInt64 = 1_000_000_000
    static let sdp = """
        v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=cam\r\nt=0 0\r\n\
        m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0LAFdkBQfsBagwMDUoAAAMAAgAAAwB5HixckA==,aM48gA==\r\na=control:stream=0\r\n\
        m=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:rtsp://127.0.0.1:8554/cam/stream=1\r\n
        """

    static func response(_ status: Int, cseq: Int, _ headers: [String] = [], body: String = "") -> RTSPMessageParser.Response {
        var all = [("CSeq", "\(cseq)")] + headers.map { h in let p = h.split(separator: ":", maxSplits: 1); return (String(p[0]), String(p[1]).trimmingCharacters(in: .whitespaces)) }
        if !body.isEmpty { all.append(("Content-Length", "\(body.utf8.count)")) }
        return RTSPMessageParser.Response(status: status, reason: status == 200 ? "OK" : "Unauthorized", headers: all.map { (name: $0.0, value: $0.1) }, body: Array(body.utf8))
    }

    static func text(_ actions: [RTSPClientSession.Action]) -> String {
        guard case .send(let bytes)? = actions.first else { return "" }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func aCameraIsSetUpAndPlayed() throws {
        var c = RTSPClientSession(url: try #require(RTSPURL("rtsp://admin:pa%40ss@127.0.0.1:8554/cam")), clientNonce: "0a4f113b")
        #expect(Self.text(c.start(now: 0)).hasPrefix("OPTIONS rtsp://127.0.0.1:8554/cam RTSP/1.0\r\nCSeq: 1\r\n"))
        let describe = Self.text(c.receive(Self.response(200, cseq: 1, ["Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN"]), now: 1))
        #expect(describe.hasPrefix("DESCRIBE rtsp://127.0.0.1:8554/cam RTSP/1.0\r\nCSeq: 2\r\n") && !describe.contains("Authorization"))
        // 401 with a Digest challenge: the same request again, answered.
        let retry = Self.text(c.receive(Self.response(401, cseq: 2, [#"WWW-Authenticate: Digest realm="cam", nonce="abc123""#]), now: 2))
        let expected = RTSPAuthentication.digestResponse(user: "admin", password: "pa@ss", realm: "cam", nonce: "abc123", method: "DESCRIBE",
                                                         uri: "rtsp://127.0.0.1:8554/cam", qop: nil, nonceCount: "00000001", clientNonce: "0a4f113b")
        #expect(retry.hasPrefix("DESCRIBE rtsp://127.0.0.1:8554/cam RTSP/1.0\r\nCSeq: 3\r\n") && retry.contains(#"response="\#(expected)""#))
        #expect(!retry.contains("pa@ss"))
        let setup1 = Self.text(c.receive(Self.response(200, cseq: 3, ["Content-Type: application/sdp", "Content-Base: rtsp://127.0.0.1:8554/cam/"], body: Self.sdp), now: 3))
        #expect(c.tracks.map(\.encodingName) == ["H264", "PCMA"] && c.tracks.map(\.channel) == [0, 2])
        #expect(c.tracks[0].formatParameters.contains("sprop-parameter-sets="))
        #expect(setup1.hasPrefix("SETUP rtsp://127.0.0.1:8554/cam/stream=0 RTSP/1.0\r\nCSeq: 4\r\n") && setup1.contains("Transport: RTP/AVP/TCP;unicast;interleaved=0-1"))
        #expect(setup1.contains("Authorization: Digest"))
        let setup2 = Self.text(c.receive(Self.response(200, cseq: 4, ["Session: 5F3A;timeout=30", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1"]), now: 4))
        #expect(setup2.hasPrefix("SETUP rtsp://127.0.0.1:8554/cam/stream=1 RTSP/1.0\r\n") && setup2.contains("Session: 5F3A\r\n") && setup2.contains("interleaved=2-3"))
        #expect(c.sessionTimeout == 30)
        let play = Self.text(c.receive(Self.response(200, cseq: 5, ["Session: 5F3A"]), now: 5))
        #expect(play.hasPrefix("PLAY rtsp://127.0.0.1:8554/cam RTSP/1.0\r\n"))
        #expect(c.receive(Self.response(200, cseq: 6, ["Session: 5F3A"]), now: 6) == [.playing(c.tracks)] && c.state == .playing)
        // Keep-alive at half the timeout, not before.
        #expect(c.tick(now: 6 + 14 * Self.s).isEmpty)
        #expect(Self.text(c.tick(now: 6 + 16 * Self.s)).hasPrefix("GET_PARAMETER rtsp://127.0.0.1:8554/cam RTSP/1.0\r\nCSeq: 7\r\n"))
        #expect(c.receive(Self.response(200, cseq: 7), now: 7 + 16 * Self.s).isEmpty)
        #expect(Self.text(c.stop(now: 20 * Self.s)).hasPrefix("TEARDOWN"))
    }

    @Test func failuresSayWhy() throws {
        let url = try #require(RTSPURL("rtsp://admin:wrong@127.0.0.1/cam"))
        var c = RTSPClientSession(url: url, clientNonce: "x")
        _ = c.start(now: 0)
        _ = c.receive(Self.response(401, cseq: 1, [#"WWW-Authenticate: Basic realm="cam""#]), now: 1)
        #expect(c.receive(Self.response(401, cseq: 2, [#"WWW-Authenticate: Basic realm="cam""#]), now: 2) == [.failed("the camera refused the credentials (401 to OPTIONS)")])
        var noCredentials = RTSPClientSession(url: try #require(RTSPURL("rtsp://127.0.0.1/cam")), clientNonce: "x")
        _ = noCredentials.start(now: 0)
        #expect(noCredentials.receive(Self.response(401, cseq: 1, [#"WWW-Authenticate: Basic realm="cam""#]), now: 1).first == .failed("the camera wants credentials (401) and the URL has none"))
        var silent = RTSPClientSession(url: url, clientNonce: "x")
        _ = silent.start(now: 0)
        #expect(silent.tick(now: 11 * Self.s) == [.failed("no answer to OPTIONS within 10 s")])
        var notFound = RTSPClientSession(url: url, clientNonce: "x")
        _ = notFound.start(now: 0)
        _ = notFound.receive(Self.response(200, cseq: 1), now: 1)
        #expect(notFound.receive(RTSPMessageParser.Response(status: 404, reason: "Not Found", headers: [(name: "CSeq", value: "2")], body: []), now: 2)
                == [.failed("DESCRIBE answered 404 Not Found")])
        var wrongSeq = RTSPClientSession(url: url, clientNonce: "x")
        _ = wrongSeq.start(now: 0)
        #expect(wrongSeq.receive(Self.response(200, cseq: 9), now: 1).first == .failed("answer with CSeq 9 to request 1"))
    }

    @Test func urls() {
        let u = RTSPURL("rtsp://user:p%3Ass@[::1]:8554/a/b?x=1")
        #expect(u?.host == "::1" && u?.port == 8554 && u?.path == "/a/b?x=1" && u?.user == "user" && u?.password == "p:ss")
        #expect(u?.requestURL == "rtsp://[::1]:8554/a/b?x=1")
        #expect(RTSPURL("rtsp://cam.local")?.port == 554 && RTSPURL("rtsp://cam.local")?.path == "/")
        for bad in ["http://x/", "rtsp://", "rtsp://h:0/", "rtsp://h:99999/", "rtsp://h/a b", "rtsp://h/\r\nX: y", "rtsp://[::1/"] { #expect(RTSPURL(bad) == nil, "\(bad)") }
    }
}
