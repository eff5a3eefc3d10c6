import MediaCrypto

/// Time as the signaling state machine sees it: a monotonic clock for timeouts and the wall
/// clock for timestamps shown to clients. Injected, so tests drive it by hand.
public struct Instant: Sendable, Equatable {
    public var monotonicNanos: UInt64
    public var unixSeconds: Int64
    public init(monotonicNanos: UInt64, unixSeconds: Int64) {
        self.monotonicNanos = monotonicNanos
        self.unixSeconds = unixSeconds
    }
}

/// What the registry asks the server loop to do.
public enum SignalOutput: Equatable, Sendable {
    /// Send a JSON text message on a session's WebSocket.
    case send(SessionID, String)
    /// Close a session's WebSocket with a close code and reason (after sending what precedes it).
    case close(SessionID, code: UInt16, reason: String)
    /// A media negotiation message (publisher offer, subscriber answer) for the media plane.
    case media(SessionID, ClientMessage)
    /// The session's participant left `room`, by whatever path (leave, kick, replaced, REST
    /// removal, disconnect, room deleted): the media plane ends its connections and re-offers
    /// the rest of the room without its tracks. Comes after the notices of the departure.
    case left(SessionID, room: String)
}

/// Rooms and participants: the signaling protocol's state machine (docs/signaling.md). No I/O:
/// every call takes the current time and returns the messages to send.
public struct RoomRegistry: Sendable {
    public struct Options: Sendable {
        /// Seconds an empty room lives before it is closed (rooms created on join).
        public var emptyTimeout = 20
        public var maxRooms = 10_000
        /// Metadata a room may hold: its own and its participants' together.
        public var maxRoomMetadataBytes = 1 << 20
        /// Metadata the server may hold over all rooms.
        public var maxTotalMetadataBytes = 64 << 20
        /// Messages a session may send: `messageBurst` at once, then `messageRate` a second.
        public var messageRate = 20
        public var messageBurst = 100
        public init() {}
    }

    /// Metadata held over all rooms (rooms' and participants'), for `maxTotalMetadataBytes`.
    public private(set) var totalMetadataBytes = 0

    public let options: Options
    public private(set) var rooms: [String: Room] = [:]
    /// The room of each session; its participant is the one with that session (a room's list is
    /// searched by identity on join already). The room name alone, not (room, identity): 40-byte
    /// entries in a table at half load were ~80 bytes per participant at 1,000.
    private var sessions: [SessionID: SessionEntry] = [:]

    /// A session's room and its message budget.
    struct SessionEntry: Sendable {
        var room: String
        var budget: MessageRateLimiter
    }
    /// Audience members (`Participant.isOnStage` false) whose `participant_joined` waits for the
    /// next `tick`, by room, in join order, so that a tick's joins reach each stage member in one
    /// write (LiveKit batches non-publisher updates for the same reason). The stage is announced
    /// at once.
    private var pendingJoinNotices: [String: [SessionID]] = [:]

    public init(options: Options = Options()) { self.options = options }

    public var participantCount: Int { sessions.count }

    // MARK: Sessions

