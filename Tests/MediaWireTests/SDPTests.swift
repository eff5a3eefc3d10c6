import Testing
import TestSupport
@testable import MediaWire

/// SDP (RFC 8866) and the JSEP attributes, on real offers captured from Chromium, Firefox ESR and
/// aiortc (tools/fixtures/capture-sdp-offers.sh).
struct SDPTests {
    static let fixtures = Fixture.files(in: "sdp").filter { $0.hasSuffix(".sdp") }

    static func load(_ name: String) throws -> (String, SessionDescription) {
        let text = try Fixture.text("sdp/\(name)")
        return (text, try SessionDescription.parse(text))
    }

    /// The fixture set is the one the issue asks for (guards against an empty directory passing).
    @Test func fixturesPresent() {
        for name in ["chromium-offer.sdp", "chromium-simulcast-offer.sdp", "firefox-offer.sdp",
                     "firefox-simulcast-offer.sdp", "aiortc-offer.sdp"] {
            #expect(Self.fixtures.contains("sdp/\(name)"), "missing \(name)")
        }
    }

    /// RFC8866Section5: every real offer parses and serialises back to exactly the same text.
    @Test(arguments: fixtures)
    func realOfferRoundTrips(path: String) throws {
        let text = try Fixture.text(path)
        let sdp = try SessionDescription.parse(text)
        #expect(sdp.serialized() == text)
        #expect(sdp.media.count >= 2)
    }

    /// Every attribute with a typed model decodes and prints back to its original text.
    @Test(arguments: fixtures)
    func typedAttributesRoundTrip(path: String) throws {
        let sdp = try SessionDescription.parse(try Fixture.text(path))
        var checked = 0
        func check<T: SDPAttributeValue>(_ container: some SDPLineContainer, _ type: T.Type) throws {
            let raw = container.attributeValues(T.attributeName)
            let typed = try container.values(T.self)
            #expect(typed.map(\.description) == raw, "\(T.attributeName) in \(path)")
            checked += raw.count
        }
        var containers: [any SDPLineContainer] = [sdp]
        containers += sdp.media
        for c in containers {
            try check(c, SDPRTPMap.self)
            try check(c, SDPFormatParameters.self)
            try check(c, SDPRTCPFeedback.self)
            try check(c, SDPExtMap.self)
            try check(c, SDPSSRC.self)
            try check(c, SDPSSRCGroup.self)
            try check(c, SDPMediaStreamID.self)
            try check(c, SDPGroup.self)
            try check(c, SDPFingerprint.self)
            try check(c, SDPSetupRole.self)
            try check(c, SDPICECandidate.self)
            try check(c, SDPRID.self)
            try check(c, SDPSimulcast.self)
        }
        #expect(checked > 20)
    }

    /// Chromium's offer: BUNDLE, rtcp-mux, ICE credentials, DTLS fingerprint and role, Opus and VP8,
    /// header extensions, loopback host candidates.
    @Test func chromiumOfferContents() throws {
        let (_, sdp) = try Self.load("chromium-offer.sdp")
        #expect(sdp.bundleMids == ["0", "1"])
        let audio = sdp.media[0], video = sdp.media[1]
        #expect(audio.kind == "audio" && video.kind == "video" && audio.proto == "UDP/TLS/RTP/SAVPF")
        #expect(audio.mid == "0" && video.mid == "1" && audio.rtcpMux && video.rtcpMux)
        #expect(audio.iceUfrag != nil && (audio.icePwd?.count ?? 0) >= 22)
        #expect(try audio.value(SDPFingerprint.self)?.hashFunction == "sha-256")
        #expect(try audio.value(SDPFingerprint.self)?.digest.count == 32)
        #expect(try audio.value(SDPSetupRole.self) == .actpass)
        #expect(audio.direction == .sendrecv)
        let opus = try audio.values(SDPRTPMap.self).first { $0.encodingName == "opus" }
        #expect(opus?.clockRate == 48000 && opus?.encodingParameters == "2")
        #expect(try audio.values(SDPFormatParameters.self).first { $0.payloadType == opus?.payloadType }?.parameter("useinbandfec") == "1")
        let vp8 = try video.values(SDPRTPMap.self).first { $0.encodingName == "VP8" }
        #expect(vp8?.clockRate == 90000)
        #expect(try video.values(SDPRTCPFeedback.self).contains { $0.payloadType == vp8?.payloadType && $0.type == "nack" && $0.parameter == "pli" })
        #expect(try video.values(SDPExtMap.self).contains { $0.uri == "urn:ietf:params:rtp-hdrext:sdes:mid" })
        let candidates = try audio.values(SDPICECandidate.self)
        #expect(!candidates.isEmpty && candidates.allSatisfy { $0.address == "127.0.0.1" })
        #expect(candidates.contains { $0.transport == "udp" && $0.type == "host" })
        #expect(try video.values(SDPSSRCGroup.self).first?.semantics == "FID")
        #expect(try video.value(SDPMediaStreamID.self)?.trackID != nil)
    }

