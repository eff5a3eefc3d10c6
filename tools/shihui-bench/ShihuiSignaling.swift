import Glibc
import MediaCrypto
import MediaWire
import Signaling

/// Joins Shihui rooms the way encoders and viewers do: WHIP to publish, WHEP to view one
/// participant's tracks (RFC 9725), with HS256 tokens minted from the server's secret.
struct ShihuiSignaling: Sendable {
    let http: TransportAddress
    let secret: [UInt8]
    let context: DTLSContext
    let shape: VideoShape

    func token(room: String, identity: String, publish: Bool) -> String {
        let now = Int64(ProcessClock.unixSeconds())
        return AccessToken(identity: identity, room: room, grants: Grants(publish: publish, subscribe: !publish),
                           notBefore: now - 10, expires: now + 3600).signed(secret: secret)
    }

    /// Publishes VP8 + Opus (or Opus only) as `identity` in `room`.
    func publish(_ e: Endpoint, room: String, identity: String, video: Bool) throws {
        let credentials = ClientPeer.randomCredentials()
        let offer = e.description(e.addSyntheticStreams(video: video, shape: shape), credentials: credentials, context: context, setup: "actpass")
        let answer = try post("/whip/\(room)", offer, token: token(room: room, identity: identity, publish: true))
        try e.connect(remoteSDP: answer, credentials: credentials, context: context)
    }

    /// Views `identity`'s tracks in `room`.
    func view(_ e: Endpoint, room: String, identity: String, viewer: String, video: Bool) throws {
        let credentials = ClientPeer.randomCredentials()
        var sections: [ClientSDP.Section] = []
        if video { sections.append(.init(kind: "video", mid: "0", direction: "recvonly", payloadType: ClientSDP.videoPT)) }
        sections.append(.init(kind: "audio", mid: String(sections.count), direction: "recvonly", payloadType: ClientSDP.audioPT))
        let offer = e.description(sections, credentials: credentials, context: context, setup: "actpass")
        let answer = try post("/whep/\(room)/\(identity)", offer, token: token(room: room, identity: viewer, publish: false))
        try e.connect(remoteSDP: answer, credentials: credentials, context: context)
    }

    private func post(_ path: String, _ sdp: String, token: String) throws -> String {
        let r = try HTTPClient.request("POST", http, path, headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/sdp")],
                                       body: Array(sdp.utf8))
        guard r.status == 201 else { throw BenchError("POST \(path): \(r.status) \(r.text)") }
        return r.text
    }
}

/// The shape of the synthetic video a publisher sends.
struct VideoShape: Sendable {
    var bitrate: Int
    var fps: Int
    var packetSize: Int
    var keyframeSeconds: Int
    /// Opus packet interval in ms.
    var audioPtime = 20
    /// Video leaves at `pacing` × `bitrate`, a packet at a time, as libwebrtc's pacer sends it
    /// (its default multiplier is 2.5); 0 sends each frame as one burst.
    var pacing = 2.5
}

enum ProcessClock {
    static func unixSeconds() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return ts.tv_sec
    }
}
