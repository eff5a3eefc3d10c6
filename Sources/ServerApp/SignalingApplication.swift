import Foundation
import Glibc
import HTTP
import Ingest
import ServerIO
import MediaIO
import MediaSessions
import Signaling

/// The HTTP side of shihui-server: routes, authentication, REST, metrics, and the bridge between
/// WebSocket connections and the room state machine. Runs on the server loop's thread only.
public final class SignalingApplication: HTTPApplication {
    var registry: RoomRegistry
    let verifier: TokenVerifier
    /// Every HTTP route, registered by the parts of the application at start.
    var routes = RouteTable()
    /// Tokens of connections that were accepted for upgrade and wait for their WebSocket to open.
    var pendingJoins: [ConnectionID: AccessToken] = [:]
    var messagesIn = 0
    var messagesOut = 0
    /// Set by the composition root once the server exists (for /metrics).
    public weak var server: HTTPServer?
    /// The media plane (WHIP/WHEP); nil when the server runs without one.
    var media: MediaService?
    /// The media thread's loop, for its counters in /metrics (set with `media`).
    var mediaLoop: MediaLoop?
    /// Plain-RTP ingresses (set with `media`).
    var ingress: IngressService?
    /// Room sessions of WHIP publishers (no WebSocket): negative IDs.
    var nextSyntheticSession: SessionID = -1

    public init(secret: String, options: RoomRegistry.Options = RoomRegistry.Options(), maxTokenLifetime: Int64 = TokenVerifier.defaultMaximumLifetime) {
        registry = RoomRegistry(options: options)
        verifier = TokenVerifier(secret: Array(secret.utf8), maximumLifetime: maxTokenLifetime)
        registerRoutes()
    }

    func instant(_ now: UInt64) -> Instant { Instant(monotonicNanos: now, unixSeconds: Int64(time(nil))) }

    // MARK: HTTPApplication

    /// Every answer carries `nosniff` and `no-referrer`; the web client's pages carry its CSP
    /// and may not be framed (clickjacking).
    public func handle(_ request: HTTPRequest, connection: ConnectionID, now: UInt64) -> (HTTPReply, [ConnectionAction]) {
        let (reply, actions) = route(request, connection: connection, now: now)
        switch reply {
        case .response(let r): return (.response(Self.protected(r)), actions)
        case .webSocket: return (reply, actions)
        }
    }

    static func protected(_ response: HTTPResponse) -> HTTPResponse {
        var r = response
        r.headers.set("X-Content-Type-Options", "nosniff")
        r.headers.set("Referrer-Policy", "no-referrer")
        if r.headers["Content-Type"]?.hasPrefix("text/html") == true {
            r.headers.set("Content-Security-Policy", WebClient.contentSecurityPolicy)
            r.headers.set("X-Frame-Options", "DENY")
        }
        return r
    }

    func route(_ request: HTTPRequest, connection: ConnectionID, now: UInt64) -> (HTTPReply, [ConnectionAction]) {
        guard let segments = request.pathSegments else { return (.response(Self.error(400, "bad_request", "invalid percent-encoding in path")), []) }
        switch routes.match(method: request.method, segments: segments) {
        case .route(let handler, let parameters): return handler(request, parameters, connection, now)
        case .methodNotAllowed(let allow): return (.response(Self.methodNotAllowed(allow)), [])
        case .notFound: return (.response(Self.error(404, "not_found", "no route for \(request.path ?? "?")")), [])
        }
    }

