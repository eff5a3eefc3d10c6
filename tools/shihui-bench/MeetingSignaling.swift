import Foundation
import MediaCrypto
import MediaWire
import Signaling

/// Joins Shihui rooms through its own meeting protocol, the WebSocket at `/rtc`
/// (docs/signaling.md §2–§4), as the web client does: each participant holds one signaling socket,
/// publishes on a publisher peer connection (our offer, the server's answer) and receives every
/// other participant's tracks on one subscriber connection, which the server offers and re-offers
/// as tracks come; we answer recvonly with DTLS `active`, as browsers answer `actpass`.
///
/// Threads: `publish` runs on the connect thread, `view` on the signaling workers (each
/// participant is viewed by one worker), then `signalingDone` hands every socket to one
/// keep-alive thread that answers pings and any later re-offer. A participant's state is only
/// touched under its lock, the table under `lock`: hence `@unchecked Sendable`.
final class MeetingSignaling: Joiner, @unchecked Sendable {
    let http: TransportAddress
    let secret: [UInt8]
    let context: DTLSContext
    let shape: VideoShape
    private let lock = Lock()
    private var participants: [String: Participant] = [:]  // "room/identity"
    private var keepAlive: Thread?

    init(http: TransportAddress, secret: [UInt8], context: DTLSContext, shape: VideoShape) {
        self.http = http
        self.secret = secret
        self.context = context
        self.shape = shape
    }

    /// One participant's signaling socket and subscriber connection.
    final class Participant: @unchecked Sendable {
        let name: String
        let ws: WebSocketClient
        let lock = Lock()
        /// The server's subscriber offer not answered yet (it sends the next only after our answer).
        var pendingOffer: String?
        var subscriber: Endpoint?
        let credentials = ClientPeer.randomCredentials()
        /// Tracks (sections carrying an SSRC) in the last offer we answered.
        var answeredTracks = 0

        init(name: String, ws: WebSocketClient) {
            self.name = name
            self.ws = ws
        }
    }

    // MARK: Joiner

    func publish(_ e: Endpoint, _ p: Topology.Publisher) throws {
        let part = try participant(room: p.room, identity: p.identity, publish: true, subscribe: p.subscribes)
        try part.lock.locked {
            let offer = e.description(e.addSyntheticStreams(video: p.video, shape: shape), credentials: part.credentials,
                                      context: context, setup: "actpass")
            try part.ws.send(text: Self.json(["type": "offer", "target": "publisher", "id": "publish", "sdp": offer]))
            let answer = try next(part, deadline: Date().addingTimeInterval(30)) { m in
                m["type"]?.string == "answer" && m["target"]?.string == "publisher" ? m["sdp"]?.string : nil
            }
            try e.connect(remoteSDP: answer, credentials: part.credentials, context: context)
        }
    }

    /// Answers the server's subscriber offers until one carries `v.expectedTracks` tracks; the
    /// first offer gives `e` its peer connection.
    func view(_ e: Endpoint, _ v: Topology.Viewer) throws {
        let part = try participant(room: v.room, identity: v.viewer, publish: false, subscribe: true)
        try part.lock.locked {
            let deadline = Date().addingTimeInterval(30)
            while part.answeredTracks < v.expectedTracks {
                let offer = try ClientSDP.parse(part.pendingOffer ?? next(part, deadline: deadline, match: Self.subscriberOffer))
                part.pendingOffer = nil
                if part.subscriber == nil {
                    e.connect(remote: offer, credentials: part.credentials, context: context)
                    part.subscriber = e
                }
                try answer(offer, part)
            }
        }
    }

    /// From now on one thread keeps every socket alive: pongs, and answers to re-offers.
    func signalingDone() {
        let all = lock.locked { Array(participants.values) }
        let t = Thread { [self] in
            while true {
                for part in all {
                    part.lock.locked {
                        try? part.ws.poll(timeoutMilliseconds: 0)
                        while let text = try? part.ws.receive(timeoutMilliseconds: 0) {
                            guard Self.worthParsing(text) else { continue }
                            if let offer = Self.object(text).flatMap(Self.subscriberOffer), part.subscriber != nil,
                               let remote = try? ClientSDP.parse(offer) { try? answer(remote, part) }
                        }
                    }
                }
                usleep(100_000)
            }
        }
        t.name = "bench-signaling"
        keepAlive = t
        t.start()
    }

