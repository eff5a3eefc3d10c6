import Testing
import TestSupport
import MediaWire
import SFU
@testable import MediaSessions

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
        #expect(result.media.map(\.kind) == [.audio, .video])
        for n in result.media {
            let offered = try offer.media.first { $0.mid == n.mid }!.values(SDPRTPMap.self).first { $0.payloadType == n.payloadType }
            #expect(offered?.encodingName.lowercased() == (n.kind == .audio ? "opus" : "vp8"))
            #expect(n.direction == .receiving)
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
        p.outbound = [.init(ssrc: 1111, cname: "shihui", streamID: "alice", trackID: "alice-video", codec: .vp8)]
        let result = try SDPAnswerer.answer(try SessionDescription.parse(text), p)
        #expect(result.media.map(\.direction) == [.inactive, .sending])  // no audio track to send
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
        #expect(r.media.map(\.kind) == [.audio, .video] && r.media[1].direction == .receiving)
        #expect(r.answer.media[1].port == 9)
        #expect(try r.answer.value(SDPGroup.self)?.mids == ["0", "1"])
        let outside = bundleOnly.replacingOccurrences("a=group:BUNDLE 0 1", "a=group:BUNDLE 0")
        let rejected = try SDPAnswerer.answer(try SessionDescription.parse(outside), Self.parameters)
        #expect(rejected.media.map(\.kind) == [.audio] && rejected.answer.media[1].port == 0)
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

/// H.264 (RFC 6184) beside VP8: a publisher's first forwardable format is taken, viewers are
/// answered in the track's own codec and profile (RFC 6184 §8.2.2), subscribers offered it.
struct H264NegotiationTests {
    /// aiortc's offer with H.264 put first, as `setCodecPreferences` does.
    static func h264First() throws -> SessionDescription {
        let text = try Fixture.text("sdp/aiortc-offer.sdp").replacingOccurrences("m=video 56646 UDP/TLS/RTP/SAVPF 97 98 99 100 101 102", "m=video 56646 UDP/TLS/RTP/SAVPF 101 102 99 100 97 98")
        return try SessionDescription.parse(text)
    }

    @Test func aPublisherPreferringH264IsAnsweredH264() throws {
        let r = try SDPAnswerer.answer(try Self.h264First(), SDPAnswererTests.parameters)
        let video = try #require(r.media.first { $0.kind == .video })
        #expect(video.codec == .h264 && video.payloadType == 101)
        #expect(H264ProfileLevelID.from(fmtp: video.formatParameters)?.profile == .constrainedBaseline)
        #expect(r.answer.media[1].formats == ["101"])
        // Chromium lists VP8 first: it stays VP8.
        let chromium = try SDPAnswerer.answer(try SDPAnswererTests.offer("chromium-offer.sdp"), SDPAnswererTests.parameters)
        #expect(chromium.media.first { $0.kind == .video }?.codec == .vp8)
    }

    /// Mode 0 (single NAL only) and unknown profiles are not forwarded: the next format is taken.
    @Test func packetizationModeZeroIsPassedOver() throws {
        let text = try Fixture.text("sdp/chromium-offer.sdp")
            .replacingOccurrences("m=video 48341 UDP/TLS/RTP/SAVPF 96 97 102", "m=video 48341 UDP/TLS/RTP/SAVPF 104 102 96 97")
        let r = try SDPAnswerer.answer(try SessionDescription.parse(text), SDPAnswererTests.parameters)
        let video = try #require(r.media.first { $0.kind == .video })
        #expect(video.codec == .h264 && video.payloadType == 102)  // 104 is packetization-mode 0
    }

    /// A WHEP viewer offering VP8 and H.264 gets the track's codec with a matching profile; one
    /// offering VP8 only is refused that section.
    @Test func viewersAreAnsweredInTheTracksCodec() throws {
        let viewerText = try Fixture.text("sdp/chromium-offer.sdp").replacingOccurrences("a=sendrecv", "a=recvonly")
        var p = SDPAnswererTests.parameters
        p.outbound = [.init(ssrc: 7, cname: "c", streamID: "cam", trackID: "cam-video", codec: .h264,
                            formatParameters: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")]
        let r = try SDPAnswerer.answer(try SessionDescription.parse(viewerText), p)
        let video = try #require(r.media.first { $0.kind == .video })
        #expect(video.direction == .sending && video.codec == .h264 && video.payloadType == 108)  // 108: mode 1, 42e01f
        let vp8Only = viewerText.split(separator: "\r\n").filter { !$0.contains("H264") }.joined(separator: "\r\n") + "\r\n"
        let refused = try SDPAnswerer.answer(try SessionDescription.parse(vp8Only), p)
        #expect(refused.media.allSatisfy { $0.kind == .audio })
    }

    /// The subscriber offer carries an H.264 track as H.264 with the publisher's profile, and
    /// reads the answer back on that payload type.
    @Test func subscribersAreOfferedTheTracksCodec() throws {
        let track = SDPAnswerer.OutboundTrack(ssrc: 9, cname: "c", streamID: "cam", trackID: "cam-video", codec: .h264,
                                              formatParameters: "packetization-mode=1;profile-level-id=42e01f")
        let offer = SDPOfferer.offer(sessionID: 1, version: 2, sections: [SDPOfferer.Section(mid: "0", kind: .video, track: track)],
                                     iceUfrag: "u", icePassword: "p", fingerprint: Array(0..<32), candidates: [])
        let m = offer.media[0]
        #expect(m.formats == ["102"])
        #expect(try m.values(SDPRTPMap.self).map(\.encodingName) == ["H264"])
        #expect(try m.values(SDPFormatParameters.self).first?.text == "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")
    }

    /// Ended tracks' sections are rejected (port 0) and leave the BUNDLE group; once every
    /// track has ended, the first section stays in it, inactive with port 9 (Chromium refuses a
    /// max-bundle offer with no BUNDLE group, and the transport must outlive the tracks).
    @Test func anOfferWithEveryTrackEndedKeepsItsBundle() throws {
        let track = SDPAnswerer.OutboundTrack(ssrc: 9, cname: "c", streamID: "cam", trackID: "cam-video", codec: .vp8)
        func offer(_ sections: [SDPOfferer.Section]) throws -> SessionDescription {
            try SessionDescription.parse(SDPOfferer.offer(sessionID: 1, version: 2, sections: sections, iceUfrag: "u", icePassword: "p",
                                                          fingerprint: Array(0..<32), candidates: SDPAnswererTests.parameters.candidates).serialized())
        }
        let some = try offer([SDPOfferer.Section(mid: "0", kind: .audio, track: nil), SDPOfferer.Section(mid: "1", kind: .video, track: track)])
        #expect(some.bundleMids == ["1"] && some.media.map(\.port) == [0, 9])
        let none = try offer([SDPOfferer.Section(mid: "0", kind: .audio, track: nil), SDPOfferer.Section(mid: "1", kind: .video, track: nil)])
        #expect(none.bundleMids == ["0"] && none.media.map(\.port) == [9, 0])
        #expect(none.media[0].direction == .inactive && none.media[0].attribute("ssrc") == nil)
        #expect(try none.media[0].values(SDPICECandidate.self).count == 1)
    }
}

/// A WHEP viewer's sections for a publisher's several video tracks (issue 17).
struct SeveralTrackViewerTests {
    // MARK: Viewer sections

    /// Chromium's offer with a second video section (mid 2), recvonly, for a viewer.
    static func twoVideoViewerOffer(firstVP8Only: Bool = false) throws -> SessionDescription {
        var offer = try SDPAnswererTests.offer("chromium-offer.sdp")
        var second = offer.media[1]
        second.lines = second.lines.map { $0.type == "a" && $0.value == "mid:1" ? SDPLine("a", "mid:2") : $0 }
        offer.media.append(second)
        if firstVP8Only {
            offer.media[1].formats = offer.media[1].formats.filter { $0 == "96" || $0 == "97" }
        }
        var text = offer.serialized().replacingOccurrences("a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1 2")
        text = text.replacingOccurrences("a=sendrecv", "a=recvonly")
        return try SessionDescription.parse(text)
    }

    static let camera = SDPAnswerer.OutboundTrack(ssrc: 11, cname: "c", streamID: "cam", trackID: "cam-video", codec: .h264,
                                                  formatParameters: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")
    static let screen = SDPAnswerer.OutboundTrack(ssrc: 22, cname: "c", streamID: "cam", trackID: "cam-screen", codec: .vp8)

    /// Each outbound track goes to the first free section of its kind that offers its codec,
    /// answered in that codec; a section with nothing left to send is inactive.
    @Test func viewerSectionsGetOneTrackEachInItsCodec() throws {
        var p = SDPAnswererTests.parameters
        p.outbound = [Self.camera, Self.screen]
        let both = try SDPAnswerer.answer(try Self.twoVideoViewerOffer(), p)
        #expect(both.media.filter { $0.kind == .video }.map { "\($0.mid) \($0.codec) \($0.outboundSSRC ?? 0)" } == ["1 h264 11", "2 vp8 22"])
        // The first section offers VP8 only: the screen goes there, the camera to the second.
        let vp8First = try SDPAnswerer.answer(try Self.twoVideoViewerOffer(firstVP8Only: true), p)
        #expect(vp8First.media.filter { $0.kind == .video }.map { "\($0.mid) \($0.codec) \($0.outboundSSRC ?? 0)" } == ["1 vp8 22", "2 h264 11"])
        // One track for two sections: the second is answered inactive.
        p.outbound = [Self.screen]
        let one = try SDPAnswerer.answer(try Self.twoVideoViewerOffer(), p)
        #expect(one.media.filter { $0.kind == .video }.map { "\($0.mid) \($0.direction)" } == ["1 sending", "2 inactive"])
    }
}
