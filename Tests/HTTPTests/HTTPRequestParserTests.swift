import Testing
import TestSupport
@testable import HTTP

/// HTTP/1.1 message parsing (RFC 9112) and its limits.
struct HTTPRequestParserTests {
    static func parseAll(_ text: String, limits: HTTPRequestParser.Limits = .init()) throws(HTTPError) -> [HTTPRequest] {
        var p = HTTPRequestParser(limits: limits)
        p.append(Array(text.utf8))
        var out: [HTTPRequest] = []
        while let r = try p.next() { out.append(r) }
        return out
    }

    /// RFC9112Section3: request line, fields, target decoding, keep-alive defaults.
    @Test func simpleGet() throws {
        let r = try Self.parseAll("GET /rtc?access_token=a.b.c&x=%20y+z HTTP/1.1\r\nHost: localhost\r\nUser-Agent: t\r\n\r\n")
        #expect(r.count == 1)
        #expect(r[0].method == "GET" && r[0].target == "/rtc?access_token=a.b.c&x=%20y+z" && r[0].minorVersion == 1)
        #expect(r[0].path == "/rtc" && r[0].query("access_token") == "a.b.c" && r[0].query("x") == " y z")
        #expect(r[0].headers["host"] == "localhost" && r[0].keepAlive)
        let old = try Self.parseAll("GET / HTTP/1.0\r\n\r\n")
        #expect(old[0].minorVersion == 0 && !old[0].keepAlive)
        #expect(try Self.parseAll("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")[0].keepAlive == false)
    }

    /// RFC9110Section5_6_3: optional whitespace (SP and HTAB) around a field value is not part of
    /// it; inner whitespace and non-ASCII bytes are kept.
    @Test(arguments: [("x", "x"), ("  \t x y \t ", "x y"), ("\t\t", ""), (" é ", "é")])
    func fieldValueWhitespace(raw: String, value: String) throws {
        let r = try Self.parseAll("GET / HTTP/1.1\r\nHost: a\r\nX-Test:\(raw)\r\n\r\n")
        #expect(r[0].headers["x-test"] == value)
        #expect(raw.trimmingSpaces == value)
    }

    /// Pipelined requests come out one per call; a body is read by Content-Length.
    @Test func pipeliningAndContentLength() throws {
        let text = "POST /api/v1/rooms HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
        let r = try Self.parseAll(text)
        #expect(r.map(\.method) == ["POST", "GET"])
        #expect(r[0].body == Array("hello".utf8) && r[1].body.isEmpty)
    }

    /// Byte-at-a-time arrival (slowloris-style) gives the same result, each call "need more" until done.
    @Test func byteAtATime() throws {
        let text = Array("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-Trailer: 1\r\n\r\n".utf8)
        var p = HTTPRequestParser()
        var got: HTTPRequest? = nil
        for (i, b) in text.enumerated() {
            p.append([b])
            if let r = try p.next() {
                #expect(i == text.count - 1)
                got = r
            }
        }
        #expect(got?.body == Array("Wikipedia".utf8))
        #expect(p.bufferedCount == 0 && !p.isMidRequest)
    }

    /// RFC9112Section7_1: chunked body with extensions and trailer fields.
    @Test func chunked() throws {
        let r = try Self.parseAll("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1a; name=v\r\nabcdefghijklmnopqrstuvwxyz\r\n10\r\n1234567890abcdef\r\n0\r\n\r\n")
        #expect(r[0].body.count == 26 + 16)
    }

    /// Bytes after an upgrade request are kept for the new protocol.
    @Test func leftoverAfterUpgrade() throws {
        var p = HTTPRequestParser()
        p.append(Array("GET /rtc HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n".utf8) + [0x81, 0x80])
        #expect(try p.next()?.target == "/rtc")
        #expect(p.takeBuffered() == [0x81, 0x80])
    }

    /// Malformed and hostile requests: status and reason for each.
    @Test(arguments: [
        ("GET / HTTP/1.1\r\n\r\n", HTTPError(400, "missing Host header")),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HTTPError(400, "more than one Host header")),
        ("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", HTTPError(400, "malformed request line")),
        ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", HTTPError(505, "HTTP version not supported")),
        ("GET / HTTP/1\r\nHost: a\r\n\r\n", HTTPError(400, "malformed HTTP version")),
        ("GET http://x/ HTTP/1.1\r\nHost: a\r\n\r\n", HTTPError(400, "request target must be origin-form")),
        ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", HTTPError(400, "invalid header field name")),
        ("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", HTTPError(400, "obsolete line folding")),
        ("GET / HTTP/1.1\r\nHost a\r\n\r\n", HTTPError(400, "header line without a colon")),
        ("GET / HTTP/1.1\nHost: a\r\n\r\n", HTTPError(400, "bare LF in request head")),
        ("GET / HTTP/1.1\r\nHost: a\u{01}\r\n\r\n", HTTPError(400, "control character in header value")),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", HTTPError(400, "both Transfer-Encoding and Content-Length")),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", HTTPError(400, "invalid Content-Length")),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", HTTPError(400, "invalid Content-Length")),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000000\r\n\r\n", HTTPError(413, "request body too large")),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", HTTPError(413, "request body too large")),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", HTTPError(400, "final transfer coding is not chunked")),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", HTTPError(501, "transfer coding not implemented")),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", HTTPError(400, "invalid chunk size")),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX", HTTPError(400, "chunk data not followed by CRLF")),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\n", HTTPError(413, "request body too large")),
    ])
    func malformed(text: String, expected: HTTPError) {
        #expect(throws: expected) { try Self.parseAll(text) }
    }

    /// 10 000 header fields, or a head that never ends, are refused with 431 without unbounded buffering.
    @Test func headerLimits() {
        let many = "GET / HTTP/1.1\r\nHost: a\r\n" + String(repeating: "X-A: b\r\n", count: 10_000) + "\r\n"
        #expect(throws: HTTPError(431, "request header too large")) { try Self.parseAll(many) }
        var limits = HTTPRequestParser.Limits()
        limits.maxHeadBytes = 1 << 20
        #expect(throws: HTTPError(431, "too many header fields")) { try Self.parseAll(many, limits: limits) }
        var p = HTTPRequestParser()
        #expect(throws: HTTPError(431, "request header too large")) {
            for _ in 0..<100 {
                p.append([UInt8](repeating: UInt8(ascii: "a"), count: 1000))
                _ = try p.next()
            }
        }
    }

    /// A 100 MB Content-Length is refused before any body byte is read.
    @Test func hugeContentLengthRefusedUpFront() {
        var p = HTTPRequestParser()
        p.append(Array("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 104857600\r\n\r\n".utf8))
        #expect(throws: HTTPError(413, "request body too large")) { try p.next() }
    }

    /// Responses carry Content-Length and Connection: close when closing.
    @Test func responseSerialisation() {
        let r = HTTPResponse.text(200, "ok").serialized(keepAlive: false, date: "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(String(decoding: r, as: UTF8.self) ==
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        #expect(String(decoding: HTTPResponse(status: 204).serialized(keepAlive: true), as: UTF8.self) == "HTTP/1.1 204 No Content\r\n\r\n")
    }
}
