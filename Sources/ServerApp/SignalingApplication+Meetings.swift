import Foundation
import Glibc
import HTTP
import Ingest
import ServerIO
import MediaSessions
import SFU
import Signaling

/// Meetings over the WebSocket: publisher offers answered, subscriber connections offered and kept in step with the room.
extension SignalingApplication {
    // MARK: Meetings: publisher and subscriber peer connections over the WebSocket

    func reply(_ session: SessionID, _ object: [String: Any]) -> ConnectionAction {
        messagesOut += 1
        return .sendText(session, JSONWriter.encode(object))
    }

    func mediaMessage(session: SessionID, _ message: ClientMessage, now: UInt64) -> [ConnectionAction] {
        guard let media, let (room, participant) = registry.participant(session: session) else {
            return [reply(session, ["type": "error", "code": "media_unavailable", "message": "the media plane is not running", "id": message.id ?? ""])]
        }
        switch message {
        case .offer(let id, _, let sdp, let sources):
            do throws(MediaService.Failure) {
                let hints = sources.compactMapValues(TrackSource.init(rawValue:))
                let published = try media.publish(offer: sdp, publisher: ParticipantKey(room: room.name, identity: participant.identity), session: session, hints: hints)
                let tracks = Self.trackInfos(published.tracks, keeping: participant.tracks)
                var out: [ConnectionAction] = [reply(session, ["type": "answer", "target": "publisher", "sdp": published.answer, "id": id ?? "",
                                                               "tracks": tracks.map(\.json)])]
                out += actions(registry.setTracks(session: session, tracks: tracks))
                for other in room.participants where other.session != session && other.session >= 0 { out += offerSubscriber(other.session) }
                return out
            } catch {
                switch error {
                case .badOffer(let reason, let message):
                    return [reply(session, ["type": "error", "code": "bad_offer", "reason": reason, "message": message, "id": id ?? ""])]
                case .busy(let limit):
                    return [reply(session, ["type": "error", "code": "server_busy", "message": "\(limit) media connections are being set up; offer again shortly", "id": id ?? ""])]
                case .noPublisher, .tooManySessions:
                    return [reply(session, ["type": "error", "code": "bad_offer", "message": "the offer was refused", "id": id ?? ""])]
                }
            }
        case .mute(_, let trackSid, let muted):
            if let source = participant.tracks.first(where: { $0.sid == trackSid }).flatMap({ TrackSource(rawValue: $0.source) }) {
                media.setMuted(publisher: ParticipantKey(room: room.name, identity: participant.identity), source: source, muted: muted)
            }
            return []
        case .answer(let id, _, let sdp):
            switch media.subscriberAnswer(session: session, room: room.name, sdp: sdp) {
            case .failure(let why): return [reply(session, ["type": "error", "code": "bad_answer", "message": why.reason, "id": id ?? ""])]
            case .success(let renegotiate): return renegotiate ? offerSubscriber(session) : []
            }
        default:
            return []
        }
    }

    /// The tracks signaling lists for what a publisher now publishes; a track kept through a
    /// renegotiation keeps its mute state.
    static func trackInfos(_ tracks: [MediaService.Published.Track], keeping old: [TrackInfo]) -> [TrackInfo] {
        tracks.map { t in
            TrackInfo(sid: t.sid, kind: t.kind.rawValue, source: t.source.rawValue, codec: t.codec.encodingName,
                      muted: old.first { $0.sid == t.sid }?.muted ?? false)
        }
    }

    /// A participant left its room by any path: its publisher and subscriber connections end,
    /// and if it published, everyone left in the room is re-offered without its tracks.
    func participantLeft(session: SessionID, room: String) -> [ConnectionAction] {
        // An ingress's participant removed by any path (kicked, room deleted) takes its port along.
        if let ingress, let gone = ingress.ingress(session: session) { ingress.remove(gone.id) }
        guard let media, media.sessionEnded(session) else { return [] }
        var out: [ConnectionAction] = []
        for other in registry.rooms[room]?.participants ?? [] where other.session != session && other.session >= 0 { out += offerSubscriber(other.session) }
        return out
    }

    /// Offers (or re-offers) a participant's subscriber connection when the tracks it should
    /// receive changed.
    func offerSubscriber(_ session: SessionID) -> [ConnectionAction] {
        guard let media, let (room, participant) = registry.participant(session: session), participant.grants.subscribe,
              let offer = media.subscriberOffer(session: session, participant: ParticipantKey(room: room.name, identity: participant.identity)) else { return [] }
        return [reply(session, ["type": "offer", "target": "subscriber", "sdp": offer])]
    }

    /// The media plane reports a transport gone (RFC 7675 consent expired, DTLS refused): its
    /// participant is told, a publisher's tracks leave the room, and subscribers are re-offered.
    func mediaTransportFailed(resource: String, reason: String, now: UInt64) -> [ConnectionAction] {
        guard let media, let failed = media.transportFailed(resource: resource) else { return [] }
        switch failed {
        case .publisher(let r):
            var out: [ConnectionAction] = []
            if r.session >= 0 {
                out.append(reply(r.session, ["type": "error", "code": "media_failed", "message": "publisher connection closed: \(reason)"]))
                out += actions(registry.setTracks(session: r.session, tracks: []))
            } else {
                out += actions(registry.disconnected(session: r.session, now: instant(now)))  // a WHIP publisher leaves
            }
            for other in registry.rooms[r.owner.room]?.participants ?? [] where other.session >= 0 && other.session != r.session {
                out += offerSubscriber(other.session)
            }
            return out
        case .viewer:
            return []
        case .subscriber(let session):
            return [reply(session, ["type": "error", "code": "media_failed", "message": "subscriber connection closed: \(reason)"])]
        }
    }
}
