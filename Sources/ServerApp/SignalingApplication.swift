import Foundation
import Glibc
import HTTP
import ServerIO
import Signaling

/// The HTTP side of shihui-server: routes, authentication, REST, metrics, and the bridge between
/// WebSocket connections and the room state machine. Runs on the server loop's thread only.
public final class SignalingApplication: HTTPApplication {
    private var registry: RoomRegistry
    private let verifier: TokenVerifier
    /// Tokens of connections that were accepted for upgrade and wait for their WebSocket to open.
    private var pendingJoins: [ConnectionID: AccessToken] = [:]
    private var messagesIn = 0
    private var messagesOut = 0
    /// Set by the composition root once the server exists (for /metrics).
    public weak var server: HTTPServer?
    /// The media plane (WHIP/WHEP); nil when the server runs without one.
    var media: MediaService?
    /// Room sessions of WHIP publishers (no WebSocket): negative IDs.
    private var nextSyntheticSession: SessionID = -1

    public init(secret: String, options: RoomRegistry.Options = RoomRegistry.Options()) {
        registry = RoomRegistry(options: options)
        verifier = TokenVerifier(secret: Array(secret.utf8))
    }

    private func instant(_ now: UInt64) -> Instant { Instant(monotonicNanos: now, unixSeconds: Int64(time(nil))) }

    // MARK: HTTPApplication

