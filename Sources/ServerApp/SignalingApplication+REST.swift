import Foundation
import Glibc
import HTTP
import ServerIO
import Signaling

/// The operator REST API under `/api/v1/rooms` (docs/openapi.json).
extension SignalingApplication {
    // MARK: REST (/api/v1/rooms...)

    func registerRESTRoutes() {
        routes.add("GET", "/api/v1/rooms") { [unowned self] request, _, _, now in rest(request, path: [], now: now) }
        routes.add("POST", "/api/v1/rooms") { [unowned self] request, _, _, now in rest(request, path: [], now: now) }
        routes.add("GET", "/api/v1/rooms/{room}") { [unowned self] request, p, _, now in rest(request, path: p, now: now) }
        routes.add("DELETE", "/api/v1/rooms/{room}") { [unowned self] request, p, _, now in rest(request, path: p, now: now) }
        routes.add("DELETE", "/api/v1/rooms/{room}/participants/{identity}") { [unowned self] request, p, _, now in
            rest(request, path: [p[0], "participants", p[1]], now: now)
        }
    }

    /// One REST operation (the route table sent only these methods and paths), after the admin
    /// token is checked.
    func rest(_ request: HTTPRequest, path: [String], now: UInt64) -> (HTTPReply, [ConnectionAction]) {
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
        switch (request.method == "HEAD" ? "GET" : request.method, path.count) {
        case ("GET", 0):
            // Paginated, metadata left out unless asked: listing 10,000 rooms with their metadata
            // in one answer stalled the loop for seconds.
            var limit = 100
            if let v = request.query("limit") {
                guard let n = Int(v), (1...1000).contains(n) else { return (.response(Self.error(400, "invalid_request", "limit must be an integer from 1 to 1000")), []) }
                limit = n
            }
            var after: String? = nil
            if let c = request.query("cursor") {
                guard let bytes = Base64.decodeURL(c), let name = String(validating: bytes, as: UTF8.self), NameRule.isValid(name) else {
                    return (.response(Self.error(400, "invalid_request", "cursor is not one this server gave")), [])
                }
                after = name
            }
            let withMetadata: Bool
            switch request.query("metadata") {
            case nil, "0", "false": withMetadata = false
            case "1", "true": withMetadata = true
            default: return (.response(Self.error(400, "invalid_request", "metadata must be true or false")), [])
            }
            let page = registry.roomsPage(limit: limit, after: after, metadata: withMetadata, include: allowed)
            var body: [String: Any] = ["rooms": page.rooms]
            if let next = page.next { body["nextCursor"] = Base64.encodeURL(Array(next.utf8)) }
            return (.response(Self.json(200, body)), [])
        case ("POST", 0):
            guard request.headers["Content-Type"]?.lowercased().hasPrefix("application/json") == true else {
                return (.response(Self.error(415, "unsupported_media_type", "body must be application/json")), [])
            }
            let parsed: JSONValue
            do throws(JSONReader.Error) { parsed = try JSONValue.parse(request.body) } catch {
                return (.response(Self.error(400, "invalid_json", "body is not JSON: \(error)")), [])
            }
            guard let body = parsed.object else { return (.response(Self.error(400, "invalid_json", "body is not a JSON object")), []) }
            guard let name = body["name"]?.string else { return (.response(Self.error(400, "invalid_request", "name must be a string")), []) }
            guard allowed(name) else { return (.response(Self.error(403, "permission_denied", "token is limited to room \(token.room)")), []) }
            var maxParticipants = 0
            var emptyTimeout: Int? = nil
            if let v = body["maxParticipants"] {
                guard let n = v.integer else { return (.response(Self.error(400, "invalid_request", "maxParticipants must be an integer")), []) }
                maxParticipants = n
            }
            if let v = body["emptyTimeout"] {
                guard let n = v.integer else { return (.response(Self.error(400, "invalid_request", "emptyTimeout must be an integer")), []) }
                emptyTimeout = n
            }
            let metadata = body["metadata"]?.string ?? ""
            do throws(RoomRegistry.RoomError) {
                _ = try registry.createRoom(name: name, maxParticipants: maxParticipants, emptyTimeout: emptyTimeout, metadata: metadata, now: t)
                return (.response(Self.json(201, registry.roomJSON(name)!)), [])
            } catch {
                return (.response(Self.roomError(error, name)), [])
            }
        case ("GET", 1):
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
        default: return (.response(Self.error(404, "not_found", "no route for \(request.path ?? "?")")), [])
        }
    }
}