    /// A WebSocket with a verified token opened: join its room (creating it), replacing any session
    /// with the same identity, and tell everyone.
    /// `kind` and `metadata` are set by the server for what is not a WebSocket client (a WHIP
    /// publisher, an ingested camera); a reconnect keeps the metadata it had.
    public mutating func join(session: SessionID, token: AccessToken, now: Instant, kind: String = "standard", metadata: String? = nil) -> [SignalOutput] {
        var out: [SignalOutput] = []
        if rooms[token.room] == nil {
            guard rooms.count < options.maxRooms else {
                return [.send(session, SignalingError("too_many_rooms", "the server has reached its room limit").json),
                        .close(session, code: 1008, reason: "too many rooms")]
            }
            rooms[token.room] = Room(name: token.room, sid: Self.newSID("RM"), createdAt: now.unixSeconds,
                                     maxParticipants: 0, emptyTimeout: options.emptyTimeout, metadata: "")
        }
        var replaced: Participant? = nil
        if let index = rooms[token.room]!.participants.firstIndex(where: { $0.identity == token.identity }) {
            // Reconnect with the same identity: the new session replaces the old one.
            replaced = rooms[token.room]!.participants.remove(at: index)
            sessions[replaced!.session] = nil
            out.append(.send(replaced!.session, JSONWriter.encode(["type": "leave", "reason": "replaced"])))
            out.append(.close(replaced!.session, code: 1000, reason: "replaced by a new session"))
            // Its media ends with its session: the new one starts with no tracks and publishes anew.
            out.append(.left(replaced!.session, room: token.room))
        }
        let limit = rooms[token.room]!.maxParticipants
        if limit > 0 && rooms[token.room]!.participants.count >= limit {
            return out + [.send(session, SignalingError("room_full", "room \(token.room) is full (\(limit) participants)").json),
                          .close(session, code: 1008, reason: "room full")]
        }
        let participant = Participant(sid: replaced?.sid ?? Self.newSID("PA"), identity: token.identity,  // both checked by TokenVerifier
                                      name: token.name.isEmpty ? token.identity : token.name,
                                      metadata: metadata ?? replaced?.metadata ?? "", grants: token.grants,
                                      joinedAt: replaced?.joinedAt ?? now.unixSeconds, tracks: [], session: session, kind: kind)
        // The `joined` list is written before the participant is appended, and the room is
        // mutated in place: a local copy of the room would copy its participant array on append.
        // Written once here: an audience member's entry is not kept serialised (Participant.encoded).
        let entry = participant.encoded
        let listed = rooms[token.room]!.participants.lazy.filter { participant.sees($0) }.map(\.encoded)
        var joinedRoom = rooms[token.room]!.json
        joinedRoom["numParticipants"] = rooms[token.room]!.participants.count + 1
        out.append(.send(session, JSONWriter.encode(["type": "joined", "room": joinedRoom, "participant": entry,
                                                    "participants": Array(listed)])))
        rooms[token.room]!.participants.append(participant)
        rooms[token.room]!.emptySince = nil
        if let metadata {  // set by the server: counted as a participant's own update is
            let delta = metadata.utf8.count - (replaced?.metadata.utf8.count ?? 0)
            rooms[token.room]!.metadataBytes += delta
            totalMetadataBytes += delta
        }
        sessions[session] = SessionEntry(room: token.room, budget: MessageRateLimiter(burst: options.messageBurst, now: now))
        let room = rooms[token.room]!
        if let replaced {
            // Those who saw the old session hear of an update, those who did not of a join, and
            // those who saw it but may not see the new one (its grants changed) of a departure.
            let updated = JSONWriter.encode(["type": "participant_updated", "participant": entry])
            let joined = JSONWriter.encode(["type": "participant_joined", "participant": entry])
            let left = JSONWriter.encode(["type": "participant_left", "identity": replaced.identity, "sid": replaced.sid, "reason": "left the stage"])
            for other in room.participants where other.session != session {
                let saw = other.sees(replaced), sees = other.sees(participant)
                if sees {
                    out.append(.send(other.session, saw ? updated : joined))
                } else if saw {
                    out.append(.send(other.session, left))
                }
            }
        } else if !participant.isOnStage {
            pendingJoinNotices[room.name, default: []].append(session)  // told on the next tick
        } else {
            out += broadcast(room, about: participant, except: session, ["type": "participant_joined", "participant": entry])
        }
        return out
    }

