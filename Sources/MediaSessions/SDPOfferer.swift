import MediaCrypto
import MediaWire
import SFU

/// Builds the server's offer for a subscriber peer connection (JSEP, RFC 8829 §5.2): one sendonly
/// m-section per forwarded track in that track's codec (Opus PT 111, VP8 PT 96, H.264 PT 102 with
/// the publisher's profile), BUNDLE, rtcp-mux, ICE-lite host
/// candidates, `a=setup:actpass`, and SSRC/msid so the receiver can demultiplex without header
/// extensions. Mids are stable across renegotiations: a track keeps its m-section; an ended track's
/// section becomes inactive with port 0 (sections are never removed, RFC 8829 §5.2.2).
/// `readAnswer` reads the client's answer back into negotiated media.
public enum SDPOfferer {
    public static let opusPayloadType: UInt8 = 111
    public static let vp8PayloadType: UInt8 = 96
    public static let h264PayloadType: UInt8 = 102
    /// Extension ID we offer for the BUNDLE mid (RFC 8843 §15), so receivers demultiplex by mid.
    public static let midExtensionID: UInt16 = 1
    public static let midURI = MediaSection.midExtensionURI

    public struct Section: Sendable, Equatable {
        public var mid: String
        public var kind: MediaKind
        /// nil for a section whose track ended.
        public var track: SDPAnswerer.OutboundTrack?
        /// What the section is offered in: the track's own codec (there is no transcoding).
        public var codec: MediaCodec
        public init(mid: String, kind: MediaKind, track: SDPAnswerer.OutboundTrack?, codec: MediaCodec? = nil) {
            self.mid = mid
            self.kind = kind
            self.track = track
            self.codec = codec ?? track?.codec ?? kind.defaultCodec
        }

        var payloadType: UInt8 {
            switch codec {
            case .opus: SDPOfferer.opusPayloadType
            case .vp8: SDPOfferer.vp8PayloadType
            case .h264: SDPOfferer.h264PayloadType
            }
        }
    }

    /// The H.264 parameters offered for a track sent with `sent`: its profile and level, mode 1,
    /// and level asymmetry allowed (RFC 6184 §8.1).
    static func h264Parameters(sent: String) -> String {
        let profile = H264ProfileLevelID.from(fmtp: sent) ?? H264ProfileLevelID("42e01f")!
        return "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=\(profile)"
    }

    public static func offer(sessionID: UInt64, version: UInt64, sections: [Section], iceUfrag: String, icePassword: String,
                             fingerprint: [UInt8], candidates: [SDPICECandidate]) -> SessionDescription {
        var sdp = SessionDescription(sessionID: sessionID, sessionVersion: version)
        let live = sections.filter { $0.track != nil }.map(\.mid)
        // With every track ended, the first section stays in the group, inactive but not
        // rejected: a BUNDLE group needs a section that is not (RFC 8843 §7.3.3), max-bundle
        // peers refuse an offer without one, and the transport must outlive the tracks.
        let tag = live.isEmpty ? sections.first?.mid : nil
        sdp.appendAttribute(SDPGroup(semantics: "BUNDLE", mids: tag.map { [$0] } ?? live))
        sdp.appendAttribute("ice-lite")
        sdp.appendAttribute("msid-semantic", " WMS *")
        for section in sections {
            let pt = section.payloadType
            let kept = section.track != nil || section.mid == tag
            var m = MediaDescription(kind: section.kind.rawValue, port: kept ? 9 : 0, proto: "UDP/TLS/RTP/SAVPF", formats: ["\(pt)"])
            m.lines.append(SDPLine("c", "IN IP4 0.0.0.0"))
            m.appendAttribute("mid", section.mid)
            m.appendAttribute("ice-ufrag", iceUfrag)
            m.appendAttribute("ice-pwd", icePassword)
            m.appendAttribute(SDPFingerprint(hashFunction: "sha-256", digest: fingerprint))
            m.appendAttribute(SDPSetupRole.actpass)
            m.appendAttribute("rtcp-mux")
            m.appendAttribute((section.track == nil ? SDPDirection.inactive : .sendonly).rawValue)
            m.appendAttribute(SDPExtMap(id: midExtensionID, uri: midURI))
            if section.codec == .opus {
                m.appendAttribute(SDPRTPMap(payloadType: pt, encodingName: "opus", clockRate: 48000, encodingParameters: "2"))
                m.appendAttribute(SDPFormatParameters(payloadType: pt, text: "minptime=10;useinbandfec=1"))
            } else {
                m.appendAttribute(SDPRTPMap(payloadType: pt, encodingName: section.codec.encodingName, clockRate: 90000))
                if section.codec == .h264 {
                    m.appendAttribute(SDPFormatParameters(payloadType: pt, text: h264Parameters(sent: section.track?.formatParameters ?? "")))
                }
                m.appendAttribute(SDPRTCPFeedback(payloadType: pt, type: "nack"))
                m.appendAttribute(SDPRTCPFeedback(payloadType: pt, type: "nack", parameter: "pli"))
                m.appendAttribute(SDPRTCPFeedback(payloadType: pt, type: "ccm", parameter: "fir"))
            }
            if let t = section.track {
                m.appendAttribute(SDPMediaStreamID(streamID: t.streamID, trackID: t.trackID))
                m.appendAttribute(SDPSSRC(ssrc: t.ssrc, attribute: "cname", value: t.cname))
                m.appendAttribute(SDPSSRC(ssrc: t.ssrc, attribute: "msid", value: "\(t.streamID) \(t.trackID)"))
            }
            if kept {
                for c in candidates { m.appendAttribute(c) }
                m.appendAttribute("end-of-candidates")
            }
            sdp.media.append(m)
        }
        return sdp
    }