    /// Chromium's simulcast offer (RFC 8851/8853): three send RIDs and the simulcast attribute.
    @Test func chromiumSimulcast() throws {
        let (_, sdp) = try Self.load("chromium-simulcast-offer.sdp")
        let video = sdp.media[1]
        #expect(try video.values(SDPRID.self).map(\.id) == ["q", "h", "f"])
        #expect(try video.values(SDPRID.self).allSatisfy { $0.direction == .send })
        let simulcast = try video.value(SDPSimulcast.self)
        #expect(simulcast?.send.map { $0.map(\.id) } == [["q"], ["h"], ["f"]])
        #expect(simulcast?.recv.isEmpty == true)
    }

    /// Firefox puts the fingerprint at session level and uses extmap directions.
    @Test func firefoxOfferContents() throws {
        let (_, sdp) = try Self.load("firefox-offer.sdp")
        #expect(try sdp.value(SDPFingerprint.self)?.digest.count == 32)
        #expect(sdp.media.allSatisfy { (try? $0.value(SDPFingerprint.self)) == nil })
        #expect(try sdp.media[0].values(SDPExtMap.self).contains { $0.direction == .recvonly })
        #expect(try sdp.media[0].values(SDPRTPMap.self).contains { $0.encodingName == "opus" })
        #expect(sdp.iceOptions == ["trickle"])
        let (_, simulcast) = try Self.load("firefox-simulcast-offer.sdp")
        #expect(try simulcast.media[1].value(SDPSimulcast.self)?.send.count == 3)
    }

    /// aiortc's offer: its own candidate format and RTX ssrc-group.
    @Test func aiortcOfferContents() throws {
        let (_, sdp) = try Self.load("aiortc-offer.sdp")
        #expect(sdp.bundleMids?.count == 2)
        #expect(try sdp.media.flatMap { try $0.values(SDPICECandidate.self) }.allSatisfy { $0.address == "127.0.0.1" })
        #expect(try sdp.media[1].values(SDPRTPMap.self).contains { $0.encodingName == "VP8" })
    }

    /// An answer-like description built in code serialises and parses back to the same model.
    @Test func buildAndParse() throws {
        var sdp = SessionDescription(sessionID: 42)
        sdp.appendAttribute(SDPGroup(semantics: "BUNDLE", mids: ["0"]))
        sdp.appendAttribute("ice-lite")
        var audio = MediaDescription(kind: "audio", port: 9, proto: "UDP/TLS/RTP/SAVPF", formats: ["111"])
        audio.lines.append(SDPLine("c", "IN IP4 0.0.0.0"))
        audio.appendAttribute("mid", "0")
        audio.appendAttribute(SDPRTPMap(payloadType: 111, encodingName: "opus", clockRate: 48000, encodingParameters: "2"))
        audio.appendAttribute(SDPFormatParameters(payloadType: 111, parameters: [("minptime", "10"), ("useinbandfec", "1")]))
        audio.appendAttribute(SDPFingerprint(hashFunction: "sha-256", digest: Array(0..<32)))
        audio.appendAttribute(SDPSetupRole.actpass.answer)
        audio.appendAttribute(SDPICECandidate(foundation: "1", priority: SDPICECandidate.priority(typePreference: 126, localPreference: 65535, component: 1),
                                              address: "127.0.0.1", port: 7882))
        audio.appendAttribute(SDPDirection.sendonly.reversed.rawValue)
        sdp.media.append(audio)
        let text = sdp.serialized()
        let back = try SessionDescription.parse(text)
        #expect(back == sdp)
        #expect(back.isICELite && back.media[0].direction == .recvonly)
        #expect(try back.media[0].value(SDPSetupRole.self) == .active)
        #expect(try back.media[0].value(SDPICECandidate.self)?.priority == 2_130_706_431)
        #expect(text.hasSuffix("\r\n") && !text.contains("\n\n"))
    }

