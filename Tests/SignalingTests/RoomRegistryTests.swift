import Foundation
import Testing
@testable import Signaling

/// The signaling state machine, driven with a manual clock and no sockets.
struct RoomRegistryTests {
    static func at(_ seconds: UInt64) -> Instant { Instant(monotonicNanos: seconds * 1_000_000_000, unixSeconds: 1_700_000_000 + Int64(seconds)) }

    static func token(_ identity: String, room: String = "r1", admin: Bool = false, publish: Bool = true) -> AccessToken {
        AccessToken(identity: identity, name: identity.uppercased(), room: room,
                    grants: Grants(publish: publish, subscribe: true, admin: admin), notBefore: 0, expires: .max)
    }

    static func messages(_ out: [SignalOutput], to session: SessionID) -> [[String: Any]] {
        out.compactMap { o in
            guard case .send(let s, let text) = o, s == session else { return nil }
            return try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        }
    }

    static func types(_ out: [SignalOutput], to session: SessionID) -> [String] {
        messages(out, to: session).compactMap { $0["type"] as? String }
    }

    /// Joining creates the room; the second participant sees the first in its room state and the
    /// first is told about the second; a participant in another room sees neither.
    @Test func joinAndSeeEachOther() {
        var r = RoomRegistry()
        let a = r.join(session: 1, token: Self.token("alice"), now: Self.at(0))
        #expect(Self.types(a, to: 1) == ["joined"])
        let b = r.join(session: 2, token: Self.token("bob"), now: Self.at(1))
        let joined = Self.messages(b, to: 2)[0]
        #expect((joined["participants"] as? [[String: Any]])?.map { $0["identity"] as? String } == ["alice"])
        #expect((joined["participant"] as? [String: Any])?["name"] as? String == "BOB")
        #expect(Self.types(b, to: 1) == ["participant_joined"])
        let c = r.join(session: 3, token: Self.token("carol", room: "r2"), now: Self.at(2))
        #expect(Self.types(c, to: 1).isEmpty && Self.types(c, to: 2).isEmpty)
        #expect((Self.messages(c, to: 3)[0]["participants"] as? [Any])?.isEmpty == true)
        #expect(r.rooms.count == 2 && r.participantCount == 3)
    }

