import Foundation
import Glibc
import HTTP
import Ingest
import MediaCrypto
import MediaIO
import MediaSessions
import MediaWire
import ServerIO
import SFU
import Signaling

/// Plain-RTP ingresses under `/api/v1/rooms/{room}/ingress` (docs/api.md, "Ingress"): a drone,
/// a camera or an encoder pushes RTP to a port of its own and appears in the room as a
/// participant of its kind whose tracks everyone can subscribe to.
extension SignalingApplication {
    func registerIngressRoutes() {
        routes.add("POST", "/api/v1/rooms/{room}/ingress") { [unowned self] request, p, _, now in ingressCreate(request, room: p[0], now: now) }
        routes.add("GET", "/api/v1/rooms/{room}/ingress") { [unowned self] request, p, _, now in ingressList(request, room: p[0], now: now) }
        routes.add("PATCH", "/api/v1/rooms/{room}/ingress/{id}") { [unowned self] request, p, _, now in ingressUpdate(request, room: p[0], id: p[1], now: now) }
        routes.add("DELETE", "/api/v1/rooms/{room}/ingress/{id}") { [unowned self] request, p, _, now in ingressDelete(request, room: p[0], id: p[1], now: now) }
    }

    static let ingressUnavailable = error(503, "media_unavailable", "the media plane is not running")

    /// The admin token for `room`, or the refusal.
    func adminToken(_ request: HTTPRequest, room: String) -> Swift.Result<AccessToken, Refusal> {
        do throws(NameRule.Violation) { try NameRule.check(room) } catch {
            return .failure(Refusal(response: Self.error(400, "invalid_name", "the room name \(error)")))
        }
        guard let text = Self.bearer(request) else {
            return .failure(Refusal(response: Self.error(401, "token_missing", "Authorization: Bearer <token with the admin grant> required")))
        }
        let token: AccessToken
        do throws(TokenError) { token = try verifier.verify(text, now: Int64(time(nil))) } catch {
            return .failure(Refusal(response: Self.error(401, error.code, error.description)))
        }
        guard token.grants.admin else { return .failure(Refusal(response: Self.error(403, "permission_denied", "the token lacks the admin grant"))) }
        guard token.room.isEmpty || token.room == room else {
            return .failure(Refusal(response: Self.error(403, "permission_denied", "token is limited to room \(token.room)")))
        }
        return .success(token)
    }

    /// `withKey`: the SRTP key too (the create answer only; listings say `"srtp": true`).
    func ingressJSON(_ i: IngressService.Ingress, now: UInt64, withKey: Bool = false) -> [String: Any] {
        let s = i.counters.snapshot
        let state: String
        if s.videoRefusal != nil { state = "refused" }
        else if let last = s.lastPacketAt { state = now &- last < 3_000_000_000 ? "receiving" : "silent" } else { state = "waiting" }
        var out: [String: Any] = ["id": i.id, "room": i.room, "identity": i.request.identity, "name": i.request.name, "kind": i.request.kind.rawValue,
                                  "metadata": i.request.metadata, "host": i.address.ip.description, "port": Int(i.address.port), "state": state,
                                  "stats": ["packets": s.packets, "bytes": s.bytes, "rtcpPackets": s.rtcpPackets, "droppedOtherSender": s.droppedOtherSender,
                                            "transcoderDrops": s.transcoderDrops, "srtpFailures": s.srtpFailures, "lastPacketAgo": s.lastPacketAt.map { Double(now &- $0) / 1e9 } ?? NSNull(),
                                            "sender": s.latched?.description ?? NSNull()]]
        func medium(_ m: IngressRequest.Medium) -> [String: Any] {
            var o: [String: Any] = ["codec": m.g711?.rawValue ?? m.codec.encodingName, "payloadType": Int(m.payloadType)]
            if m.g711 != nil { o["forwardedAs"] = "opus" }
            if let p = m.profileLevelID { o["profileLevelId"] = p }
            return o
        }
        out["srtp"] = i.srtpKey != nil
        if let why = s.videoRefusal { out["reason"] = "video not forwarded: \(why)" }
        if withKey, let key = i.srtpKey {
            // RFC 4568 §6.1: base64 of the master key and salt; the hex form is what GStreamer's srtpenc takes.
            out["srtpParameters"] = ["suite": "AES_CM_128_HMAC_SHA1_80", "key": "inline:" + Base64.encode(key),
                                     "keyHex": HexText.lowercase(key)]
        }
        if let v = i.request.video { out["video"] = medium(v) }
        if let a = i.request.audio { out["audio"] = medium(a) }
        return out
    }