    /// A text message from a session.
    public mutating func receive(session: SessionID, text: String, now: Instant) -> [SignalOutput] {
        guard let entry = sessions[session] else { return [] }
        let wasTripped = entry.budget.tripped
        guard sessions[session]!.budget.admit(now: now, rate: options.messageRate, burst: options.messageBurst) else {
            if wasTripped { return [] }  // the close is on its way
            return [.send(session, SignalingError("rate_limited", "more than \(options.messageRate) messages a second (bursts of \(options.messageBurst))").json),
                    .close(session, code: 1008, reason: "message rate limit")]
        }
        let roomName = entry.room
        guard var room = rooms[roomName], let index = room.participants.firstIndex(where: { $0.session == session }) else { return [] }
        let message: ClientMessage
        do throws(SignalingError) { message = try ClientMessage.decode(text) } catch { return [.send(session, error.json)] }
        let id = message.id
        func ok(_ extra: [String: Any] = [:]) -> SignalOutput {
            var o: [String: Any] = ["type": "ok"]
            if let id { o["id"] = id }
            for (k, v) in extra { o[k] = v }
            return .send(session, JSONWriter.encode(o))
        }
        func fail(_ code: String, _ text: String) -> [SignalOutput] { [.send(session, SignalingError(code, text, id: id).json)] }
        switch message {
        case .ping:
            var o: [String: Any] = ["type": "pong", "time": now.unixSeconds]
            if let id { o["id"] = id }
            return [.send(session, JSONWriter.encode(o))]
        case .updateMetadata(_, let metadata, let name):
            if let metadata {
                if let (c, at) = NameRule.firstHidden(in: metadata) {
                    return fail("invalid_metadata", "metadata has the hidden character \(NameRule.describe(c)) at character \(at + 1)")
                }
                let delta = metadata.utf8.count - room.participants[index].metadata.utf8.count
                if let refusal = metadataRefusal(room: room, adding: delta) { return fail("metadata_limit", refusal) }
                room.participants[index].metadata = metadata
                room.metadataBytes += delta
                totalMetadataBytes += delta
            }
            if let name { room.participants[index].name = NameRule.cleanDisplayName(name).isEmpty ? room.participants[index].identity : NameRule.cleanDisplayName(name) }
            rooms[roomName] = room
            return [ok()] + announcePendingJoin(of: session, in: room)
                + broadcast(room, about: room.participants[index], except: nil, ["type": "participant_updated", "participant": room.participants[index].encoded])
        case .mute(_, let trackSid, let muted):
            guard let t = room.participants[index].tracks.firstIndex(where: { $0.sid == trackSid }) else {
                return fail("track_not_found", "no published track \(trackSid)")
            }
            room.participants[index].tracks[t].muted = muted
            rooms[roomName] = room
            return [ok(), .media(session, message)] + announcePendingJoin(of: session, in: room)
                + broadcast(room, about: room.participants[index], except: nil, ["type": "participant_updated", "participant": room.participants[index].encoded])
        case .leave:
            return [ok()] + remove(session: session, reason: "left", now: now, closeCode: 1000)
        case .kick(_, let target, let reason):
            guard room.participants[index].grants.admin else { return fail("permission_denied", "kick needs the admin grant") }
            guard let victim = room.participant(target) else { return fail("participant_not_found", "no participant \(target) in room \(roomName)") }
            return [ok()] + remove(session: victim.session, reason: "kicked" + (reason.map { ": \($0)" } ?? ""), now: now, closeCode: 1000)
        case .offer(_, let target, _, _):
            guard target == .publisher else { return fail("invalid_message", "the server offers the subscriber connection; answer it") }
            guard room.participants[index].grants.publish else { return fail("permission_denied", "publishing needs the publish grant") }
            return [.media(session, message)]
        case .answer(_, let target, _):
            guard target == .subscriber else { return fail("invalid_message", "the server answers publisher offers; it takes no publisher answer") }
            guard room.participants[index].grants.subscribe else { return fail("permission_denied", "subscribing needs the subscribe grant") }
            return [.media(session, message)]
        case .trickle:
            return [ok()]  // the server is ICE-lite: it learns the client's addresses from its checks
        }
    }

    /// Sets a participant's published tracks (the media plane reports them) and tells the room.
    public mutating func setTracks(session: SessionID, tracks: [TrackInfo]) -> [SignalOutput] {
        guard let roomName = sessions[session]?.room, var room = rooms[roomName],
              let index = room.participants.firstIndex(where: { $0.session == session }) else { return [] }
        room.participants[index].tracks = tracks
        rooms[roomName] = room
        return announcePendingJoin(of: session, in: room)
            + broadcast(room, about: room.participants[index], except: session, ["type": "participant_updated", "participant": room.participants[index].encoded])
    }

    /// The server changes a participant's name or metadata (an ingress's, by PATCH): everyone
    /// who sees it gets `participant_updated`.
    public mutating func updateParticipant(session: SessionID, name: String?, metadata: String?) -> [SignalOutput] {
        guard let roomName = sessions[session]?.room, var room = rooms[roomName],
              let index = room.participants.firstIndex(where: { $0.session == session }) else { return [] }
        if let metadata {
            let delta = metadata.utf8.count - room.participants[index].metadata.utf8.count
            room.participants[index].metadata = metadata
            room.metadataBytes += delta
            totalMetadataBytes += delta
        }
        if let name { room.participants[index].name = name }
        rooms[roomName] = room
        return broadcast(room, about: room.participants[index], except: nil, ["type": "participant_updated", "participant": room.participants[index].encoded])
    }