    /// Metadata updates are acknowledged with the request id and broadcast to the room.
    @Test func metadataUpdate() {
        var r = RoomRegistry()
        _ = r.join(session: 1, token: Self.token("alice"), now: Self.at(0))
        _ = r.join(session: 2, token: Self.token("bob"), now: Self.at(0))
        let out = r.receive(session: 1, text: #"{"type":"update_metadata","id":"7","metadata":"{\"hand\":true}"}"#, now: Self.at(1))
        let ack = Self.messages(out, to: 1).first { $0["type"] as? String == "ok" }
        #expect(ack?["id"] as? String == "7")
        let update = Self.messages(out, to: 2).first
        #expect(update?["type"] as? String == "participant_updated")
        #expect((update?["participant"] as? [String: Any])?["metadata"] as? String == "{\"hand\":true}")
    }

    /// Leaving tells the others; the room closes after its empty timeout, not before.
    @Test func leaveAndEmptyTimeout() {
        var r = RoomRegistry()
        _ = r.join(session: 1, token: Self.token("alice"), now: Self.at(0))
        _ = r.join(session: 2, token: Self.token("bob"), now: Self.at(0))
        let out = r.receive(session: 2, text: #"{"type":"leave"}"#, now: Self.at(5))
        #expect(Self.types(out, to: 2) == ["ok", "leave"])
        #expect(out.contains(.close(2, code: 1000, reason: "left")))
        let left = Self.messages(out, to: 1)[0]
        #expect(left["type"] as? String == "participant_left" && left["identity"] as? String == "bob" && left["reason"] as? String == "left")
        _ = r.disconnected(session: 1, now: Self.at(6))
        _ = r.tick(now: Self.at(25))
        #expect(r.rooms["r1"] != nil)
        _ = r.tick(now: Self.at(26))
        #expect(r.rooms["r1"] == nil)
    }

    /// An admin kicks a participant, who gets a reason and is closed; a non-admin cannot.
    @Test func kick() {
        var r = RoomRegistry()
        _ = r.join(session: 1, token: Self.token("admin", admin: true), now: Self.at(0))
        _ = r.join(session: 2, token: Self.token("bob"), now: Self.at(0))
        let denied = r.receive(session: 2, text: #"{"type":"kick","id":"k","identity":"admin"}"#, now: Self.at(1))
        #expect(Self.messages(denied, to: 2).first?["code"] as? String == "permission_denied")
        let out = r.receive(session: 1, text: #"{"type":"kick","identity":"bob","reason":"disruptive"}"#, now: Self.at(1))
        let leave = Self.messages(out, to: 2).first
        #expect(leave?["type"] as? String == "leave" && leave?["reason"] as? String == "kicked: disruptive")
        #expect(out.contains(.close(2, code: 1000, reason: "kicked: disruptive")))
        #expect(r.participantCount == 1)
    }

    /// Reconnecting with the same identity replaces the old session without a leave/join pair.
    @Test func reconnectReplacesSession() {
        var r = RoomRegistry()
        _ = r.join(session: 1, token: Self.token("alice"), now: Self.at(0))
        _ = r.join(session: 2, token: Self.token("bob"), now: Self.at(0))
        let out = r.receive(session: 1, text: #"{"type":"update_metadata","metadata":"m"}"#, now: Self.at(1))
        #expect(!out.isEmpty)
        let again = r.join(session: 3, token: Self.token("alice"), now: Self.at(2))
        #expect(again.contains(.close(1, code: 1000, reason: "replaced by a new session")))
        #expect(Self.types(again, to: 2) == ["participant_updated"])
        #expect((Self.messages(again, to: 3)[0]["participant"] as? [String: Any])?["metadata"] as? String == "m")
        #expect(r.participantCount == 2)
        #expect(r.disconnected(session: 1, now: Self.at(3)).isEmpty)  // the old socket closing is a no-op
    }

    /// Bad messages get typed errors; media requests check grants before anything else.
    @Test func errors() {
        var r = RoomRegistry()
        _ = r.join(session: 1, token: Self.token("viewer", publish: false), now: Self.at(0))
        for (text, code) in [("not json", "invalid_json"), (#"{"type":"dance"}"#, "unknown_type"), (#"{"id":5,"type":"ping"}"#, "invalid_message"),
                             (#"{"type":"mute","track":"TR_x","muted":1}"#, "invalid_message"), (#"{"type":"mute","track":"TR_x","muted":true}"#, "track_not_found"),
                             (#"{"type":"offer","target":"publisher","sdp":"v=0"}"#, "permission_denied"),
                             (#"{"type":"offer","target":"subscriber","sdp":"v=0"}"#, "invalid_message"),
                             (#"{"type":"answer","target":"publisher","sdp":"v=0"}"#, "invalid_message")] {
            let out = r.receive(session: 1, text: text, now: Self.at(1))
            #expect(Self.messages(out, to: 1).first?["code"] as? String == code, "\(text)")
        }
        // A publisher offer with the grant goes to the media plane.
        var publisher = RoomRegistry()
        _ = publisher.join(session: 2, token: Self.token("cam"), now: Self.at(0))
        let media = publisher.receive(session: 2, text: #"{"type":"offer","id":"o","target":"publisher","sdp":"v=0"}"#, now: Self.at(1))
        #expect(media == [.media(2, .offer(id: "o", target: .publisher, sdp: "v=0"))])
        let pong = Self.messages(r.receive(session: 1, text: #"{"type":"ping","id":"p"}"#, now: Self.at(1)), to: 1)[0]
        #expect(pong["type"] as? String == "pong" && pong["id"] as? String == "p")
    }

    /// REST: rooms created with options; full rooms refuse joins; deletion disconnects everyone.
    @Test func restOperations() throws {
        var r = RoomRegistry()
        let room = try r.createRoom(name: "briefing", maxParticipants: 1, emptyTimeout: 60, metadata: "", now: Self.at(0))
        #expect(room.maxParticipants == 1)
        #expect(throws: RoomRegistry.RoomError.exists) { try r.createRoom(name: "briefing", maxParticipants: 0, emptyTimeout: nil, metadata: "", now: Self.at(0)) }
        #expect(throws: RoomRegistry.RoomError.self) { try r.createRoom(name: "a/b", maxParticipants: 0, emptyTimeout: nil, metadata: "", now: Self.at(0)) }
        _ = r.join(session: 1, token: Self.token("a", room: "briefing"), now: Self.at(1))
        let full = r.join(session: 2, token: Self.token("b", room: "briefing"), now: Self.at(1))
        #expect(Self.messages(full, to: 2).first?["code"] as? String == "room_full")
        #expect(full.contains(.close(2, code: 1008, reason: "room full")))
        #expect(r.roomsPage(limit: 10, after: nil, metadata: false).rooms.count == 1 && (r.roomJSON("briefing")?["participants"] as? [Any])?.count == 1)
        let out = try r.deleteRoom("briefing", now: Self.at(2))
        #expect(out.contains(.close(1, code: 1000, reason: "room deleted")))
        #expect(r.rooms.isEmpty)
        #expect(throws: RoomRegistry.RoomError.notFound) { try r.deleteRoom("briefing", now: Self.at(2)) }
        // A REST-created room that nobody joins still closes after its timeout.
        _ = try r.createRoom(name: "later", maxParticipants: 0, emptyTimeout: 10, metadata: "", now: Self.at(100))
        _ = r.tick(now: Self.at(109))
        #expect(r.rooms["later"] != nil)
        _ = r.tick(now: Self.at(110))
        #expect(r.rooms["later"] == nil)
    }

    /// A viewer (no publish grant) is announced on the next tick, to the stage members who joined
    /// before it; several viewers joining between ticks reach each of them together.
    @Test func viewerJoinsAreAnnouncedOnTheNextTick() {
        var r = RoomRegistry()
        _ = r.join(session: 1, token: Self.token("host"), now: Self.at(0))
        let v1 = r.join(session: 2, token: Self.token("v1", publish: false), now: Self.at(1))
        let v2 = r.join(session: 3, token: Self.token("v2", publish: false), now: Self.at(1))
        #expect(Self.types(v1, to: 1).isEmpty && Self.types(v2, to: 1).isEmpty && Self.types(v2, to: 2).isEmpty)
        let tick = r.tick(now: Self.at(2))
        #expect(Self.messages(tick, to: 1).compactMap { ($0["participant"] as? [String: Any])?["identity"] as? String } == ["v1", "v2"])
        #expect(Self.types(tick, to: 2).isEmpty && Self.types(tick, to: 3).isEmpty)
        #expect(Self.types(r.tick(now: Self.at(3)), to: 1).isEmpty)  // announced once
    }

    static func listed(_ out: [SignalOutput], to session: SessionID) -> [String]? {
        (messages(out, to: session).first { $0["type"] as? String == "joined" }?["participants"] as? [[String: Any]])?
            .compactMap { $0["identity"] as? String }
    }

    /// Who sees whom: the stage (publish or admin grant) is listed to everyone and sees everyone;
    /// audience members are listed to, and announced to, the stage only; everyone hears of the
    /// stage. The room's count still counts everyone.
    @Test func theAudienceSeesTheStageAndTheStageSeesEveryone() {
        var r = RoomRegistry()
        _ = r.join(session: 1, token: Self.token("host"), now: Self.at(0))
        _ = r.join(session: 2, token: Self.token("v1", publish: false), now: Self.at(0))
        let v2 = r.join(session: 3, token: Self.token("v2", publish: false), now: Self.at(0))
        #expect(Self.listed(v2, to: 3) == ["host"])
        #expect((Self.messages(v2, to: 3)[0]["room"] as? [String: Any])?["numParticipants"] as? Int == 3)
        _ = r.tick(now: Self.at(1))
        let moderator = r.join(session: 4, token: Self.token("mod", admin: true, publish: false), now: Self.at(1))
        #expect(Self.listed(moderator, to: 4) == ["host", "v1", "v2"])
        // The moderator is on the stage: announced at once, to all.
        #expect(Self.types(moderator, to: 1) == ["participant_joined"])
        #expect(Self.types(moderator, to: 2) == ["participant_joined"] && Self.types(moderator, to: 3) == ["participant_joined"])
        let speaker = r.join(session: 5, token: Self.token("speaker"), now: Self.at(1))
        #expect(Self.listed(speaker, to: 5) == ["host", "v1", "v2", "mod"])
        #expect(Self.types(speaker, to: 2) == ["participant_joined"])
        // An audience member's update and departure reach the stage (and the member itself) only.
        let update = r.receive(session: 2, text: #"{"type":"update_metadata","name":"Viewer One"}"#, now: Self.at(2))
        #expect(Self.types(update, to: 1) == ["participant_updated"] && Self.types(update, to: 4) == ["participant_updated"])
        #expect(Self.types(update, to: 2).contains("participant_updated") && Self.types(update, to: 3).isEmpty)
        // Written when asked for (an audience entry keeps no serialised copy): the new name.
        #expect((Self.messages(update, to: 1).first?["participant"] as? [String: Any])?["name"] as? String == "Viewer One")
        let gone = r.disconnected(session: 2, now: Self.at(3))
        #expect(Self.types(gone, to: 1) == ["participant_left"] && Self.types(gone, to: 5) == ["participant_left"])
        #expect(Self.types(gone, to: 3).isEmpty)
        // The stage's updates reach the audience.
        let hostUpdate = r.receive(session: 1, text: #"{"type":"update_metadata","metadata":"live"}"#, now: Self.at(3))
        #expect(Self.types(hostUpdate, to: 3) == ["participant_updated"])
    }

    /// A viewer who rejoins with the publish grant (same identity) steps onto the stage: those who
    /// saw it hear of an update, the rest of the audience of a join; stepping back down tells the
    /// audience it left.
    @Test func rejoiningWithOtherGrantsMovesBetweenStageAndAudience() {
        var r = RoomRegistry()
        _ = r.join(session: 1, token: Self.token("host"), now: Self.at(0))
        _ = r.join(session: 2, token: Self.token("v1", publish: false), now: Self.at(0))
        _ = r.join(session: 3, token: Self.token("v2", publish: false), now: Self.at(0))
        _ = r.tick(now: Self.at(1))
        let up = r.join(session: 4, token: Self.token("v1"), now: Self.at(2))
        #expect(Self.types(up, to: 1) == ["participant_updated"])
        #expect(Self.types(up, to: 3) == ["participant_joined"])
        #expect(Self.types(up, to: 2) == ["leave"])
        #expect(Self.listed(up, to: 4) == ["host", "v2"])
        let down = r.join(session: 5, token: Self.token("v1", publish: false), now: Self.at(3))
        #expect(Self.types(down, to: 1) == ["participant_updated"])
        #expect(Self.types(down, to: 3) == ["participant_left"])
        #expect(Self.listed(down, to: 5) == ["host"])
    }

    /// Any other notice about a viewer not yet announced is preceded by its join, so nobody hears
    /// of an update or a departure of someone it was never told had joined.
    @Test func aPendingJoinIsAnnouncedBeforeAnyOtherNotice() {
        var r = RoomRegistry()
        _ = r.join(session: 1, token: Self.token("host"), now: Self.at(0))
        _ = r.join(session: 2, token: Self.token("v1", publish: false), now: Self.at(1))
        let update = r.receive(session: 2, text: #"{"type":"update_metadata","metadata":"hand"}"#, now: Self.at(1))
        #expect(Self.types(update, to: 1) == ["participant_joined", "participant_updated"])
        _ = r.join(session: 3, token: Self.token("v2", publish: false), now: Self.at(1))
        let gone = r.disconnected(session: 3, now: Self.at(1))
        #expect(Self.types(gone, to: 1) == ["participant_joined", "participant_left"])
        #expect(Self.types(r.tick(now: Self.at(2)), to: 1).isEmpty)
    }
}

/// Limits the abuse test found missing (issue 16): the room list is paginated and leaves
/// metadata out, metadata is bounded per room and per server and free of hidden characters,
/// and a flood of messages closes its session.
struct RoomRegistryLimitTests {
    static let at = RoomRegistryTests.at

    @Test func theRoomListIsPaginatedWithoutMetadata() throws {
        var r = RoomRegistry()
        for i in 0..<25 { _ = try r.createRoom(name: String(format: "room-%02d", i), maxParticipants: 0, emptyTimeout: 600, metadata: "m\(i)", now: Self.at(0)) }
        var seen: [String] = []
        var after: String? = nil
        repeat {
            let page = r.roomsPage(limit: 10, after: after, metadata: false)
            #expect(page.rooms.count <= 10 && page.rooms.allSatisfy { $0["metadata"] == nil })
            seen += page.rooms.compactMap { $0["name"] as? String }
            after = page.next
        } while after != nil
        #expect(seen == (0..<25).map { String(format: "room-%02d", $0) })
        #expect(r.roomsPage(limit: 1, after: nil, metadata: true).rooms.first?["metadata"] as? String == "m0")
        #expect(r.roomsPage(limit: 5, after: "room-22", metadata: false).next == nil)
        #expect(r.roomsPage(limit: 5, after: nil, metadata: false, include: { $0 == "room-07" }).rooms.count == 1)
    }

    @Test func metadataIsBoundedPerRoomAndPerServer() throws {
        var options = RoomRegistry.Options()
        options.maxRoomMetadataBytes = 100
        options.maxTotalMetadataBytes = 150
        var r = RoomRegistry(options: options)
        _ = try r.createRoom(name: "a", maxParticipants: 0, emptyTimeout: 600, metadata: String(repeating: "x", count: 60), now: Self.at(0))
        _ = r.join(session: 1, token: RoomRegistryTests.token("alice", room: "a"), now: Self.at(0))
        let big = #"{"type":"update_metadata","metadata":""# + String(repeating: "y", count: 50) + #""}"#
        #expect(RoomRegistryTests.messages(r.receive(session: 1, text: big, now: Self.at(1)), to: 1).first?["code"] as? String == "metadata_limit")
        let small = #"{"type":"update_metadata","metadata":""# + String(repeating: "y", count: 40) + #""}"#
        #expect(RoomRegistryTests.types(r.receive(session: 1, text: small, now: Self.at(1)), to: 1).first == "ok")
        #expect(r.totalMetadataBytes == 100)
        #expect(throws: RoomRegistry.RoomError.metadataLimit) { try r.createRoom(name: "b", maxParticipants: 0, emptyTimeout: 600, metadata: String(repeating: "z", count: 51), now: Self.at(1)) }
        // Leaving gives the participant's share back; deleting the room the rest.
        _ = r.disconnected(session: 1, now: Self.at(2))
        #expect(r.totalMetadataBytes == 60)
        _ = try r.deleteRoom("a", now: Self.at(3))
        #expect(r.totalMetadataBytes == 0)
    }

    @Test func hiddenCharactersAndBadNamesAreRefused() throws {
        var r = RoomRegistry()
        #expect(throws: RoomRegistry.RoomError.invalid("metadata has the hidden character U+202E at character 3")) {
            try r.createRoom(name: "a", maxParticipants: 0, emptyTimeout: 60, metadata: "ok\u{202E}", now: Self.at(0))
        }
        #expect(throws: RoomRegistry.RoomError.invalid(#"the room name has "/" (U+002F) at character 2 (letters, digits and - _ . @ : + ~ only)"#)) {
            try r.createRoom(name: "a/b", maxParticipants: 0, emptyTimeout: 60, metadata: "", now: Self.at(0))
        }
        _ = r.join(session: 1, token: RoomRegistryTests.token("alice", room: "a"), now: Self.at(0))
        let out = r.receive(session: 1, text: #"{"type":"update_metadata","metadata":"a\u0007","name":"Al\u202Eice"}"#, now: Self.at(1))
        #expect(RoomRegistryTests.messages(out, to: 1).first?["code"] as? String == "invalid_metadata")
        let renamed = r.receive(session: 1, text: #"{"type":"update_metadata","name":" Al\u202Eice\n"}"#, now: Self.at(1))
        #expect(RoomRegistryTests.types(renamed, to: 1).first == "ok" && r.participant(session: 1)?.participant.name == "Alice")
    }

    /// Past its burst a session gets one `rate_limited` error and a 1008 close, and nothing
    /// for what it sends after (issue 16, finding 11: 20,000 messages were all answered).
    @Test func aMessageFloodClosesTheSession() {
        var options = RoomRegistry.Options()
        options.messageRate = 10
        options.messageBurst = 20
        var r = RoomRegistry(options: options)
        _ = r.join(session: 1, token: RoomRegistryTests.token("alice"), now: Self.at(0))
        var answered = 0, closes: [SignalOutput] = []
        for _ in 0..<20_000 {
            for o in r.receive(session: 1, text: #"{"type":"nonsense"}"#, now: Self.at(1)) {
                if case .close = o { closes.append(o) } else { answered += 1 }
            }
        }
        #expect(answered == 21)  // 20 unknown_type errors, then rate_limited
        #expect(closes == [.close(1, code: 1008, reason: "message rate limit")])
    }
}
