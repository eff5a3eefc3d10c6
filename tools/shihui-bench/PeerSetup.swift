import MediaCrypto
import MediaWire

/// What every joiner does around its own signaling: give a publisher endpoint its synthetic
/// streams and the offer that announces them, and build the peer connection from the server's SDP.
extension Endpoint {
    /// Adds VP8 (when `video`) and Opus streams shaped by `shape`; returns their send sections.
    func addSyntheticStreams(video: Bool, shape: VideoShape) -> [ClientSDP.Section] {
        var sections: [ClientSDP.Section] = []
        let base = UInt32.random(in: 1...0x7FFF_FFFF)
        if video {
            sections.append(.init(kind: "video", mid: "0", direction: "sendonly", ssrc: base, payloadType: ClientSDP.videoPT))
            streams.append(.video(ssrc: base, mid: UInt8(ascii: "0"), bitrate: shape.bitrate, fps: shape.fps,
                                  packetSize: shape.packetSize, keyframeSeconds: shape.keyframeSeconds))
            pacingBitsPerSecond = Int(shape.pacing * Double(shape.bitrate))
        }
        let audioMid = String(sections.count)
        sections.append(.init(kind: "audio", mid: audioMid, direction: "sendonly", ssrc: base &+ 1, payloadType: ClientSDP.audioPT))
        streams.append(.audio(ssrc: base &+ 1, mid: audioMid.utf8.first!, ptime: shape.audioPtime))
        return sections
    }

    /// Our SDP for `sections`, with this endpoint's host candidate.
    func description(_ sections: [ClientSDP.Section], credentials: (ufrag: String, password: String),
                     context: DTLSContext, setup: String) -> String {
        ClientSDP.description(sections: sections, ufrag: credentials.ufrag, password: credentials.password,
                              fingerprint: context.certificate.fingerprint, setup: setup, candidate: localAddress)
    }

    /// The peer connection toward the server, from its SDP (candidate, credentials, fingerprint, role).
    func connect(remoteSDP: String, credentials: (ufrag: String, password: String), context: DTLSContext) throws {
        connect(remote: try ClientSDP.parse(remoteSDP), credentials: credentials, context: context)
    }

    /// The peer connection toward the server, from its SDP already parsed.
    func connect(remote: ClientSDP.Remote, credentials: (ufrag: String, password: String), context: DTLSContext) {
        self.remote = remote.candidate
        peer = ClientPeer(local: credentials, remote: remote.candidate, remoteUfrag: remote.ufrag, remotePassword: remote.password,
                          remoteFingerprint: remote.fingerprint, dtlsRole: remote.dtlsRole, context: context)
    }
}