    func ingressCreate(_ request: HTTPRequest, room: String, now: UInt64) -> (HTTPReply, [ConnectionAction]) {
        let token: AccessToken
        switch adminToken(request, room: room) { case .success(let t): token = t; case .failure(let r): return (.response(r.response), []) }
        _ = token
        guard let ingress, let media else { return (.response(Self.ingressUnavailable), []) }
        guard request.headers["Content-Type"]?.lowercased().hasPrefix("application/json") == true else {
            return (.response(Self.error(415, "unsupported_media_type", "body must be application/json")), [])
        }
        let spec: IngressRequest
        do throws(IngressRequest.Invalid) { spec = try IngressRequest.parse(request.body) } catch {
            return (.response(Self.error(400, error.code, error.message)), [])
        }
        if registry.rooms[room]?.participants.contains(where: { $0.identity == spec.identity }) == true {
            return (.response(Self.error(409, "identity_taken", "room \(room) has a participant \(spec.identity) already")), [])
        }
        let session = nextSyntheticSession
        nextSyntheticSession -= 1
        let created: IngressService.Ingress
        do throws(IngressService.Refusal) { created = try ingress.create(spec, room: room, session: session, now: now) } catch {
            var r = Self.error(error.status, error.code, error.message)
            if error.status == 503 { r.headers.set("Retry-After", "30") }
            return (.response(r), [])
        }
        let participantToken = AccessToken(identity: spec.identity, name: spec.name, room: room, grants: Grants(publish: true),
                                           notBefore: 0, expires: Int64.max)
        var out = registry.join(session: session, token: participantToken, now: instant(now), kind: spec.kind.rawValue, metadata: spec.metadata)
            .filter { !Self.targets($0, session) }
        guard registry.participant(session: session) != nil else {
            ingress.remove(created.id)  // the room is full, or the server has too many rooms
            return (.response(Self.error(409, "room_full", "room \(room) cannot take another participant")), actions(out))
        }
        var tracks: [(source: TrackSource, codec: MediaCodec, formatParameters: String)] = []
        if let v = spec.video {
            let fmtp = v.codec == .h264 ? "packetization-mode=1;profile-level-id=\(v.profileLevelID ?? "42e01f")" : ""  // offers add the rest
            tracks.append((.camera, v.codec, fmtp))
        }
        if let a = spec.audio { tracks.append((.microphone, a.codec, "")) }
        let published = media.publishSource(created.key, tracks: tracks, session: session)
        out += registry.setTracks(session: session, tracks: Self.trackInfos(published.tracks, keeping: []))
        var result = actions(out)
        for other in registry.rooms[room]?.participants ?? [] where other.session >= 0 { result += offerSubscriber(other.session) }
        return (.response(Self.json(201, ingressJSON(created, now: now, withKey: true))), result)
    }

    func ingressList(_ request: HTTPRequest, room: String, now: UInt64) -> (HTTPReply, [ConnectionAction]) {
        switch adminToken(request, room: room) { case .success: break; case .failure(let r): return (.response(r.response), []) }
        guard let ingress else { return (.response(Self.ingressUnavailable), []) }
        return (.response(Self.json(200, ["ingress": ingress.list(room: room).map { ingressJSON($0, now: now) }])), [])
    }

