import Foundation
import MediaCrypto
import MediaWire

/// Joins a Janus VideoRoom (janus.plugin.videoroom, Janus 1.1) through Janus's HTTP JSON API,
/// the way janus.js does: one session, a plugin handle per peer connection; publishers send
/// `joinandconfigure` with our offer and get Janus's answer as an asynchronous event; each
/// viewer handle sends `join` as a subscriber to one feed (or to all the room's other feeds, as
/// one multistream connection), answers Janus's offer with `start`.
/// Events are read by long-polling `GET /janus/{session}`.
/// @unchecked Sendable: its session state is used from one signaling thread only (BenchRun).
final class JanusSignaling: Joiner, @unchecked Sendable {
    let http: TransportAddress
    let context: DTLSContext
    let shape: VideoShape
    private var session: Int64 = 0
    private var rooms: [String: Int64] = [:]
    private var feeds: [String: Int64] = [:]  // "room/identity" → publisher id
    private var pendingEvents: [[String: Any]] = []
    private var transactions = 0

    init(http: TransportAddress, context: DTLSContext, shape: VideoShape, publishers: Int) throws {
        self.http = http
        self.context = context
        self.shape = shape
        session = try int64(call("/janus", ["janus": "create"])["data"], "id")
    }

    func publish(_ e: Endpoint, _ p: Topology.Publisher) throws {
        let handle = try attach()
        let room = try roomID(p.room, handle: handle)
        let credentials = ClientPeer.randomCredentials()
        let offer = e.description(e.addSyntheticStreams(video: p.video, shape: shape), credentials: credentials, context: context, setup: "actpass")
        let event = try message(handle, ["request": "joinandconfigure", "room": room, "ptype": "publisher", "display": p.identity,
                                         "audio": true, "video": p.video], jsep: ["type": "offer", "sdp": offer])
        let data = (event["plugindata"] as? [String: Any])?["data"] as? [String: Any]
        feeds["\(p.room)/\(p.identity)"] = try int64(data, "id")
        guard let sdp = (event["jsep"] as? [String: Any])?["sdp"] as? String else { throw BenchError("janus: no answer in \(event)") }
        try e.connect(remoteSDP: sdp, credentials: credentials, context: context)
    }

    /// One feed, or (`publisher` `*`) every other feed of the room on one multistream
    /// subscriber connection (VideoRoom 1.x `streams`).
    func view(_ e: Endpoint, _ v: Topology.Viewer) throws {
        guard let room = rooms[v.room] else { throw BenchError("janus: unknown room \(v.room)") }
        var join: [String: Any] = ["request": "join", "room": room, "ptype": "subscriber"]
        if v.publisher == Topology.everyone {
            let others = feeds.filter { $0.key.hasPrefix("\(v.room)/") && $0.key != "\(v.room)/\(v.viewer)" }.sorted { $0.key < $1.key }
            join["streams"] = others.map { ["feed": $0.value] }
        } else {
            guard let feed = feeds["\(v.room)/\(v.publisher)"] else { throw BenchError("janus: unknown feed \(v.publisher)") }
            join["feed"] = feed
        }
        let handle = try attach()
        let event = try message(handle, join, jsep: nil)
        guard let offer = (event["jsep"] as? [String: Any])?["sdp"] as? String else { throw BenchError("janus: no offer in \(event)") }
        let remote = try ClientSDP.parse(offer)
        let credentials = ClientPeer.randomCredentials()
        let sections = remote.sections.compactMap { s -> ClientSDP.Section? in
            guard let pt = s.payloadType, s.kind == "video" || s.kind == "audio", s.direction != "rejected" else { return nil }
            return ClientSDP.Section(kind: s.kind, mid: s.mid, direction: "recvonly", payloadType: pt)
        }
        let answer = e.description(sections, credentials: credentials, context: context, setup: "active")
        _ = try message(handle, ["request": "start", "room": room], jsep: ["type": "answer", "sdp": answer])
        try e.connect(remoteSDP: offer, credentials: credentials, context: context)
    }

    // MARK: JSON API

    private func attach() throws -> Int64 {
        try int64(call("/janus/\(session)", ["janus": "attach", "plugin": "janus.plugin.videoroom"])["data"], "id")
    }

    private func roomID(_ name: String, handle: Int64) throws -> Int64 {
        if let r = rooms[name] { return r }
        let id = Int64(1000 + rooms.count)
        let reply = try call("/janus/\(session)/\(handle)", ["janus": "message", "body": [
            "request": "create", "room": id, "publishers": 1000, "bitrate": 0, "fir_freq": 0,
            "videocodec": "vp8", "audiocodec": "opus", "notify_joining": false,
        ] as [String: Any]])
        let data = (reply["plugindata"] as? [String: Any])?["data"] as? [String: Any]
        guard data?["videoroom"] as? String == "created" else { throw BenchError("janus: room not created: \(reply)") }
        rooms[name] = id
        return id
    }

    /// A plugin message: the synchronous reply is an ack; the result is the event with the same
    /// transaction, read from the session's event stream.
    private func message(_ handle: Int64, _ body: [String: Any], jsep: [String: Any]?) throws -> [String: Any] {
        var request: [String: Any] = ["janus": "message", "body": body]
        if let jsep { request["jsep"] = jsep }
        let (reply, transaction) = try callWithTransaction("/janus/\(session)/\(handle)", request)
        if reply["janus"] as? String == "event" { return reply }
        guard reply["janus"] as? String == "ack" else { throw BenchError("janus: \(reply)") }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let i = pendingEvents.firstIndex(where: { $0["transaction"] as? String == transaction }) {
                let event = pendingEvents.remove(at: i)
                let data = (event["plugindata"] as? [String: Any])?["data"] as? [String: Any]
                if let error = data?["error"] { throw BenchError("janus: \(error)") }
                return event
            }
            let r = try HTTPClient.request("GET", http, "/janus/\(session)?maxev=10")
            let parsed = try JSONSerialization.jsonObject(with: Data(r.body))
            pendingEvents += (parsed as? [[String: Any]]) ?? [(parsed as? [String: Any]) ?? [:]]
        }
        throw BenchError("janus: no event for transaction \(transaction)")
    }

    private func call(_ path: String, _ body: [String: Any]) throws -> [String: Any] { try callWithTransaction(path, body).0 }

    private func callWithTransaction(_ path: String, _ body: [String: Any]) throws -> ([String: Any], String) {
        transactions += 1
        let transaction = "t\(transactions)"
        var b = body
        b["transaction"] = transaction
        let r = try HTTPClient.request("POST", http, path, headers: [("Content-Type", "application/json")],
                                       body: Array(try JSONSerialization.data(withJSONObject: b)))
        guard r.status == 200, let reply = try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any] else {
            throw BenchError("janus \(path): HTTP \(r.status) \(r.text)")
        }
        if reply["janus"] as? String == "error" { throw BenchError("janus \(path): \(reply)") }
        return (reply, transaction)
    }

    private func int64(_ object: Any?, _ key: String) throws -> Int64 {
        guard let n = (object as? [String: Any])?[key] as? NSNumber else { throw BenchError("janus: no \(key) in \(String(describing: object))") }
        return n.int64Value
    }
}
