import Foundation
import MediaCrypto
import MediaWire
import SFU
import Signaling
import Testing
import TestSupport
@testable import MediaSessions

/// Runs media-thread commands inline, on the caller's thread. @unchecked Sendable: each test
/// uses its own from one thread only, so the router is never touched concurrently.
final class InlineMediaThread: MediaThread, @unchecked Sendable {
    let router: MediaRouter
    init(router: MediaRouter) { self.router = router }
    func perform(_ command: @escaping @Sendable (MediaRouter) -> Void) { command(router) }
}

/// The server-offered subscriber connection (docs/signaling.md §4): one offer at a time, and a
/// change made while an offer awaits its answer is offered once the answer arrives (JSEP, RFC
/// 8829 §3.5.1: a new offer only from the stable state).
struct SubscriberRenegotiationTests {
    /// A media service whose media thread is this one: commands run at once on a router of the
    /// test's own (no socket, no thread).
    static func service(limits: MediaService.Limits = MediaService.Limits()) throws -> MediaService {
        let certificate = try DTLSCertificate.generate()
        let credentials = ICECredentialMinter()
        let thread = InlineMediaThread(router: MediaRouter(dtlsContext: DTLSContext(certificate: certificate), iceCredentials: credentials))
        return MediaService(loop: thread, certificate: certificate, candidateAddress: TransportAddress("127.0.0.1:7882")!, credentials: credentials, limits: limits)
    }

    /// A browser's answer to `offer`: every section received, DTLS active.
    static func answer(to offer: String) throws -> String {
        let sdp = try SessionDescription.parse(offer)
        var lines = ["v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE " + sdp.media.compactMap { $0.attribute("mid") }.joined(separator: " ")]
        for m in sdp.media {
            let pt = m.kind == "audio" ? 111 : 96
            lines += ["m=\(m.kind) 9 UDP/TLS/RTP/SAVPF \(pt)", "c=IN IP4 0.0.0.0", "a=ice-ufrag:abcd", "a=ice-pwd:abcdefghijklmnopqrstuvwx",
                      "a=fingerprint:sha-256 " + Array(repeating: "AB", count: 32).joined(separator: ":"), "a=setup:active",
                      "a=mid:\(m.attribute("mid") ?? "")", "a=recvonly", "a=rtcp-mux",
                      m.kind == "audio" ? "a=rtpmap:111 opus/48000/2" : "a=rtpmap:96 VP8/90000"]
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func trackCount(_ offer: String) throws -> Int {
        try SessionDescription.parse(offer).media.filter { $0.attribute("ssrc") != nil }.count
    }

    @Test func aChangeWhileAnOfferAwaitsItsAnswerIsOfferedAfterTheAnswer() throws {
        let media = try Self.service()
        let offer = try Fixture.text("sdp/chromium-offer.sdp")
        let viewer: SessionID = 7
        _ = try media.publish(offer: offer, publisher: ParticipantKey(room: "r", identity: "alice"), session: 1)
        let first = try #require(media.subscriberOffer(session: viewer, participant: ParticipantKey(room: "r", identity: "viewer")))
        #expect(try Self.trackCount(first) == 2)

        // Bob publishes while the first offer is unanswered: nothing is sent now ...
        _ = try media.publish(offer: offer, publisher: ParticipantKey(room: "r", identity: "bob"), session: 2)
        #expect(media.subscriberOffer(session: viewer, participant: ParticipantKey(room: "r", identity: "viewer")) == nil)

        // ... and the answer says another offer is due, which carries Bob's tracks too.
        guard case .success(let again) = media.subscriberAnswer(session: viewer, room: "r", sdp: try Self.answer(to: first)) else {
            Issue.record("answer refused")
            return
        }
        #expect(again)
        let second = try #require(media.subscriberOffer(session: viewer, participant: ParticipantKey(room: "r", identity: "viewer")))
        #expect(try Self.trackCount(second) == 4)

        // Answered with nothing changed since: no further offer.
        guard case .success(let more) = media.subscriberAnswer(session: viewer, room: "r", sdp: try Self.answer(to: second)) else {
            Issue.record("second answer refused")
            return
        }
        #expect(!more)
        #expect(media.subscriberOffer(session: viewer, participant: ParticipantKey(room: "r", identity: "viewer")) == nil)
    }

    /// A failed subscriber transport ends that session's subscriber connection, and only once.
    @Test func aFailedSubscriberTransportIsForgotten() throws {
        let media = try Self.service()
        let offer = try Fixture.text("sdp/chromium-offer.sdp")
        _ = try media.publish(offer: offer, publisher: ParticipantKey(room: "r", identity: "alice"), session: 1)
        let first = try #require(media.subscriberOffer(session: 7, participant: ParticipantKey(room: "r", identity: "viewer")))
        guard case .success = media.subscriberAnswer(session: 7, room: "r", sdp: try Self.answer(to: first)) else {
            Issue.record("answer refused")
            return
        }
        let ufrag = try #require(SessionDescription.parse(first).media.first?.attribute("ice-ufrag"))
        // The media thread names the failed transport by its ufrag (MediaThreadState.resource).
        let resource = MediaService.subscriberResource(ufrag: ufrag)
        #expect(media.transportFailed(resource: "u" + ufrag + "x") == nil)
        guard case .subscriber(let session)? = media.transportFailed(resource: resource) else {
            Issue.record("not recognised as a subscriber transport")
            return
        }
        #expect(session == 7)
        #expect(media.transportFailed(resource: resource) == nil)
        // A new offer starts a new connection (fresh credentials, all sections).
        #expect(try Self.trackCount(try #require(media.subscriberOffer(session: 7, participant: ParticipantKey(room: "r", identity: "viewer")))) == 2)
    }
}
