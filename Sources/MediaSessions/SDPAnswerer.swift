import MediaCrypto
import MediaWire
import SFU

/// Builds our SDP answer to a peer's offer (JSEP, RFC 8829 §5.3) for one peer connection, and
/// reports what was negotiated per m-section for the media graph.
///
/// Accepted: Opus/48000/2 audio and VP8/90000 or H.264/90000 (packetization-mode 1, RFC 6184)
/// video over UDP/TLS/RTP/SAVPF with rtcp-mux, in one BUNDLE group (RFC 9143), the first the
/// offer lists that we forward (toward a viewer: the track's own codec and H.264 profile); the
/// offer's payload types and extension IDs are kept. Everything else
/// (other codecs only, data channels, no rtcp-mux) is rejected with port 0 (RFC 8829 §5.3.1).
/// The server is ICE-lite (RFC 8839 §5.3) with host candidates only, and takes the DTLS role
/// opposite to the offer's `a=setup` (passive for actpass: the full ICE agent, which knows when its
/// checks succeeded, starts DTLS).
public enum SDPAnswerer {
    /// Header extensions the SFU understands (RFC 8285 URIs).
    /// (transport-cc and REMB are not negotiated until the SFU sends their feedback.)
    public static let supportedExtensions: Set<String> = [
        "urn:ietf:params:rtp-hdrext:sdes:mid",
        "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    ]
    static let videoFeedback: Set<String> = ["nack", "nack pli", "ccm fir"]
    static let audioFeedback: Set<String> = []

    public struct Parameters: Sendable {
        public var sessionID: UInt64
        public var iceUfrag: String
        public var icePassword: String
        public var fingerprint: [UInt8]
        public var candidates: [SDPICECandidate]
        /// Tracks we send on this connection (a WHEP viewer's), in order: each goes to the
        /// first receiving section of its kind not yet taken that accepts its codec.
        public var outbound: [OutboundTrack]

        public init(sessionID: UInt64, iceUfrag: String, icePassword: String, fingerprint: [UInt8],
                    candidates: [SDPICECandidate], outbound: [OutboundTrack] = []) {
            self.sessionID = sessionID
            self.iceUfrag = iceUfrag
            self.icePassword = icePassword
            self.fingerprint = fingerprint
            self.candidates = candidates
            self.outbound = outbound
        }
    }

    public struct OutboundTrack: Sendable, Equatable {
        public var ssrc: UInt32
        public var cname: String
        public var streamID: String
        public var trackID: String
        /// What the track is sent in (its kind follows), and the sender's format parameters
        /// (H.264's profile): the receiver must accept both.
        public var codec: MediaCodec
        public var formatParameters: String
        public var kind: MediaKind { codec.kind }
        public init(ssrc: UInt32, cname: String, streamID: String, trackID: String, codec: MediaCodec, formatParameters: String = "") {
            self.ssrc = ssrc
            self.cname = cname
            self.streamID = streamID
            self.trackID = trackID
            self.codec = codec
            self.formatParameters = formatParameters
        }
    }

    /// Our answer, and what the media graph needs of the connection (no SDP).
    public struct Result: Sendable {
        public init(answer: SessionDescription, transport: TransportParameters, remotePassword: String) {
            self.answer = answer
            self.transport = transport
            self.remotePassword = remotePassword
        }

        public var answer: SessionDescription
        public var transport: TransportParameters
        public var remotePassword: String
        public var media: [MediaSection] { transport.media }
        public var remoteUfrag: String { transport.remoteUfrag }
        public var remoteFingerprint: [UInt8] { transport.remoteFingerprint }
        /// Our DTLS role.
        public var dtlsRole: DTLSTransport.Role { transport.dtlsRole }
    }

    public enum Error: Swift.Error, Equatable, Sendable {
        /// The description cannot be answered; the sentence says why.
        case invalidOffer(String)
        case noUsableMedia
        /// Two m-sections share a mid (RFC 8843 §7.2 / RFC 8829 §5.2.1: mids are unique).
        case duplicateMid(String)
        /// The offerer is ICE-lite too: two lite agents never check each other (RFC 8445 §6.1.1).
        case liteOfferer
        /// Several media sections without a BUNDLE group: one transport carries them all here.
        case bundleRequired

        /// Stable machine-readable code (docs/signaling.md, "Errors").
        public var code: String {
            switch self {
            case .invalidOffer: "invalid_sdp"
            case .noUsableMedia: "no_usable_media"
            case .duplicateMid: "duplicate_mid"
            case .liteOfferer: "ice_lite_offerer"
            case .bundleRequired: "bundle_required"
            }
        }

        /// A sentence for people.
        public var message: String {
            switch self {
            case .invalidOffer(let why): why
            case .noUsableMedia: "no media section can be received: offer Opus/48000 audio or VP8/90000 video over UDP/TLS/RTP/SAVPF with rtcp-mux"
            case .duplicateMid(let mid): "two media sections have the mid \(mid); each needs its own"
            case .liteOfferer: "the offer is ICE-lite, like this server: one side must be a full ICE agent"
            case .bundleRequired: "several media sections without a BUNDLE group: bundle them (a=group:BUNDLE, RFC 9143)"
            }
        }
    }

    public static func answer(_ offer: SessionDescription, _ p: Parameters) throws(Error) -> Result {
        func value<T: SDPAttributeValue>(_ m: MediaDescription, _ t: T.Type) throws(Error) -> T? {
            do throws(WireError) {
                if let v = try m.value(t) { return v }
                return try offer.value(t)  // session-level (Firefox puts the fingerprint there)
            } catch { throw .invalidOffer(error.sentence) }
        }
        func values<T: SDPAttributeValue>(_ m: MediaDescription, _ t: T.Type) throws(Error) -> [T] {
            do throws(WireError) { return try m.values(t) } catch { throw .invalidOffer(error.sentence) }
        }
        guard let first = offer.media.first else { throw .invalidOffer("the offer has no media sections") }
        guard let ufrag = first.iceUfrag ?? offer.iceUfrag, let pwd = first.icePwd ?? offer.icePwd else {
            throw .invalidOffer("the offer has no ICE credentials (a=ice-ufrag, a=ice-pwd)")
        }
        guard let fingerprint = try value(first, SDPFingerprint.self), fingerprint.hashFunction == "sha-256", fingerprint.digest.count == 32 else {
            throw .invalidOffer("the offer has no sha-256 certificate fingerprint (a=fingerprint)")
        }
        if offer.hasAttribute("ice-lite") || first.hasAttribute("ice-lite") { throw .liteOfferer }
        var mids: Set<String> = []
        for m in offer.media {
            guard let mid = m.mid else { continue }
            guard mids.insert(mid).inserted else { throw .duplicateMid(mid) }
        }
        let offeredSetup = try value(first, SDPSetupRole.self) ?? .actpass
        let ourSetup: SDPSetupRole = offeredSetup == .passive ? .active : .passive
        let bundle = offer.bundleMids ?? []

        var answer = SessionDescription(sessionID: p.sessionID)
        var sections: [MediaDescription] = []
        var negotiated: [MediaSection] = []
        var taken = Set<Int>()  // outbound tracks given a section
        for m in offer.media {
            let mid = m.mid ?? ""
            var accepted: (SDPRTPMap, [SDPFormatParameters], [SDPRTCPFeedback])? = nil
            var sending: OutboundTrack? = nil
            let kind = MediaKind(sdp: m.kind)
            // A bundle-only section (RFC 8843 §6: port 0 and `a=bundle-only`, what Firefox offers
            // with max-bundle, RFC 8829 §5.2.1) whose mid is in the group is offered, not rejected;
            // it shares the group's transport and so its rtcp-mux.
            let bundleOnly = m.port == 0 && m.hasAttribute("bundle-only") && !mid.isEmpty && bundle.contains(mid)
            if m.proto == "UDP/TLS/RTP/SAVPF", m.port != 0 || bundleOnly, m.rtcpMux || bundleOnly, !mid.isEmpty, bundle.isEmpty || bundle.contains(mid) {
                let maps = try values(m, SDPRTPMap.self)
                let fmtps = try values(m, SDPFormatParameters.self)
                func parameters(_ pt: UInt8) -> String { fmtps.first { $0.payloadType == pt }?.text ?? "" }
                // In the offer's order of preference (its format list), the first format we can
                // forward; toward a viewer, the first that carries the track's own codec.
                let receiving = m.direction != .recvonly
                let ordered = m.formats.compactMap { f in maps.first { "\($0.payloadType)" == f } }
                func forwardable(_ map: SDPRTPMap) -> MediaCodec? {
                    guard let codec = MediaCodec(encodingName: map.encodingName, clockRate: map.clockRate), codec.kind == kind,
                          MediaCodec.accepts(codec, formatParameters: parameters(map.payloadType)) else { return nil }
                    return codec
                }
                var wanted: SDPRTPMap? = nil
                if receiving {
                    wanted = ordered.first { forwardable($0) != nil }
                } else {
                    // Toward a viewer: the first track of this kind not yet placed whose codec
                    // (and H.264 profile) the section offers, in the section's own format.
                    search: for (i, track) in p.outbound.enumerated() where !taken.contains(i) && track.kind == kind {
                        for map in ordered where forwardable(map) == track.codec
                            && MediaCodec.compatible(track.codec, offered: parameters(map.payloadType), sent: track.formatParameters) {
                            wanted = map
                            sending = track
                            taken.insert(i)
                            break search
                        }
                    }
                    // Nothing left of this kind to send: answered inactive (a section whose
                    // track's codec it does not offer is rejected instead).
                    let untaken = p.outbound.indices.contains { !taken.contains($0) && p.outbound[$0].kind == kind }
                    if wanted == nil, !untaken { wanted = ordered.first { forwardable($0) != nil } }
                }
                if let codec = wanted {
                    accepted = (codec, fmtps.filter { $0.payloadType == codec.payloadType },
                                try values(m, SDPRTCPFeedback.self).filter { $0.payloadType == codec.payloadType || $0.payloadType == nil })
                }
            }
            guard let (codec, fmtp, feedback) = accepted, let kind, let forwarded = MediaCodec(encodingName: codec.encodingName, clockRate: codec.clockRate) else {
                // Rejected m-section: port 0, same formats, keep the mid (RFC 8829 §5.3.1).
                var rejected = MediaDescription(kind: m.kind, port: 0, proto: m.proto, formats: m.formats)
                rejected.lines.append(SDPLine("c", "IN IP4 0.0.0.0"))
                if !mid.isEmpty { rejected.appendAttribute("mid", mid) }
                rejected.appendAttribute(SDPDirection.inactive.rawValue)
                sections.append(rejected)
                continue
            }
            let offered = m.direction ?? .sendrecv
            var direction: SDPDirection
            switch offered {
            case .sendrecv, .sendonly: direction = .recvonly
            case .recvonly: direction = sending != nil ? .sendonly : .inactive
            case .inactive: direction = .inactive
            }
            var s = MediaDescription(kind: m.kind, port: 9, proto: "UDP/TLS/RTP/SAVPF", formats: ["\(codec.payloadType)"])
            s.lines.append(SDPLine("c", "IN IP4 0.0.0.0"))
            s.appendAttribute("mid", mid)
            s.appendAttribute("ice-ufrag", p.iceUfrag)
            s.appendAttribute("ice-pwd", p.icePassword)
            s.appendAttribute(SDPFingerprint(hashFunction: "sha-256", digest: p.fingerprint))
            s.appendAttribute(ourSetup)
            s.appendAttribute("rtcp-mux")
            if m.rtcpReducedSize { s.appendAttribute("rtcp-rsize") }
            s.appendAttribute(direction.rawValue)
            s.appendAttribute(codec)
            for f in fmtp { s.appendAttribute(f) }
            let allowed = kind == .video ? videoFeedback : audioFeedback
            for f in feedback where allowed.contains(f.type + (f.parameter.map { " \($0)" } ?? "")) {
                s.appendAttribute(SDPRTCPFeedback(payloadType: codec.payloadType, type: f.type, parameter: f.parameter))
            }
            var extensions: [String: UInt16] = [:]
            for e in try values(m, SDPExtMap.self) where supportedExtensions.contains(e.uri) && e.direction != .recvonly {
                extensions[e.uri] = e.id
                s.appendAttribute(SDPExtMap(id: e.id, uri: e.uri))
            }
            if direction == .sendonly, let track = sending {
                s.appendAttribute(SDPMediaStreamID(streamID: track.streamID, trackID: track.trackID))
                s.appendAttribute(SDPSSRC(ssrc: track.ssrc, attribute: "cname", value: track.cname))
                s.appendAttribute(SDPSSRC(ssrc: track.ssrc, attribute: "msid", value: "\(track.streamID) \(track.trackID)"))
            }
            for c in p.candidates { s.appendAttribute(c) }
            s.appendAttribute("end-of-candidates")
            sections.append(s)
            let ssrcs = (try values(m, SDPSSRC.self)).map(\.ssrc)
            var unique: [UInt32] = []
            for x in ssrcs where !unique.contains(x) { unique.append(x) }
            let flow: MediaSection.Direction = direction == .recvonly ? .receiving : direction == .sendonly ? .sending : .inactive
            negotiated.append(MediaSection(mid: mid, codec: forwarded, payloadType: codec.payloadType, extensions: extensions, remoteSSRCs: unique,
                                           direction: flow, formatParameters: fmtp.first?.text ?? "", outboundSSRC: flow == .sending ? sending?.ssrc : nil))
        }
        guard !negotiated.isEmpty else { throw .noUsableMedia }
        // Our one transport carries every accepted section: bundled as the offer bundled them
        // (RFC 9143 §7.3), and a lone section needs no group.
        if bundle.isEmpty && negotiated.count > 1 { throw .bundleRequired }
        if !bundle.isEmpty { answer.appendAttribute(SDPGroup(semantics: "BUNDLE", mids: negotiated.map(\.mid))) }
        answer.appendAttribute("ice-lite")
        answer.appendAttribute("msid-semantic", " WMS *")
        answer.media = sections
        return Result(answer: answer, transport: TransportParameters(remoteUfrag: ufrag, remoteFingerprint: fingerprint.digest,
                                                                     dtlsRole: ourSetup == .active ? .client : .server, media: negotiated),
                      remotePassword: pwd)
    }
}
