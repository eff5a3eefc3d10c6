import Testing
import TestSupport
import MediaWire
@testable import SFU

/// Answers to real offers (Chromium, Firefox, aiortc) and to edge cases.
struct SDPAnswererTests {
    static let parameters = SDPAnswerer.Parameters(
        sessionID: 42, iceUfrag: "srvU", icePassword: "server-password-0123456789", fingerprint: Array(0..<32),
        candidates: [SDPICECandidate(foundation: "1", priority: 2_130_706_431, address: "127.0.0.1", port: 7882)])

    static func offer(_ name: String) throws -> SessionDescription { try SessionDescription.parse(try Fixture.text("sdp/\(name)")) }

    /// Every captured offer gets an answer that parses, round-trips, and accepts Opus and VP8 with
    /// the offer's own payload types.
    @Test(arguments: ["chromium-offer.sdp", "chromium-simulcast-offer.sdp", "firefox-offer.sdp", "firefox-simulcast-offer.sdp", "aiortc-offer.sdp"])
    func answersRealOffers(name: String) throws {
        let offer = try Self.offer(name)
        let result = try SDPAnswerer.answer(offer, Self.parameters)
        let text = result.answer.serialized()
        let reparsed = try SessionDescription.parse(text)
        #expect(reparsed.serialized() == text)
        #expect(reparsed.isICELite && reparsed.media.count == offer.media.count)
        #expect(result.media.map(\.kind) == ["audio", "video"])
        for n in result.media {
            let offered = try offer.media.first { $0.mid == n.mid }!.values(SDPRTPMap.self).first { $0.payloadType == n.payloadType }
            #expect(offered?.encodingName.lowercased() == (n.kind == "audio" ? "opus" : "vp8"))
            #expect(n.direction == .recvonly)
            #expect(n.extensions["urn:ietf:params:rtp-hdrext:sdes:mid"] != nil)
        }
        let video = reparsed.media[1]
        #expect(video.payloadTypes == [result.media[1].payloadType])
        #expect(try video.values(SDPRTCPFeedback.self).contains { $0.type == "nack" && $0.parameter == "pli" })
        #expect(try video.value(SDPSetupRole.self) == .passive && result.dtlsRole == .server)
        #expect(try video.values(SDPICECandidate.self).first?.port == 7882)
        #expect(reparsed.bundleMids == result.media.map(\.mid))
        #expect(result.remoteFingerprint.count == 32 && !result.remoteUfrag.isEmpty)
    }

    /// A WHEP-style recvonly offer gets sendonly sections announcing our SSRC, msid and cname.
    @Test func viewerOfferGetsSendonlyWithSSRC() throws {
        let text = try Fixture.text("sdp/chromium-offer.sdp").replacingOccurrences("a=sendrecv", "a=recvonly")
        var p = Self.parameters
        p.outbound = ["video": .init(ssrc: 1111, cname: "shihui", streamID: "alice", trackID: "alice-video")]
        let result = try SDPAnswerer.answer(try SessionDescription.parse(text), p)
        #expect(result.media.map(\.direction) == [.inactive, .sendonly])  // no audio track to send
        let video = result.answer.media[1]
        #expect(try video.values(SDPSSRC.self).map(\.ssrc) == [1111, 1111])
        #expect(try video.value(SDPMediaStreamID.self) == SDPMediaStreamID(streamID: "alice", trackID: "alice-video"))
    }

    /// Data channels and sections without rtcp-mux are rejected with port 0; the rest is accepted.
    @Test func rejectsWhatItCannotCarry() throws {
        var text = try Fixture.text("sdp/chromium-offer.sdp")
        text += "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\na=sctp-port:5000\r\n"
        let result = try SDPAnswerer.answer(try SessionDescription.parse(text), Self.parameters)
        #expect(result.answer.media.count == 3 && result.answer.media[2].port == 0 && result.answer.media[2].mid == "2")
        let noMux = try Fixture.text("sdp/chromium-offer.sdp").replacingOccurrences("a=rtcp-mux\r\n", "")
        #expect(throws: SDPAnswerer.Error.noUsableMedia) { try SDPAnswerer.answer(try SessionDescription.parse(noMux), Self.parameters) }
    }