    /// Malformed input table: each gives its typed error at its line number.
    @Test(arguments: [
        ("", WireError(.sdp, .missing("v= line"), at: 1)),
        ("o=- 1 1 IN IP4 0.0.0.0\r\n", WireError(.sdp, .missing("v= as the first line"), at: 1)),
        ("v=1\r\n", WireError(.sdp, .malformedLine("v= must be 0"), at: 1)),
        ("v=0\r\nbogus\r\n", WireError(.sdp, .malformedLine("expected <letter>=<value>"), at: 2)),
        ("v=0\r\nX=1\r\n", WireError(.sdp, .malformedLine("expected <letter>=<value>"), at: 2)),
        ("v=0\r\no=- x 1 IN IP4 0.0.0.0\r\n", WireError(.sdp, .malformedLine("o="), at: 2)),
        ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n", WireError(.sdp, .missing("t= line"), at: 3)),
        ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0\r\n", WireError(.sdp, .malformedLine("t="), at: 4)),
        ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n", WireError(.sdp, .malformedLine("m= port"), at: 5)),
        ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP\r\n", WireError(.sdp, .malformedLine("m= needs media, port, proto and formats"), at: 5)),
        ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nc=IN IP5 x\r\n", WireError(.sdp, .malformedLine("c="), at: 5)),
        ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=\r\n", WireError(.sdp, .malformedLine("a= without a name"), at: 5)),
        ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=:x\r\n", WireError(.sdp, .malformedLine("a= without a name"), at: 5)),
        ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nb=AS:x\r\n", WireError(.sdp, .malformedLine("b="), at: 5)),
    ])
    func malformed(text: String, expected: WireError) {
        #expect(throws: expected) { try SessionDescription.parse(text) }
    }

    /// Malformed attribute values give typed errors carrying the line number.
    @Test(arguments: [
        ("rtpmap", "96 VP8", SDPText.self),
        ("rtpmap", "200 VP8/90000", SDPText.self),
        ("candidate", "1 1 udp 100 127.0.0.1 9 host", SDPText.self),
        ("candidate", "1 1 udp x 127.0.0.1 9 typ host", SDPText.self),
        ("candidate", "1 1 udp 1 127.0.0.1 9 typ host generation", SDPText.self),
        ("fingerprint", "sha-256 0G:11", SDPText.self),
        ("extmap", "0 urn:x", SDPText.self),
        ("extmap", "1/sideways urn:x", SDPText.self),
        ("setup", "maybe", SDPText.self),
        ("ssrc", "abc cname:x", SDPText.self),
        ("rid", "q sideways", SDPText.self),
        ("simulcast", "send q;;f", SDPText.self),
        ("simulcast", "send q send h", SDPText.self),
        ("fmtp", "96", SDPText.self),
    ] as [(String, String, SDPText.Type)])
    func malformedAttributeValues(name: String, value: String, _: SDPText.Type) throws {
        let text = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=\(name):\(value)\r\n"
        let m = try SessionDescription.parse(text).media[0]
        let error: WireError? = {
            do throws(WireError) {
                switch name {
                case "rtpmap": _ = try m.values(SDPRTPMap.self)
                case "candidate": _ = try m.values(SDPICECandidate.self)
                case "fingerprint": _ = try m.values(SDPFingerprint.self)
                case "extmap": _ = try m.values(SDPExtMap.self)
                case "setup": _ = try m.values(SDPSetupRole.self)
                case "ssrc": _ = try m.values(SDPSSRC.self)
                case "rid": _ = try m.values(SDPRID.self)
                case "simulcast": _ = try m.values(SDPSimulcast.self)
                default: _ = try m.values(SDPFormatParameters.self)
                }
                return nil
            } catch { return error }
        }()
        #expect(error?.format == .sdp && error?.offset == 6, "\(name):\(value) gave \(String(describing: error))")
    }

    /// Truncated offers: cut before the t= line they are refused; cut at any line end after it they
    /// parse and serialise back to the same prefix.
    @Test func everyLineTruncation() throws {
        let text = try Fixture.text("sdp/chromium-offer.sdp")
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: false).dropLast()
        let tLine = lines.firstIndex { $0.hasPrefix("t=") }!
        for n in 0...lines.count {
            let prefix = lines.prefix(n).map { $0 + "\r\n" }.joined()
            if n <= tLine {
                #expect(throws: WireError.self) { try SessionDescription.parse(prefix) }
            } else {
                #expect(try SessionDescription.parse(prefix).serialized() == prefix)
            }
        }
    }

    /// Oversized input is refused before any work is done on it.
    @Test func sizeLimits() {
        let huge = "v=0\r\n" + String(repeating: "a=x\r\n", count: SessionDescription.maximumBytes / 5 + 1)
        #expect(throws: WireError(.sdp, .tooMany("bytes", limit: SessionDescription.maximumBytes), at: 1)) {
            try SessionDescription.parse(huge)
        }
        let manyLines = "v=0\r\n" + String(repeating: "a=\r\n", count: 0) + String(repeating: "i=\n", count: SessionDescription.maximumLines)
        #expect(throws: WireError(.sdp, .tooMany("lines", limit: SessionDescription.maximumLines), at: 1)) {
            try SessionDescription.parse(manyLines)
        }
    }
}