    /// The room and participant of a session.
    public func participant(session: SessionID) -> (room: Room, participant: Participant)? {
        guard let roomName = sessions[session]?.room, let room = rooms[roomName], let p = room.participants.first(where: { $0.session == session }) else { return nil }
        return (room, p)
    }

    /// The session's connection went away.
    public mutating func disconnected(session: SessionID, now: Instant) -> [SignalOutput] {
        remove(session: session, reason: "disconnected", now: now, closeCode: nil)
    }

    /// Announces the joins deferred since the last tick and closes rooms that have been empty
    /// longer than their timeout.
    public mutating func tick(now: Instant) -> [SignalOutput] {
        var out: [SignalOutput] = []
        for (name, sessions) in pendingJoinNotices {
            guard let room = rooms[name] else { continue }
            for s in sessions { out += joinNotice(of: s, in: room) }
        }
        pendingJoinNotices.removeAll()
        for (name, room) in rooms {
            if let since = room.emptySince, room.participants.isEmpty,
               now.monotonicNanos >= since + UInt64(room.emptyTimeout) * 1_000_000_000 {
                totalMetadataBytes -= room.metadataBytes
                rooms[name] = nil
            }
        }
        return out
    }

    // MARK: REST operations

    public enum RoomError: Error, Equatable, Sendable {
        case exists, notFound, invalid(String), limit, metadataLimit
    }

    /// Why `adding` bytes of metadata to `room` would pass a bound, or nil.
    private func metadataRefusal(room: Room, adding delta: Int) -> String? {
        guard delta > 0 else { return nil }
        if room.metadataBytes + delta > options.maxRoomMetadataBytes { return "room \(room.name) holds the most metadata it may (\(options.maxRoomMetadataBytes) bytes)" }
        if totalMetadataBytes + delta > options.maxTotalMetadataBytes { return "the server holds the most metadata it may" }
        return nil
    }

    /// Creates a room ahead of the first join (POST /api/v1/rooms).
    public mutating func createRoom(name: String, maxParticipants: Int, emptyTimeout: Int?, metadata: String, now: Instant) throws(RoomError) -> Room {
        do throws(NameRule.Violation) { try NameRule.check(name) } catch { throw .invalid("the room name \(error)") }
        guard (0...10_000).contains(maxParticipants) else { throw .invalid("maxParticipants must be 0 (no limit) to 10000") }
        let timeout = emptyTimeout ?? options.emptyTimeout
        guard (0...86_400).contains(timeout) else { throw .invalid("emptyTimeout must be 0 to 86400 seconds") }
        guard metadata.utf8.count <= 64 * 1024 else { throw .invalid("metadata is over 64 KiB") }
        if let (c, at) = NameRule.firstHidden(in: metadata) { throw .invalid("metadata has the hidden character \(NameRule.describe(c)) at character \(at + 1)") }
        guard rooms[name] == nil else { throw .exists }
        guard rooms.count < options.maxRooms else { throw .limit }
        guard totalMetadataBytes + metadata.utf8.count <= options.maxTotalMetadataBytes else { throw .metadataLimit }
        var room = Room(name: name, sid: Self.newSID("RM"), createdAt: now.unixSeconds, maxParticipants: maxParticipants,
                        emptyTimeout: timeout, metadata: metadata, emptySince: now.monotonicNanos)
        room.metadataBytes = metadata.utf8.count
        totalMetadataBytes += room.metadataBytes
        rooms[name] = room
        return room
    }

    /// Closes a room, disconnecting everyone in it (DELETE /api/v1/rooms/{room}).
    public mutating func deleteRoom(_ name: String, now: Instant) throws(RoomError) -> [SignalOutput] {
        guard let room = rooms[name] else { throw .notFound }
        var out: [SignalOutput] = []
        for p in room.participants {
            sessions[p.session] = nil
            out.append(.send(p.session, JSONWriter.encode(["type": "leave", "reason": "room deleted"])))
            out.append(.close(p.session, code: 1000, reason: "room deleted"))
            out.append(.left(p.session, room: name))
        }
        totalMetadataBytes -= room.metadataBytes
        rooms[name] = nil
        pendingJoinNotices[name] = nil
        return out
    }

