import Foundation
import Glibc
import HTTP
import ServerIO
import MediaSessions
import SFU
import Signaling

/// WHIP (RFC 9725) and WHEP endpoints: `/whip/{room}[/{id}]`, `/whep/{room}/{identity}[/{id}]`.
extension SignalingApplication {
    // MARK: WHIP (RFC 9725) and WHEP

    /// A request refused with this response.
    struct Refusal: Error { let response: HTTPResponse }

    func mediaToken(_ request: HTTPRequest, room: String, grant: String) -> Swift.Result<AccessToken, Refusal> {
        do throws(NameRule.Violation) { try NameRule.check(room) } catch {
            return .failure(Refusal(response: Self.error(400, "invalid_name", "the room name \(error)")))
        }
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

    func sdpBody(_ request: HTTPRequest) -> Swift.Result<String, Refusal> {
        guard request.headers["Content-Type"]?.lowercased().hasPrefix("application/sdp") == true else {
            return .failure(Refusal(response: Self.error(415, "unsupported_media_type", "the offer must be application/sdp")))
        }
        guard let text = String(validating: request.body, as: UTF8.self) else { return .failure(Refusal(response: Self.error(400, "bad_offer", "the SDP is not UTF-8", reason: "invalid_sdp"))) }
        return .success(text)
    }

    func sdpCreated(_ answer: String, location: String) -> HTTPResponse {
        HTTPResponse(status: 201, headers: HTTPHeaders([("Content-Type", "application/sdp"), ("Location", location)]), body: Array(answer.utf8))
    }

    /// The resource of `id` if the request may act on it: a session belongs to its kind (WHIP or
    /// WHEP), its room and the identity whose token created it, and WHEP's to the publisher
    /// in its path; for anyone else it does not exist (404, RFC 9725 §4.2).
    func ownedResource(_ id: String, kind: MediaService.Resource.Kind, room: String, publisher: String?, token: AccessToken) -> MediaService.Resource? {
        guard let media, let r = media.resource(id), r.kind == kind, r.owner == ParticipantKey(room: room, identity: token.identity),
              r.publisher == publisher else { return nil }
        return r
    }

    static func refusal(_ failure: MediaService.Failure, publisher: String, room: String) -> HTTPResponse {
        switch failure {
        case .noPublisher: return error(404, "publisher_not_found", "\(publisher) publishes nothing in room \(room)")
        case .badOffer(let reason, let message): return error(400, "bad_offer", message, reason: reason)
        case .tooManySessions(let limit): return error(429, "too_many_sessions", "this identity holds \(limit) viewing sessions in room \(room) already; end one first")
        case .busy(let limit):
            var r = error(503, "server_busy", "\(limit) media connections are being set up; try again shortly")
            r.headers.set("Retry-After", "5")
            return r
        }
    }

    func registerMediaRoutes() {
        routes.add("POST", "/whip/{room}") { [unowned self] request, p, _, now in whipPublish(request, room: p[0], now: now) }
        routes.add("DELETE", "/whip/{room}/{id}") { [unowned self] request, p, _, now in whipEnd(request, room: p[0], id: p[1], now: now) }
        routes.add("POST", "/whep/{room}/{identity}") { [unowned self] request, p, _, _ in whepView(request, room: p[0], publisher: p[1]) }
        routes.add("DELETE", "/whep/{room}/{identity}/{id}") { [unowned self] request, p, _, _ in whepEnd(request, room: p[0], publisher: p[1], id: p[2]) }
    }

    static let mediaUnavailable = error(503, "media_unavailable", "the media plane is not running")

    func whipPublish(_ request: HTTPRequest, room: String, now: UInt64) -> (HTTPReply, [ConnectionAction]) {
        guard let media else { return (.response(Self.mediaUnavailable), []) }
        let token: AccessToken
        switch mediaToken(request, room: room, grant: "publish") { case .success(let t): token = t; case .failure(let r): return (.response(r.response), []) }
        let text: String
        switch sdpBody(request) { case .success(let t): text = t; case .failure(let r): return (.response(r.response), []) }
        let session = nextSyntheticSession
        nextSyntheticSession -= 1
        do throws(MediaService.Failure) {
            let published = try media.publish(offer: text, publisher: ParticipantKey(room: room, identity: token.identity), session: session)
            let (resource, answer) = (published.resource, published.answer)
            var out = registry.join(session: session, token: token, now: instant(now), kind: "whip").filter { !Self.targets($0, session) }
            out += registry.setTracks(session: session, tracks: Self.trackInfos(published.tracks, keeping: []))
            var result = actions(out)
            // Meeting participants in the room receive the WHIP publisher like any other.
            for other in registry.rooms[room]?.participants ?? [] where other.session >= 0 { result += offerSubscriber(other.session) }
            return (.response(sdpCreated(answer, location: "/whip/\(PercentEncoding.encode(room))/\(resource)")), result)
        } catch {
            return (.response(Self.refusal(error, publisher: token.identity, room: room)), [])
        }
    }

    func whipEnd(_ request: HTTPRequest, room: String, id: String, now: UInt64) -> (HTTPReply, [ConnectionAction]) {
        guard let media else { return (.response(Self.mediaUnavailable), []) }
        let token: AccessToken
        switch mediaToken(request, room: room, grant: "publish") { case .success(let t): token = t; case .failure(let r): return (.response(r.response), []) }
        guard ownedResource(id, kind: .whip, room: room, publisher: nil, token: token) != nil, let ended = media.end(resource: id) else {
            return (.response(Self.error(404, "session_not_found", "no WHIP session \(id) of yours in room \(room)")), [])
        }
        var result = actions(registry.disconnected(session: ended.session, now: instant(now)))
        for other in registry.rooms[room]?.participants ?? [] where other.session >= 0 { result += offerSubscriber(other.session) }
        return (.response(.text(200, "ok")), result)
    }

    func whepView(_ request: HTTPRequest, room: String, publisher: String) -> (HTTPReply, [ConnectionAction]) {
        guard let media else { return (.response(Self.mediaUnavailable), []) }
        do throws(NameRule.Violation) { try NameRule.check(publisher) } catch {
            return (.response(Self.error(400, "invalid_name", "the publisher identity \(error)")), [])
        }
        let token: AccessToken
        switch mediaToken(request, room: room, grant: "subscribe") { case .success(let t): token = t; case .failure(let r): return (.response(r.response), []) }
        let text: String
        switch sdpBody(request) { case .success(let t): text = t; case .failure(let r): return (.response(r.response), []) }
        do throws(MediaService.Failure) {
            let (resource, answer) = try media.view(offer: text, publisher: ParticipantKey(room: room, identity: publisher),
                                                    viewer: ParticipantKey(room: room, identity: token.identity), session: 0)
            return (.response(sdpCreated(answer, location: "/whep/\(PercentEncoding.encode(room))/\(PercentEncoding.encode(publisher))/\(resource)")), [])
        } catch {
            return (.response(Self.refusal(error, publisher: publisher, room: room)), [])
        }
    }

    func whepEnd(_ request: HTTPRequest, room: String, publisher: String, id: String) -> (HTTPReply, [ConnectionAction]) {
        guard let media else { return (.response(Self.mediaUnavailable), []) }
        let token: AccessToken
        switch mediaToken(request, room: room, grant: "subscribe") { case .success(let t): token = t; case .failure(let r): return (.response(r.response), []) }
        guard ownedResource(id, kind: .whep, room: room, publisher: publisher, token: token) != nil, media.end(resource: id) != nil else {
            return (.response(Self.error(404, "session_not_found", "no WHEP session \(id) of yours viewing \(publisher) in room \(room)")), [])
        }
        return (.response(.text(200, "ok")), [])
    }

    static func targets(_ output: SignalOutput, _ session: SessionID) -> Bool {
        switch output {
        case .send(let s, _), .close(let s, _, _), .media(let s, _), .left(let s, _): s == session
        }
    }
}