    /// The web client, health, metrics and the signaling WebSocket; the other parts of the
    /// application register theirs (`registerMediaRoutes`, `registerRESTRoutes`).
    func registerRoutes() {
        func page(_ type: String, _ text: String) -> HTTPReply {
            .response(HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", type), ("Cache-Control", "no-cache")]), body: Array(text.utf8)))
        }
        routes.add("GET", "/") { _, _, _, _ in (page("text/html; charset=utf-8", WebClient.html), []) }
        routes.add("GET", "/client.js") { _, _, _, _ in (page("text/javascript; charset=utf-8", WebClient.script), []) }
        routes.add("GET", "/client.css") { _, _, _, _ in (page("text/css; charset=utf-8", WebClient.css), []) }
        routes.add("GET", "/healthz") { _, _, _, _ in (.response(.text(200, "ok")), []) }
        routes.add("GET", "/metrics") { [unowned self] _, _, _, _ in
            let text = Metrics.render(rooms: registry.rooms.count, participants: registry.participantCount,
                                      server: server?.stats ?? ServerStats(), webSocketMessagesIn: messagesIn, webSocketMessagesOut: messagesOut,
                                      media: mediaLoop?.stats, wakeups: mediaLoop?.wakeupDurations)
            var r = HTTPResponse.text(200, text)
            r.headers.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            return (.response(r), [])
        }
        routes.add("GET", "/rtc") { [unowned self] request, _, connection, _ in (upgrade(request, connection: connection), []) }
        registerMediaRoutes()
        registerRESTRoutes()
        registerIngressRoutes()
    }

    public func webSocketOpened(connection: ConnectionID, now: UInt64) -> [ConnectionAction] {
        guard let token = pendingJoins.removeValue(forKey: connection) else {
            return [.closeWebSocket(connection, code: 1011, reason: "no pending join")]
        }
        var out = actions(registry.join(session: connection, token: token, now: instant(now)))
        out += offerSubscriber(connection)
        return out
    }

    public func webSocketText(_ text: String, connection: ConnectionID, now: UInt64) -> [ConnectionAction] {
        messagesIn += 1
        return actions(registry.receive(session: connection, text: text, now: instant(now)), now: now)
    }

    public func webSocketClosed(connection: ConnectionID, now: UInt64) -> [ConnectionAction] {
        pendingJoins[connection] = nil
        // A participant still in its room leaves now (`.left`); one that left already (leave,
        // kick, replaced) had its media ended then.
        return actions(registry.disconnected(session: connection, now: instant(now)))
    }

    public func tick(now: UInt64) -> [ConnectionAction] { actions(registry.tick(now: instant(now))) + expireIngresses(now: now) }

    public func errorResponse(_ error: HTTPError) -> HTTPResponse { Self.protected(parserErrorResponse(error)) }

    func parserErrorResponse(_ error: HTTPError) -> HTTPResponse {
        let code = switch error.status {
        case 408: "request_timeout"
        case 413: "payload_too_large"
        case 414: "uri_too_long"
        case 431: "header_too_large"
        case 501: "not_implemented"
        case 505: "http_version_not_supported"
        default: "bad_request"
        }
        return Self.error(error.status, code, error.reason)
    }

    // MARK: WebSocket upgrade (GET /rtc?access_token=JWT)

    func upgrade(_ request: HTTPRequest, connection: ConnectionID) -> HTTPReply {
        let tokenText = request.query("access_token") ?? Self.bearer(request)
        guard let tokenText else { return .response(Self.error(401, "token_missing", "pass the access token as ?access_token= or Authorization: Bearer")) }
        let token: AccessToken
        do throws(TokenError) { token = try verifier.verify(tokenText, now: Int64(time(nil))) } catch {
            return .response(Self.error(401, error.code, error.description))
        }
        guard !token.room.isEmpty else { return .response(Self.error(403, "token_wrong_room", "the token does not name a room (\"\" is for the REST API)")) }
        if let requested = request.query("room"), requested != token.room {
            let e = TokenError.wrongRoom(token: token.room, requested: requested)
            return .response(Self.error(403, e.code, e.description))
        }
        switch WebSocketHandshake.response(to: request) {
        case .failure(let e):
            var r = Self.error(e.status, e.status == 426 ? "upgrade_required" : "bad_request", e.reason)
            if e.status == 426 { r.headers.set("Sec-WebSocket-Version", "13") }
            return .response(r)
        case .success(let r):
            pendingJoins[connection] = token
            return .webSocket(r)
        }
    }

    // MARK: Helpers

    func actions(_ outputs: [SignalOutput], now: UInt64 = 0) -> [ConnectionAction] {
        var result: [ConnectionAction] = []
        for o in outputs {
            switch o {
            case .send(let s, let text):
                messagesOut += 1
                result.append(.sendText(s, text))
            case .close(let s, let code, let reason):
                result.append(.closeWebSocket(s, code: code, reason: reason))
            case .media(let s, let message):
                result += mediaMessage(session: s, message, now: now)
            case .left(let s, let room):
                result += participantLeft(session: s, room: room)
            }
        }
        return result
    }

    static func bearer(_ request: HTTPRequest) -> String? {
        guard let h = request.headers["Authorization"], h.count > 7, h.lowercased().hasPrefix("bearer ") else { return nil }
        return String(h.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }

    static func json(_ status: Int, _ object: [String: Any]) -> HTTPResponse {
        .json(status, JSONWriter.encode(object))
    }

    /// `{"error": {"code", "message"[, "reason"]}}`: a stable code, a sentence, and under some
    /// codes (`bad_offer`) a specific reason code.
    static func error(_ status: Int, _ code: String, _ message: String, reason: String? = nil) -> HTTPResponse {
        var e: [String: Any] = ["code": code, "message": message]
        if let reason { e["reason"] = reason }
        return json(status, ["error": e])
    }

    static func methodNotAllowed(_ allow: String) -> HTTPResponse {
        var r = error(405, "method_not_allowed", "allowed: \(allow)")
        r.headers.set("Allow", allow)
        return r
    }

    static func roomError(_ e: RoomRegistry.RoomError, _ name: String) -> HTTPResponse {
        switch e {
        case .exists: error(409, "room_exists", "room \(name) already exists")
        case .notFound: error(404, "room_not_found", "no room \(name)")
        case .invalid(let why): error(400, "invalid_request", why)
        case .limit: error(503, "too_many_rooms", "the server has reached its room limit")
        case .metadataLimit: error(503, "metadata_limit", "the server holds the most metadata it may")
        }
    }
}