    /// Removes a participant (DELETE /api/v1/rooms/{room}/participants/{identity}).
    public mutating func removeParticipant(room name: String, identity: String, now: Instant) throws(RoomError) -> [SignalOutput] {
        guard let room = rooms[name], let p = room.participant(identity) else { throw .notFound }
        return remove(session: p.session, reason: "kicked: removed by an administrator", now: now, closeCode: 1000)
    }

    /// JSON of one room with its participants (GET /api/v1/rooms/{room}).
    public func roomJSON(_ name: String) -> [String: Any]? {
        guard let room = rooms[name] else { return nil }
        var o = room.json
        o["participants"] = room.participants.map(\.json)
        return o
    }

    /// One page of the room list (GET /api/v1/rooms), sorted by name: at most `limit` rooms
    /// named after `after` that `include` admits, each without its metadata unless asked, and
    /// the name to continue after when more remain.
    public func roomsPage(limit: Int, after: String?, metadata: Bool, include: (String) -> Bool = { _ in true }) -> (rooms: [[String: Any]], next: String?) {
        var names = rooms.keys.filter { name in (after.map { name > $0 } ?? true) && include(name) }
        names.sort()
        let page = names.prefix(limit)
        let list = page.map { name -> [String: Any] in
            var o = rooms[name]!.json
            if !metadata { o["metadata"] = nil }
            return o
        }
        return (list, names.count > limit ? page.last : nil)
    }

    // MARK: Helpers

    private mutating func remove(session: SessionID, reason: String, now: Instant, closeCode: UInt16?) -> [SignalOutput] {
        guard let roomName = sessions.removeValue(forKey: session)?.room, var room = rooms[roomName],
              let index = room.participants.firstIndex(where: { $0.session == session }) else { return [] }
        let announced = announcePendingJoin(of: session, in: room)
        let p = room.participants.remove(at: index)
        room.metadataBytes -= p.metadata.utf8.count
        totalMetadataBytes -= p.metadata.utf8.count
        if room.participants.isEmpty { room.emptySince = now.monotonicNanos }
        rooms[roomName] = room
        var out = announced
        if let closeCode {
            out.append(.send(session, JSONWriter.encode(["type": "leave", "reason": reason])))
            out.append(.close(session, code: closeCode, reason: reason))
        }
        out += broadcast(room, about: p, except: session, ["type": "participant_left", "identity": p.identity, "sid": p.sid, "reason": reason])
        out.append(.left(session, room: roomName))
        return out
    }

    /// Sends the deferred `participant_joined` of `session`, if one is pending, to those who
    /// joined before it (later joiners had it in their `joined` list), and forgets it. Called
    /// before any other notice about that participant, so notices never arrive out of order.
    private mutating func announcePendingJoin(of session: SessionID, in room: Room) -> [SignalOutput] {
        guard var pending = pendingJoinNotices[room.name], let k = pending.firstIndex(of: session) else { return [] }
        pending.remove(at: k)
        pendingJoinNotices[room.name] = pending.isEmpty ? nil : pending
        return joinNotice(of: session, in: room)
    }

    /// `participant_joined` for `session`, to those who joined before it and see it.
    private func joinNotice(of session: SessionID, in room: Room) -> [SignalOutput] {
        guard let index = room.participants.firstIndex(where: { $0.session == session }) else { return [] }
        let p = room.participants[index]
        let text = JSONWriter.encode(["type": "participant_joined", "participant": p.encoded])
        return room.participants[..<index].filter { $0.sees(p) }.map { .send($0.session, text) }
    }

    /// `message` about `subject` to everyone in the room who sees it (but `except`).
    private func broadcast(_ room: Room, about subject: Participant, except: SessionID?, _ message: [String: Any]) -> [SignalOutput] {
        let text = JSONWriter.encode(message)
        return room.participants.filter { $0.session != except && $0.sees(subject) }.map { .send($0.session, text) }
    }

    /// "PA_" + 12 random base62 characters.
    static func newSID(_ prefix: String) -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        return prefix + "_" + String(SecureRandom.bytes(12).map { alphabet[Int($0) % 62] })
    }
}
