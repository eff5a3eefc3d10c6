import MediaCrypto
import MediaWire

/// The SDP a browser-like client writes (JSEP, RFC 8829): VP8/90000 on PT 96 and Opus/48000/2 on
/// PT 111, BUNDLE with rtcp-mux, the mid header extension, NACK/PLI feedback; and what it reads
/// back from the server's SDP (credentials, fingerprint, DTLS role, candidate, SSRCs).
enum ClientSDP {
    static let videoPT: UInt8 = 96
    static let audioPT: UInt8 = 111
    static let midURI = "urn:ietf:params:rtp-hdrext:sdes:mid"

    struct Section {
        var kind: String
        var mid: String
        var direction: String
        /// Our SSRC when we send on this section.
        var ssrc: UInt32? = nil
        var payloadType: UInt8
    }

    /// An offer (setup actpass) or answer (setup active) carrying `sections`.
    static func description(sections: [Section], ufrag: String, password: String, fingerprint: [UInt8],
                            setup: String, candidate: TransportAddress? = nil, sessionID: UInt64 = UInt64.random(in: 1...(1 << 62))) -> String {
        let hex = fingerprint.map { b in let s = String(b, radix: 16, uppercase: true); return s.count == 1 ? "0" + s : s }.joined(separator: ":")
        var lines = ["v=0", "o=- \(sessionID) 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
                     "a=group:BUNDLE " + sections.map(\.mid).joined(separator: " "), "a=msid-semantic: WMS bench"]
        for s in sections {
            let video = s.kind == "video"
            lines.append("m=\(s.kind) 9 UDP/TLS/RTP/SAVPF \(s.payloadType)")
            lines += ["c=IN IP4 0.0.0.0", "a=rtcp:9 IN IP4 0.0.0.0", "a=ice-ufrag:\(ufrag)", "a=ice-pwd:\(password)",
                      "a=fingerprint:sha-256 \(hex)", "a=setup:\(setup)", "a=mid:\(s.mid)", "a=extmap:1 \(midURI)",
                      "a=\(s.direction)", "a=rtcp-mux"]
            lines.append(video ? "a=rtpmap:\(s.payloadType) VP8/90000" : "a=rtpmap:\(s.payloadType) opus/48000/2")
            if video { lines += ["a=rtcp-fb:\(s.payloadType) nack", "a=rtcp-fb:\(s.payloadType) nack pli"] }
            if let candidate {
                lines += ["a=candidate:1 1 udp 2130706431 \(candidate.ip) \(candidate.port) typ host", "a=end-of-candidates"]
            }
            if let ssrc = s.ssrc {
                lines += ["a=ssrc:\(ssrc) cname:bench", "a=ssrc:\(ssrc) msid:bench \(s.kind)"]
            }
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// What a client needs from the server's SDP.
    struct Remote {
        var ufrag: String
        var password: String
        var fingerprint: [UInt8]
        var setup: String
        var candidate: TransportAddress
        /// Per m-section: kind, mid, direction, payload type of VP8/Opus, first SSRC.
        var sections: [(kind: String, mid: String, direction: String, payloadType: UInt8?, ssrc: UInt32?)]
        /// Our DTLS role: the opposite of theirs (RFC 5763 §5); to an actpass offer we answer
        /// active, as browsers do.
        var dtlsRole: DTLSTransport.Role { setup == "active" ? .server : .client }
    }

    struct ParseError: Error, CustomStringConvertible { let description: String }

    static func parse(_ text: String) throws -> Remote {
        let sdp: SessionDescription
        do { sdp = try SessionDescription.parse(text) } catch { throw ParseError(description: "SDP: \(error)") }
        func find(_ name: String) -> String? { sdp.attribute(name) ?? sdp.media.lazy.compactMap { $0.attribute(name) }.first }
        guard let ufrag = find("ice-ufrag"), let password = find("ice-pwd"), let fp = find("fingerprint") else {
            throw ParseError(description: "no ICE credentials or fingerprint")
        }
        let fingerprint = try SDPFingerprint(parsing: Substring(fp), line: 0).digest
        var candidate: TransportAddress? = nil
        for m in sdp.media where candidate == nil {
            for c in (try? m.values(SDPICECandidate.self)) ?? [] where c.transport.lowercased() == "udp" {
                if let ip = IPAddress(c.address) { candidate = TransportAddress(ip: ip, port: c.port); break }
            }
        }
        guard let candidate else { throw ParseError(description: "no UDP candidate") }
        let sections = sdp.media.map { m -> (kind: String, mid: String, direction: String, payloadType: UInt8?, ssrc: UInt32?) in
            let codec = m.kind == "video" ? "vp8" : "opus"
            let pt = ((try? m.values(SDPRTPMap.self)) ?? []).first { $0.encodingName.lowercased() == codec }?.payloadType
            let direction = ["sendonly", "recvonly", "sendrecv", "inactive"].first { m.hasAttribute($0) } ?? "sendrecv"
            let ssrc = ((try? m.values(SDPSSRC.self)) ?? []).first?.ssrc
            return (m.kind, m.attribute("mid") ?? "", m.port == 0 ? "rejected" : direction, pt, ssrc)
        }
        return Remote(ufrag: ufrag, password: password, fingerprint: fingerprint, setup: find("setup") ?? "actpass",
                      candidate: candidate, sections: sections)
    }
}
