import HTTP
import Signaling

/// Fuzz entry points for the signaling server's parsers (HTTP/1.1 requests, WebSocket frames and
/// messages, signaling JSON, JWT), shared by libFuzzer targets and the Fixtures/fuzz replay test.
/// Invariants are checked with `precondition` so a violation is a crash the fuzzer reports.
public enum ProtocolFuzzing {
    public static let targets: [String: @Sendable (UnsafeRawBufferPointer) -> Void] = [
        "http-request": httpRequest, "websocket-frame": webSocketFrame, "signaling-json": signalingJSON, "jwt": jwt,
        "name-rule": nameRule,
    ]

    /// A name the rule admits is short, made of allowed characters only, and survives a trip
    /// through a URL path as one segment; a cleaned display name has nothing hidden, fits its
    /// bound, and cleaning it again changes nothing.
    public static func nameRule(_ bytes: UnsafeRawBufferPointer) {
        guard let text = String(validating: bytes, as: UTF8.self) else { return }
        if NameRule.isValid(text) {
            precondition((1...NameRule.maximumBytes).contains(text.utf8.count), "an admitted name has the wrong length")
            precondition(text.unicodeScalars.allSatisfy(NameRule.isAllowed) && !text.unicodeScalars.contains { NameRule.isHidden($0) })
            precondition(!text.contains("/") && !text.contains("%") && !text.contains("\\") && !text.hasPrefix("."))
            var request = HTTPRequestParser()
            request.append(Array("GET /whep/\(PercentEncoding.encode(text))/x HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
            let segments = (try? request.next())??.pathSegments
            precondition(segments == ["whep", text, "x"], "an admitted name does not round-trip through a path")
        }
        let shown = NameRule.cleanDisplayName(text)
        precondition(shown.utf8.count <= NameRule.maximumDisplayNameBytes && NameRule.firstHidden(in: shown) == nil)
        precondition(NameRule.cleanDisplayName(shown) == shown, "cleaning a display name is not idempotent")
    }

    /// The same bytes split at an input-chosen point give the same requests as in one piece, and
    /// no request exceeds the limits.
    public static func httpRequest(_ bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.first else { return }
        let input = Array(bytes.dropFirst())
        var limits = HTTPRequestParser.Limits()
        limits.maxBodyBytes = 4096
        limits.maxHeadBytes = 2048
        func run(_ pieces: [[UInt8]]) -> ([HTTPRequest], HTTPError?) {
            var p = HTTPRequestParser(limits: limits)
            var out: [HTTPRequest] = []
            for piece in pieces {
                p.append(piece)
                do throws(HTTPError) {
                    while let r = try p.next() { out.append(r) }
                } catch { return (out, error) }
            }
            return (out, nil)
        }
        let split = input.isEmpty ? 0 : Int(first) % (input.count + 1)
        let whole = run([input])
        let pieces = run([Array(input[..<split]), Array(input[split...])])
        precondition(whole.0 == pieces.0 && whole.1 == pieces.1, "HTTP parse depends on how bytes arrive")
        for r in whole.0 {
            precondition(r.body.count <= limits.maxBodyBytes && r.headers.count <= limits.maxHeaderCount)
            _ = r.pathSegments
            _ = r.queryItems
            _ = r.keepAlive
            _ = WebSocketHandshake.response(to: r)
        }
    }

    /// Frames parse the same whole or byte by byte; messages respect the size limit; what parses
    /// re-serialises to a frame that parses to the same thing.
    public static func webSocketFrame(_ bytes: UnsafeRawBufferPointer) {
        let input = Array(bytes)
        func run(byteByByte: Bool) -> ([WebSocketFrame], WebSocketError?) {
            var p = WebSocketFrameParser(maxFramePayload: 1024, requireMask: true)
            var out: [WebSocketFrame] = []
            let pieces = byteByByte ? input.map { [$0] } : [input]
            for piece in pieces {
                p.append(piece)
                do throws(WebSocketError) {
                    while let f = try p.next() { out.append(f) }
                } catch { return (out, error) }
            }
            return (out, nil)
        }
        let whole = run(byteByByte: false)
        if input.count <= 512 {
            let slow = run(byteByByte: true)
            precondition(whole.0 == slow.0 && whole.1 == slow.1, "frame parse depends on how bytes arrive")
        }
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 2048)
        for f in whole.0 {
            precondition(f.payload.count <= 1024)
            var again = WebSocketFrameParser(maxFramePayload: 1024, requireMask: true)
            again.append(f.serialized(maskingKey: 0x01020304))
            precondition((try? again.next()) == f, "frame re-serialisation changed it")
            guard let m = try? assembler.add(f) else { break }
            if case .text(let t) = m { precondition(t.utf8.count <= 2048) }
        }
    }

    /// Any text either decodes to a message or gives a typed error; fed to a joined session it
    /// never traps and only ever answers that session.
    public static func signalingJSON(_ bytes: UnsafeRawBufferPointer) {
        guard let text = String(validating: bytes, as: UTF8.self) else { return }
        _ = try? ClientMessage.decode(text)
        var registry = RoomRegistry()
        let now = Instant(monotonicNanos: 1, unixSeconds: 1)
        let token = AccessToken(identity: "fuzz", room: "r", grants: Grants(publish: true, subscribe: true, admin: true), notBefore: 0, expires: 10)
        _ = registry.join(session: 1, token: token, now: now)
        for output in registry.receive(session: 1, text: text, now: now) {
            switch output {
            case .send(let s, _), .close(let s, _, _), .media(let s, _), .left(let s, _): precondition(s == 1, "a lone participant's message reached another session")
            }
        }
    }

    /// Token verification never traps; a token that verifies re-signs to one that verifies too.
    public static func jwt(_ bytes: UnsafeRawBufferPointer) {
        guard let text = String(validating: bytes, as: UTF8.self) else { return }
        let verifier = TokenVerifier(secret: Array("fuzz-secret".utf8))
        if let t = try? verifier.verify(text, now: 1) {
            precondition((try? verifier.verify(t.signed(secret: Array("fuzz-secret".utf8)), now: 1)) != nil)
        }
        // Sign arbitrary claims as well, so the verifier's claim checks are reached.
        let header = Base64.encodeURL(Array(#"{"alg":"HS256"}"#.utf8))
        let forged = header + "." + Base64.encodeURL(Array(bytes)) + "."
        _ = try? verifier.verify(forged, now: 1)
    }
}
