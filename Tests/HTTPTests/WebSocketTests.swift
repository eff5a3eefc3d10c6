import Testing
import TestSupport
@testable import HTTP

/// RFC 6455 framing, message assembly, handshake; RFC 4648 Base64.
struct WebSocketTests {
    static func frames(_ bytes: [UInt8], requireMask: Bool = false, max: Int = 1 << 20) throws(WebSocketError) -> [WebSocketFrame] {
        var p = WebSocketFrameParser(maxFramePayload: max, requireMask: requireMask)
        p.append(bytes)
        var out: [WebSocketFrame] = []
        while let f = try p.next() { out.append(f) }
        return out
    }

    /// RFC6455Section5_7: the specification's example frames decode.
    @Test func rfc6455Examples() throws {
        #expect(try Self.frames(hex("81 05 48 65 6c 6c 6f")) == [WebSocketFrame(opcode: .text, payload: Array("Hello".utf8))])
        #expect(try Self.frames(hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"), requireMask: true) == [WebSocketFrame(opcode: .text, payload: Array("Hello".utf8))])
        let fragmented = try Self.frames(hex("01 03 48 65 6c  80 02 6c 6f"))
        var assembler = WebSocketMessageAssembler()
        #expect(try assembler.add(fragmented[0]) == nil)
        #expect(try assembler.add(fragmented[1]) == .text("Hello"))
        #expect(try Self.frames(hex("89 05 48 65 6c 6c 6f"))[0].opcode == .ping)
        #expect(try Self.frames(hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"), requireMask: true) == [WebSocketFrame(opcode: .pong, payload: Array("Hello".utf8))])
        let b256 = try Self.frames(hex("82 7e 01 00") + [UInt8](repeating: 7, count: 256))
        #expect(b256[0].payload.count == 256)
        let b64k = try Self.frames(hex("82 7f 00 00 00 00 00 01 00 00") + [UInt8](repeating: 7, count: 65536))
        #expect(b64k[0].payload.count == 65536)
    }

    /// A large message (a viewer's SDP answer) is not kept once parsed: an idle connection holds
    /// at most a 1 KiB buffer, however big its last message was; a partial frame stays buffered.
    @Test func aParsedLargeFrameLeavesNoBigBuffer() throws {
        var p = WebSocketFrameParser(maxFramePayload: 1 << 20, requireMask: true)
        let answer = WebSocketFrame(opcode: .text, payload: [UInt8](repeating: 0x61, count: 3_000)).serialized(maskingKey: 0x01020304)
        p.append(answer)
        #expect(p.bufferCapacity >= 3_000)
        #expect(try p.next()?.payload.count == 3_000)
        #expect(p.bufferCapacity == 0 && p.bufferedCount == 0)
        p.append(Array(answer.prefix(2_000)))
        #expect(try p.next() == nil)
        #expect(p.bufferedCount == 2_000)
        p.append(Array(answer.dropFirst(2_000)))
        #expect(try p.next()?.payload == [UInt8](repeating: 0x61, count: 3_000))
        #expect(p.bufferCapacity == 0)
        // A small frame is given back too (an idle viewer keeps no buffer).
        p.append(WebSocketFrame(opcode: .ping, payload: [1, 2, 3]).serialized(maskingKey: 0x01020304))
        #expect(try p.next()?.payload == [1, 2, 3])
        #expect(p.bufferCapacity == 0)
    }

    /// Serialised frames parse back, masked or not, at all three length encodings.
    @Test func serialiseRoundTrip() throws {
        for size in [0, 125, 126, 65535, 65536] {
            let f = WebSocketFrame(opcode: .binary, payload: (0..<size).map { UInt8(truncatingIfNeeded: $0) })
            #expect(try Self.frames(f.serialized()) == [f])
            #expect(try Self.frames(f.serialized(maskingKey: 0xDEADBEEF), requireMask: true) == [f])
        }
        #expect(hex("81 05 48 65 6c 6c 6f") == WebSocketFrame(opcode: .text, payload: Array("Hello".utf8)).serialized())
    }

    /// Protocol violations and their close codes (RFC 6455 §5, §7.4.1).
    @Test(arguments: [
        (hex("81 05 48 65 6c 6c 6f"), WebSocketError(1002, "client frame not masked")),
        (hex("c1 80 00 00 00 00"), WebSocketError(1002, "reserved bits set without a negotiated extension")),
        (hex("83 80 00 00 00 00"), WebSocketError(1002, "unknown opcode 3")),
        (hex("09 80 00 00 00 00"), WebSocketError(1002, "fragmented control frame")),
        (hex("89 fe 00 7e 00 00 00 00"), WebSocketError(1002, "control frame payload over 125 bytes")),
        (hex("82 fe 00 05 00 00 00 00"), WebSocketError(1002, "non-minimal payload length")),
        (hex("82 ff 80 00 00 00 00 00 00 00"), WebSocketError(1002, "payload length with the most significant bit set")),
        (hex("82 ff 00 00 00 00 7f ff ff ff"), WebSocketError(1009, "frame payload over 1048576 bytes")),
    ])
    func frameViolations(bytes: [UInt8], expected: WebSocketError) {
        #expect(throws: expected) { try Self.frames(bytes, requireMask: true) }
    }