    // MARK: Protocol

    private func participant(room: String, identity: String, publish: Bool, subscribe: Bool) throws -> Participant {
        let key = "\(room)/\(identity)"
        if let p = lock.locked({ participants[key] }) { return p }
        let now = Int64(ProcessClock.unixSeconds())
        let token = AccessToken(identity: identity, room: room, grants: Grants(publish: publish, subscribe: subscribe),
                                notBefore: now - 10, expires: now + 3600).signed(secret: secret)
        let part = Participant(name: key, ws: try WebSocketClient(http, path: "/rtc?access_token=\(token)"))
        _ = try next(part, deadline: Date().addingTimeInterval(30), untilJoined: true) { _ in nil }
        lock.locked { participants[key] = part }
        return part
    }

    /// Our answer to a subscriber offer: every section received (recvonly), removed ones inactive.
    private func answer(_ remote: ClientSDP.Remote, _ part: Participant) throws {
        let sections = remote.sections.map { s in
            ClientSDP.Section(kind: s.kind, mid: s.mid, direction: s.ssrc == nil || s.direction == "inactive" ? "inactive" : "recvonly",
                              payloadType: s.payloadType ?? (s.kind == "video" ? ClientSDP.videoPT : ClientSDP.audioPT))
        }
        guard let e = part.subscriber else { throw BenchError("\(part.name): subscriber offer before a subscriber connection") }
        let sdp = e.description(sections, credentials: part.credentials, context: context, setup: "active")
        try part.ws.send(text: Self.json(["type": "answer", "target": "subscriber", "sdp": sdp]))
        part.answeredTracks = remote.sections.filter { $0.ssrc != nil && $0.direction != "inactive" }.count
    }

    /// Reads messages until `match` picks one (or, `untilJoined`, until `joined`, which lists
    /// the whole room and is not parsed); a subscriber offer read on the way is kept.
    private func next(_ part: Participant, deadline: Date, untilJoined: Bool = false, match: (JSONValue) -> String?) throws -> String {
        while Date() < deadline {
            guard let text = try part.ws.receive(timeoutMilliseconds: 200) else {
                if part.ws.closed { throw BenchError("\(part.name): signaling socket closed") }
                continue
            }
            if Self.contains(text, Self.joinedNeedle) {
                if untilJoined { return "" }
                continue
            }
            guard Self.worthParsing(text), let m = Self.object(text) else { continue }
            if m["type"]?.string == "error" { throw BenchError("\(part.name): server error \(text)") }
            if let picked = match(m) { return picked }
            if let offer = Self.subscriberOffer(m) { part.pendingOffer = offer }
        }
        throw BenchError("\(part.name): no awaited message within 30 s")
    }

    /// Whether a message can matter to the generator (joined, an offer or answer, an error):
    /// the room's participant notices, O(participants) per join, are skipped unparsed, so that
    /// the generator's CPU goes to media.
    private static func worthParsing(_ text: String) -> Bool {
        needles.contains { contains(text, $0) }
    }

    private static let needles: [[UInt8]] = [#""target":"#, #""type":"error""#].map { Array($0.utf8) }
    private static let joinedNeedle = Array(#""type":"joined""#.utf8)

    private static func contains(_ text: String, _ needle: [UInt8]) -> Bool {
        var t = text
        return t.withUTF8 { HTTPClient.find(needle, in: $0) != nil }
    }

    private static func subscriberOffer(_ m: JSONValue) -> String? {
        m["type"]?.string == "offer" && m["target"]?.string == "subscriber" ? m["sdp"]?.string : nil
    }

    /// A server message, if it is a JSON object.
    private static func object(_ text: String) -> JSONValue? {
        guard let v = try? JSONValue.parse(text), v.object != nil else { return nil }
        return v
    }

    static func json(_ object: [String: Any]) -> String {
        JSONWriter.encode(object)
    }
}