    /// The client's answer to our offer: its ICE credentials, fingerprint, our DTLS role, and the
    /// mids it accepted (port ≠ 0, not inactive).
    public static func readAnswer(_ answer: SessionDescription, sections: [Section]) throws(SDPAnswerer.Error) -> SDPAnswerer.Result {
        guard let first = answer.media.first(where: { $0.port != 0 }) ?? answer.media.first else { throw .invalidOffer("answer has no m-sections") }
        guard let ufrag = first.iceUfrag ?? answer.iceUfrag, let pwd = first.icePwd ?? answer.icePwd else {
            throw .invalidOffer("answer lacks ICE credentials")
        }
        let fingerprint: SDPFingerprint?
        let setup: SDPSetupRole?
        do throws(WireError) {
            let mediaFingerprint = try first.value(SDPFingerprint.self), sessionFingerprint = try answer.value(SDPFingerprint.self)
            fingerprint = mediaFingerprint ?? sessionFingerprint
            let mediaSetup = try first.value(SDPSetupRole.self), sessionSetup = try answer.value(SDPSetupRole.self)
            setup = mediaSetup ?? sessionSetup
        } catch { throw .invalidOffer(error.sentence) }
        guard let fingerprint, fingerprint.hashFunction == "sha-256", fingerprint.digest.count == 32 else {
            throw .invalidOffer("answer lacks a sha-256 fingerprint")
        }
        var media: [MediaSection] = []
        for m in answer.media where m.port != 0 && m.direction != .inactive {
            guard let mid = m.mid, let section = sections.first(where: { $0.mid == mid }), section.track != nil else { continue }
            let pt = section.payloadType
            var extensions: [String: UInt16] = [:]
            do throws(WireError) {
                for e in try m.values(SDPExtMap.self) where e.uri == midURI { extensions[midURI] = e.id }
            } catch { throw .invalidOffer(error.sentence) }
            // The client must have kept our format (JSEP answers use the offer's payload types).
            guard m.formats.contains("\(pt)") else { continue }
            media.append(MediaSection(mid: mid, codec: section.codec, payloadType: pt, extensions: extensions, direction: .sending))
        }
        // The client answered actpass with active (it is the DTLS client) or passive (we are).
        let role: DTLSTransport.Role = setup == .passive ? .client : .server
        return SDPAnswerer.Result(answer: answer, transport: TransportParameters(remoteUfrag: ufrag, remoteFingerprint: fingerprint.digest, dtlsRole: role, media: media),
                                  remotePassword: pwd)
    }
}