    public func handle(_ request: HTTPRequest, connection: ConnectionID, now: UInt64) -> (HTTPReply, [ConnectionAction]) {
        guard let segments = request.pathSegments else { return (.response(Self.error(400, "bad_request", "invalid percent-encoding in path")), []) }
        let method = request.method
        switch segments {
        case []:
            guard method == "GET" || method == "HEAD" else { return (.response(Self.methodNotAllowed("GET, HEAD")), []) }
            return (.response(HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-cache")]),
                                           body: Array(WebClient.html.utf8))), [])
        case ["healthz"]:
            guard method == "GET" || method == "HEAD" else { return (.response(Self.methodNotAllowed("GET, HEAD")), []) }
            return (.response(.text(200, "ok")), [])
        case ["metrics"]:
            guard method == "GET" || method == "HEAD" else { return (.response(Self.methodNotAllowed("GET, HEAD")), []) }
            let text = Metrics.render(rooms: registry.rooms.count, participants: registry.participantCount,
                                      server: server?.stats ?? ServerStats(), webSocketMessagesIn: messagesIn, webSocketMessagesOut: messagesOut,
                                      media: media?.loop.stats)
            var r = HTTPResponse.text(200, text)
            r.headers.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            return (.response(r), [])
        case ["rtc"]:
            guard method == "GET" else { return (.response(Self.methodNotAllowed("GET")), []) }
            return (upgrade(request, connection: connection), [])
        case let s where s.first == "whip" && (2...3).contains(s.count):
            return whip(request, path: s, now: now)
        case let s where s.first == "whep" && (3...4).contains(s.count):
            return whep(request, path: s, now: now)
        case let s where s.count >= 3 && s[0] == "api" && s[1] == "v1" && s[2] == "rooms":
            return rest(request, path: Array(s.dropFirst(3)), now: now)
        default:
            return (.response(Self.error(404, "not_found", "no route for \(request.path ?? "?")")), [])
        }
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
        let room = registry.participant(session: connection)?.room
        var out = actions(registry.disconnected(session: connection, now: instant(now)))
        if let media, media.sessionEnded(connection), let room {
            // Its tracks are gone: the others' subscriber connections drop them.
            for other in room.participants where other.session != connection && other.session >= 0 { out += offerSubscriber(other.session) }
        }
        return out
    }

    public func tick(now: UInt64) -> [ConnectionAction] { actions(registry.tick(now: instant(now))) }

    public func errorResponse(_ error: HTTPError) -> HTTPResponse {
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

    private func upgrade(_ request: HTTPRequest, connection: ConnectionID) -> HTTPReply {
        let tokenText = request.query("access_token") ?? Self.bearer(request)
        guard let tokenText else { return .response(Self.error(401, "token_missing", "pass the access token as ?access_token= or Authorization: Bearer")) }
        let token: AccessToken
        do throws(TokenError) { token = try verifier.verify(tokenText, now: Int64(time(nil))) } catch {
            return .response(Self.error(401, error.code, error.description))
        }
        guard !token.room.isEmpty else { return .response(Self.error(403, "token_wrong_room", "token does not name a room")) }
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

    // MARK: WHIP (RFC 9725) and WHEP

    /// A request refused with this response.
    struct Refusal: Error { let response: HTTPResponse }

    private func mediaToken(_ request: HTTPRequest, room: String, grant: String) -> Swift.Result<AccessToken, Refusal> {
        guard let text = Self.bearer(request) else { return .failure(Refusal(response: Self.error(401, "token_missing", "Authorization: Bearer <token> required"))) }
        let token: AccessToken
        do throws(TokenError) { token = try verifier.verify(text, now: Int64(time(nil))) } catch {
            return .failure(Refusal(response: Self.error(401, error.code, error.description)))
        }
        guard token.room == room else {
            let e = TokenError.wrongRoom(token: token.room, requested: room)
            return .failure(Refusal(response: Self.error(403, e.code, e.description)))
        }
        let allowed = grant == "publish" ? token.grants.publish : token.grants.subscribe
        guard allowed else { return .failure(Refusal(response: Self.error(403, "permission_denied", "the token lacks the \(grant) grant"))) }
        return .success(token)
    }

    private func sdpBody(_ request: HTTPRequest) -> Swift.Result<String, Refusal> {
        guard request.headers["Content-Type"]?.lowercased().hasPrefix("application/sdp") == true else {
            return .failure(Refusal(response: Self.error(415, "unsupported_media_type", "the offer must be application/sdp")))
        }
        guard let text = String(validating: request.body, as: UTF8.self) else { return .failure(Refusal(response: Self.error(400, "bad_request", "SDP is not UTF-8"))) }
        return .success(text)
    }

    private func sdpCreated(_ answer: String, location: String) -> HTTPResponse {
        HTTPResponse(status: 201, headers: HTTPHeaders([("Content-Type", "application/sdp"), ("Location", location)]), body: Array(answer.utf8))
    }

    private func whip(_ request: HTTPRequest, path: [String], now: UInt64) -> (HTTPReply, [ConnectionAction]) {
        guard let media else { return (.response(Self.error(503, "media_unavailable", "the media plane is not running")), []) }
        let room = path[1]
        if path.count == 2 {
            guard request.method == "POST" else { return (.response(Self.methodNotAllowed("POST")), []) }
            let token: AccessToken
            switch mediaToken(request, room: room, grant: "publish") { case .success(let t): token = t; case .failure(let r): return (.response(r.response), []) }
            let text: String
            switch sdpBody(request) { case .success(let t): text = t; case .failure(let r): return (.response(r.response), []) }
            let session = nextSyntheticSession
            nextSyntheticSession -= 1
            do throws(MediaService.Failure) {
                let (resource, answer, kinds) = try media.publish(offer: text, room: room, identity: token.identity, session: session)
                var out = registry.join(session: session, token: token, now: instant(now)).filter { !Self.targets($0, session) }
                out += registry.setTracks(session: session, tracks: kinds.map { TrackInfo(sid: "TR_\(resource.prefix(10))_\($0)", kind: $0) })
                var result = actions(out)
                // Meeting participants in the room receive the WHIP publisher like any other.
                for other in registry.rooms[room]?.participants ?? [] where other.session >= 0 { result += offerSubscriber(other.session) }
                return (.response(sdpCreated(answer, location: "/whip/\(PercentEncoding.encode(room))/\(resource)")), result)
            } catch {
                if case .badOffer(let why) = error { return (.response(Self.error(400, "bad_offer", why)), []) }
                return (.response(Self.error(400, "bad_offer", "offer refused")), [])
            }
        }
        guard request.method == "DELETE" else { return (.response(Self.methodNotAllowed("DELETE")), []) }
        if case .failure(let r) = mediaToken(request, room: room, grant: "publish") { return (.response(r.response), []) }
        guard let ended = media.end(resource: path[2]) else { return (.response(Self.error(404, "session_not_found", "no WHIP session \(path[2])")), []) }
        var result = actions(registry.disconnected(session: ended.session, now: instant(now)))
        for other in registry.rooms[room]?.participants ?? [] where other.session >= 0 { result += offerSubscriber(other.session) }
        return (.response(.text(200, "ok")), result)
    }

    private func whep(_ request: HTTPRequest, path: [String], now: UInt64) -> (HTTPReply, [ConnectionAction]) {
        guard let media else { return (.response(Self.error(503, "media_unavailable", "the media plane is not running")), []) }
        let room = path[1], publisher = path[2]
        if path.count == 3 {
            guard request.method == "POST" else { return (.response(Self.methodNotAllowed("POST")), []) }
            if case .failure(let r) = mediaToken(request, room: room, grant: "subscribe") { return (.response(r.response), []) }
            let text: String
            switch sdpBody(request) { case .success(let t): text = t; case .failure(let r): return (.response(r.response), []) }
            do throws(MediaService.Failure) {
                let (resource, answer) = try media.view(offer: text, room: room, publisher: publisher, session: 0)
                return (.response(sdpCreated(answer, location: "/whep/\(PercentEncoding.encode(room))/\(PercentEncoding.encode(publisher))/\(resource)")), [])
            } catch {
                switch error {
                case .noPublisher: return (.response(Self.error(404, "publisher_not_found", "\(publisher) publishes nothing in room \(room)")), [])
                case .badOffer(let why): return (.response(Self.error(400, "bad_offer", why)), [])
                }
            }
        }
        guard request.method == "DELETE" else { return (.response(Self.methodNotAllowed("DELETE")), []) }
        if case .failure(let r) = mediaToken(request, room: room, grant: "subscribe") { return (.response(r.response), []) }
        guard media.end(resource: path[3]) != nil else { return (.response(Self.error(404, "session_not_found", "no WHEP session \(path[3])")), []) }
        return (.response(.text(200, "ok")), [])
    }

    private static func targets(_ output: SignalOutput, _ session: SessionID) -> Bool {
        switch output {
        case .send(let s, _), .close(let s, _, _), .media(let s, _): s == session
        }
    }

    // MARK: REST (/api/v1/rooms...)

    private func rest(_ request: HTTPRequest, path: [String], now: UInt64) -> (HTTPReply, [ConnectionAction]) {
        guard let tokenText = Self.bearer(request) else {
            return (.response(Self.error(401, "token_missing", "Authorization: Bearer <token with the admin grant> required")), [])
        }
        let token: AccessToken
        do throws(TokenError) { token = try verifier.verify(tokenText, now: Int64(time(nil))) } catch {
            return (.response(Self.error(401, error.code, error.description)), [])
        }
        guard token.grants.admin else { return (.response(Self.error(403, "permission_denied", "the token lacks the admin grant")), []) }
        func allowed(_ room: String) -> Bool { token.room.isEmpty || token.room == room }
        let t = instant(now)
        switch (request.method, path.count) {
        case ("GET", 0):
            let rooms = registry.roomsJSON().filter { allowed(($0["name"] as? String) ?? "") }
            return (.response(Self.json(200, ["rooms": rooms])), [])
        case ("POST", 0):
            guard request.headers["Content-Type"]?.lowercased().hasPrefix("application/json") == true else {
                return (.response(Self.error(415, "unsupported_media_type", "body must be application/json")), [])
            }
            guard let body = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] else {
                return (.response(Self.error(400, "invalid_json", "body is not a JSON object")), [])
            }
            guard let name = body["name"] as? String else { return (.response(Self.error(400, "invalid_request", "name must be a string")), []) }
            guard allowed(name) else { return (.response(Self.error(403, "permission_denied", "token is limited to room \(token.room)")), []) }
            var maxParticipants = 0
            var emptyTimeout: Int? = nil
            if let v = body["maxParticipants"] {
                guard let n = JSONValueBridge.int(v) else { return (.response(Self.error(400, "invalid_request", "maxParticipants must be an integer")), []) }
                maxParticipants = n
            }
            if let v = body["emptyTimeout"] {
                guard let n = JSONValueBridge.int(v) else { return (.response(Self.error(400, "invalid_request", "emptyTimeout must be an integer")), []) }
                emptyTimeout = n
            }
            let metadata = body["metadata"] as? String ?? ""
            do throws(RoomRegistry.RoomError) {
                _ = try registry.createRoom(name: name, maxParticipants: maxParticipants, emptyTimeout: emptyTimeout, metadata: metadata, now: t)
                return (.response(Self.json(201, registry.roomJSON(name)!)), [])
            } catch {
                return (.response(Self.roomError(error, name)), [])
            }
        case ("GET", 1), ("HEAD", 1):
            guard allowed(path[0]), let room = registry.roomJSON(path[0]) else { return (.response(Self.error(404, "room_not_found", "no room \(path[0])")), []) }
            return (.response(Self.json(200, room)), [])
        case ("DELETE", 1):
            guard allowed(path[0]) else { return (.response(Self.error(404, "room_not_found", "no room \(path[0])")), []) }
            do throws(RoomRegistry.RoomError) {
                let out = try registry.deleteRoom(path[0], now: t)
                return (.response(HTTPResponse(status: 204)), actions(out))
            } catch {
                return (.response(Self.roomError(error, path[0])), [])
            }
        case ("DELETE", 3) where path[1] == "participants":
            guard allowed(path[0]) else { return (.response(Self.error(404, "room_not_found", "no room \(path[0])")), []) }
            do throws(RoomRegistry.RoomError) {
                let out = try registry.removeParticipant(room: path[0], identity: path[2], now: t)
                return (.response(HTTPResponse(status: 204)), actions(out))
            } catch {
                return (.response(Self.error(404, "participant_not_found", "no participant \(path[2]) in room \(path[0])")), [])
            }
        case (_, 0): return (.response(Self.methodNotAllowed("GET, POST")), [])
        case (_, 1): return (.response(Self.methodNotAllowed("GET, HEAD, DELETE")), [])
        case (_, 3) where path[1] == "participants": return (.response(Self.methodNotAllowed("DELETE")), [])
        default: return (.response(Self.error(404, "not_found", "no route for \(request.path ?? "?")")), [])
        }
    }

    // MARK: Helpers

    private func actions(_ outputs: [SignalOutput], now: UInt64 = 0) -> [ConnectionAction] {
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
            }
        }
        return result
    }

    // MARK: Meetings: publisher and subscriber peer connections over the WebSocket

    private func reply(_ session: SessionID, _ object: [String: Any]) -> ConnectionAction {
        messagesOut += 1
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return .sendText(session, String(decoding: data, as: UTF8.self))
    }

    private func mediaMessage(session: SessionID, _ message: ClientMessage, now: UInt64) -> [ConnectionAction] {
        guard let media, let (room, participant) = registry.participant(session: session) else {
            return [reply(session, ["type": "error", "code": "media_unavailable", "message": "the media plane is not running", "id": message.id ?? ""])]
        }
        switch message {
        case .offer(let id, _, let sdp):
            do throws(MediaService.Failure) {
                let (resource, answer, kinds) = try media.publish(offer: sdp, room: room.name, identity: participant.identity, session: session)
                let tracks = kinds.map { TrackInfo(sid: "TR_\(resource.prefix(10))_\($0)", kind: $0) }
                var out: [ConnectionAction] = [reply(session, ["type": "answer", "target": "publisher", "sdp": answer, "id": id ?? "",
                                                               "tracks": tracks.map { ["sid": $0.sid, "kind": $0.kind, "muted": false] }])]
                out += actions(registry.setTracks(session: session, tracks: tracks))
                for other in room.participants where other.session != session && other.session >= 0 { out += offerSubscriber(other.session) }
                return out
            } catch {
                if case .badOffer(let why) = error { return [reply(session, ["type": "error", "code": "bad_offer", "message": why, "id": id ?? ""])] }
                return [reply(session, ["type": "error", "code": "bad_offer", "message": "offer refused", "id": id ?? ""])]
            }
        case .mute(_, let trackSid, let muted):
            if let kind = participant.tracks.first(where: { $0.sid == trackSid })?.kind {
                media.setMuted(room: room.name, identity: participant.identity, kind: kind, muted: muted)
            }
            return []
        case .answer(let id, _, let sdp):
            switch media.subscriberAnswer(session: session, sdp: sdp) {
            case .failure(let why): return [reply(session, ["type": "error", "code": "bad_answer", "message": why.reason, "id": id ?? ""])]
            case .success(let renegotiate): return renegotiate ? offerSubscriber(session) : []
            }
        default:
            return []
        }
    }

    /// Offers (or re-offers) a participant's subscriber connection when the tracks it should
    /// receive changed.
    private func offerSubscriber(_ session: SessionID) -> [ConnectionAction] {
        guard let media, let (room, participant) = registry.participant(session: session), participant.grants.subscribe,
              let offer = media.subscriberOffer(session: session, room: room.name, identity: participant.identity) else { return [] }
        return [reply(session, ["type": "offer", "target": "subscriber", "sdp": offer])]
    }

    static func bearer(_ request: HTTPRequest) -> String? {
        guard let h = request.headers["Authorization"], h.count > 7, h.lowercased().hasPrefix("bearer ") else { return nil }
        return String(h.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }

    static func json(_ status: Int, _ object: [String: Any]) -> HTTPResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return .json(status, String(decoding: data, as: UTF8.self))
    }

    static func error(_ status: Int, _ code: String, _ message: String) -> HTTPResponse {
        json(status, ["error": ["code": code, "message": message]])
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
        }
    }
}

/// JSON integer check shared with Signaling's rules (a boolean is not a number).
enum JSONValueBridge {
    static func int(_ v: Any) -> Int? {
        guard let n = v as? NSNumber, String(cString: n.objCType) != "c" else { return nil }
        let d = n.doubleValue
        guard d.isFinite, d == d.rounded(), abs(d) < 9e15 else { return nil }
        return Int(d)
    }
}