    /// Offer `a=setup:passive` makes us the DTLS client (active); missing credentials are refused.
    @Test func setupRolesAndMissingCredentials() throws {
        let passive = try Fixture.text("sdp/aiortc-offer.sdp").replacingOccurrences("a=setup:actpass", "a=setup:passive")
        let r = try SDPAnswerer.answer(try SessionDescription.parse(passive), Self.parameters)
        let role = try r.answer.media[0].value(SDPSetupRole.self)
        #expect(r.dtlsRole == .client && role == .active)
        let noPwd = try Fixture.text("sdp/aiortc-offer.sdp").split(separator: "\r\n").filter { !$0.hasPrefix("a=ice-pwd") }.joined(separator: "\r\n") + "\r\n"
        #expect(throws: SDPAnswerer.Error.invalidOffer("the offer has no ICE credentials (a=ice-ufrag, a=ice-pwd)")) {
            try SDPAnswerer.answer(try SessionDescription.parse(noPwd), Self.parameters)
        }
    }

    /// Offers a JSEP answerer must refuse (issue 16, finding 9): two sections with one mid
    /// (RFC 8843 §7.2), an ICE-lite offerer (two lite agents never check each other, RFC 8445
    /// §6.1.1), and several sections without BUNDLE, which our one transport cannot answer.
    @Test func refusesDuplicateMidsLiteOfferersAndUnbundledSections() throws {
        let offer = try Fixture.text("sdp/aiortc-offer.sdp")
        let duplicate = offer.replacingOccurrences("a=mid:1", "a=mid:0")
        #expect(throws: SDPAnswerer.Error.duplicateMid("0")) { try SDPAnswerer.answer(try SessionDescription.parse(duplicate), Self.parameters) }
        let lite = offer.replacingOccurrences("t=0 0\r\n", "t=0 0\r\na=ice-lite\r\n")
        #expect(throws: SDPAnswerer.Error.liteOfferer) { try SDPAnswerer.answer(try SessionDescription.parse(lite), Self.parameters) }
        let unbundled = offer.split(separator: "\r\n").filter { !$0.hasPrefix("a=group:BUNDLE") }.joined(separator: "\r\n") + "\r\n"
        #expect(throws: SDPAnswerer.Error.bundleRequired) { try SDPAnswerer.answer(try SessionDescription.parse(unbundled), Self.parameters) }
        #expect(SDPAnswerer.Error.bundleRequired.code == "bundle_required")
    }

    /// Firefox with max-bundle offers its later sections as `m=video 0 … a=bundle-only` (RFC 8843
    /// §6): one in the BUNDLE group is negotiated like any other (answered on port 9, inside the
    /// group); a bundle-only section outside the group stays rejected.
    @Test func bundleOnlySectionsInTheGroupAreAccepted() throws {
        let offer = try Fixture.text("sdp/firefox-offer.sdp")
        let bundleOnly = offer.replacingOccurrences("m=video 9 ", "m=video 0 ").replacingOccurrences("a=mid:1\r\n", "a=mid:1\r\na=bundle-only\r\n")
        let r = try SDPAnswerer.answer(try SessionDescription.parse(bundleOnly), Self.parameters)
        #expect(r.media.map(\.kind) == ["audio", "video"] && r.media[1].direction == .recvonly)
        #expect(r.answer.media[1].port == 9)
        #expect(try r.answer.value(SDPGroup.self)?.mids == ["0", "1"])
        let outside = bundleOnly.replacingOccurrences("a=group:BUNDLE 0 1", "a=group:BUNDLE 0")
        let rejected = try SDPAnswerer.answer(try SessionDescription.parse(outside), Self.parameters)
        #expect(rejected.media.map(\.kind) == ["audio"] && rejected.answer.media[1].port == 0)
    }

    /// One section without a BUNDLE group is answered without one: the answer never adds a
    /// group the offer did not have (RFC 8843 §7.3).
    @Test func aLoneUnbundledSectionGetsNoGroup() throws {
        let offer = try Fixture.text("sdp/aiortc-offer.sdp")
        let parsed = try SessionDescription.parse(offer)
        var single = parsed
        single.media = [parsed.media[0]]
        single.lines.removeAll { $0.attribute?.name == "group" }
        let r = try SDPAnswerer.answer(try SessionDescription.parse(single.serialized()), Self.parameters)
        #expect(r.media.count == 1 && !r.answer.hasAttribute("group"))
        #expect(try SDPAnswerer.answer(parsed, Self.parameters).answer.hasAttribute("group"))
    }
}

extension String {
    func replacingOccurrences(_ a: String, _ b: String) -> String {
        var out = ""
        var rest = self[...]
        while let r = rest.range(of: a) {
            out += rest[..<r.lowerBound] + b
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