    /// Limits are kept in 32 bits: a larger one is clamped to 4 GiB − 1, never wrapped to a small
    /// one; those that fit read back as set.
    @Test func limitsBeyond32BitsAreClamped() {
        var p = WebSocketFrameParser(maxFramePayload: Int.max)
        var a = WebSocketMessageAssembler(maxMessageBytes: 1 << 40)
        #expect(p.maxFramePayload == Int(UInt32.max) && a.maxMessageBytes == Int(UInt32.max))
        p.maxFramePayload = 125
        a.maxMessageBytes = -5
        #expect(p.maxFramePayload == 125 && a.maxMessageBytes == 0)
    }

    /// Message-level violations: UTF-8, interleaving, orphan continuation, size, close payloads.
    @Test func messageViolations() throws {
        var a = WebSocketMessageAssembler(maxMessageBytes: 10)
        #expect(throws: WebSocketError(1007, "text message is not valid UTF-8")) {
            try a.add(WebSocketFrame(opcode: .text, payload: [0xC3, 0x28]))
        }
        #expect(throws: WebSocketError(1002, "continuation frame without a message")) {
            try a.add(WebSocketFrame(opcode: .continuation, payload: []))
        }
        #expect(try a.add(WebSocketFrame(fin: false, opcode: .text, payload: [0xE2, 0x82])) == nil)  // split "€"
        #expect(throws: WebSocketError(1002, "new data frame inside a fragmented message")) {
            try a.add(WebSocketFrame(opcode: .binary, payload: []))
        }
        var b = WebSocketMessageAssembler(maxMessageBytes: 10)
        #expect(try b.add(WebSocketFrame(fin: false, opcode: .text, payload: [0xE2, 0x82])) == nil)
        #expect(try b.add(WebSocketFrame(opcode: .ping, payload: [1])) == .ping([1]))  // control frames may interleave
        #expect(try b.add(WebSocketFrame(opcode: .continuation, payload: [0xAC])) == .text("€"))
        #expect(throws: WebSocketError(1009, "message too big")) {
            try b.add(WebSocketFrame(opcode: .binary, payload: [UInt8](repeating: 0, count: 11)))
        }
        #expect(try b.add(WebSocketFrame(opcode: .close, payload: [])) == .close(code: nil, reason: ""))
        #expect(try b.add(WebSocketFrame.close(code: 1000, reason: "bye")) == .close(code: 1000, reason: "bye"))
        #expect(throws: WebSocketError(1002, "invalid close code 1005")) { try b.add(WebSocketFrame(opcode: .close, payload: [0x03, 0xED])) }
        #expect(throws: WebSocketError(1002, "close frame with a 1-byte payload")) { try b.add(WebSocketFrame(opcode: .close, payload: [3])) }
    }

    /// RFC6455Section1_3: the handshake's example key and accept value; bad requests refused.
    @Test func handshake() {
        #expect(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        var request = HTTPRequest(method: "GET", target: "/rtc", headers: HTTPHeaders([
            ("Host", "a"), ("Upgrade", "websocket"), ("Connection", "keep-alive, Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
        ]))
        guard case .success(let ok) = WebSocketHandshake.response(to: request) else { Issue.record("refused"); return }
        #expect(ok.status == 101 && ok.headers["Sec-WebSocket-Accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        request.headers.set("Sec-WebSocket-Version", "8")
        #expect(throws: HTTPError(426, "unsupported WebSocket version (supported: 13)")) { try WebSocketHandshake.response(to: request).get() }
        request.headers.set("Sec-WebSocket-Version", "13")
        request.headers.set("Sec-WebSocket-Key", "c2hvcnQ=")
        #expect(throws: HTTPError(400, "Sec-WebSocket-Key must be 16 bytes in base64")) { try WebSocketHandshake.response(to: request).get() }
        request.method = "POST"
        #expect(throws: HTTPError(400, "WebSocket upgrade must be GET over HTTP/1.1")) { try WebSocketHandshake.response(to: request).get() }
    }

    /// RFC4648Section10 test vectors, both alphabets; strict decoding.
    @Test func base64() {
        let vectors = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.decode(encoded) == Array(plain.utf8))
            let url = encoded.replacingOccurrences(of: "=", with: "")
            #expect(Base64.encodeURL(Array(plain.utf8)) == url)
            #expect(Base64.decodeURL(url) == Array(plain.utf8))
        }
        #expect(Base64.encodeURL([0xFB, 0xFF]) == "-_8")
        for bad in ["Zg=", "Z===", "Zh==", "Zm9v!", "Zm9vY"] { #expect(Base64.decode(bad) == nil, "\(bad)") }
        for bad in ["Zg==", "Zh", "a", "+/8"] { #expect(Base64.decodeURL(bad) == nil, "\(bad)") }
    }
}

extension String {
    fileprivate func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}