    func ingressUpdate(_ request: HTTPRequest, room: String, id: String, now: UInt64) -> (HTTPReply, [ConnectionAction]) {
        switch adminToken(request, room: room) { case .success: break; case .failure(let r): return (.response(r.response), []) }
        guard let ingress else { return (.response(Self.ingressUnavailable), []) }
        guard let existing = ingress.ingresses[id], existing.room == room else {
            return (.response(Self.error(404, "ingress_not_found", "no ingress \(id) in room \(room)")), [])
        }
        guard request.headers["Content-Type"]?.lowercased().hasPrefix("application/json") == true else {
            return (.response(Self.error(415, "unsupported_media_type", "body must be application/json")), [])
        }
        let parsed: JSONValue
        do throws(JSONReader.Error) { parsed = try JSONValue.parse(request.body) } catch {
            return (.response(Self.error(400, "invalid_json", "body is not JSON: \(error)")), [])
        }
        guard let body = parsed.object, !body.isEmpty, body.keys.allSatisfy({ ["name", "metadata"].contains($0) }) else {
            return (.response(Self.error(400, "invalid_request", "give name, metadata or both (nothing else can change)")), [])
        }
        var name: String? = nil
        if let v = body["name"] {
            guard let s = v.string, s.utf8.count <= 256 else { return (.response(Self.error(400, "invalid_request", "name must be a string of at most 256 bytes")), []) }
            let clean = NameRule.cleanDisplayName(s)
            name = clean.isEmpty ? existing.request.identity : clean
        }
        var metadata: String? = nil
        if let v = body["metadata"] {
            guard v.object != nil else { return (.response(Self.error(400, "invalid_request", "metadata must be a JSON object")), []) }
            let text = JSONWriter.encode(v)
            guard text.utf8.count <= IngressRequest.maximumMetadataBytes else {
                return (.response(Self.error(400, "invalid_request", "metadata over \(IngressRequest.maximumMetadataBytes) bytes")), [])
            }
            metadata = text
        }
        guard let updated = ingress.update(id, name: name, metadata: metadata) else {
            return (.response(Self.error(404, "ingress_not_found", "no ingress \(id) in room \(room)")), [])
        }
        let out = registry.updateParticipant(session: updated.session, name: name, metadata: metadata)
        return (.response(Self.json(200, ingressJSON(updated, now: now))), actions(out))
    }

    func ingressDelete(_ request: HTTPRequest, room: String, id: String, now: UInt64) -> (HTTPReply, [ConnectionAction]) {
        switch adminToken(request, room: room) { case .success: break; case .failure(let r): return (.response(r.response), []) }
        guard let ingress else { return (.response(Self.ingressUnavailable), []) }
        guard let existing = ingress.ingresses[id], existing.room == room, let removed = ingress.remove(id) else {
            return (.response(Self.error(404, "ingress_not_found", "no ingress \(id) in room \(room)")), [])
        }
        return (.response(HTTPResponse(status: 204, headers: HTTPHeaders([]), body: [])), actions(registry.disconnected(session: removed.session, now: instant(now))))
    }

    /// Ingresses idle past their timeout leave, with their participants.
    func expireIngresses(now: UInt64) -> [ConnectionAction] {
        guard let ingress else { return [] }
        var out: [ConnectionAction] = []
        for idle in ingress.idle(now: now) {
            ingress.remove(idle.id)
            out += actions(registry.disconnected(session: idle.session, now: instant(now)))
        }
        return out
    }
}

/// The media loop as the ingress service's media plane.
extension MediaLoop: IngressMediaPlane {
    public func bindUDPSocket(_ address: TransportAddress) -> Swift.Result<(fd: Int32, address: TransportAddress), IngressService.SocketError> {
        do throws(MediaIOError) { return .success(try MediaLoop.bindUDP(address)) } catch {
            return .failure(IngressService.SocketError(message: error.description, inUse: error.code == EADDRINUSE))
        }
    }
}
