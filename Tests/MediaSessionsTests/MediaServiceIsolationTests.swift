import Foundation
import MediaCrypto
import MediaWire
@testable import SFU
import Signaling
import Testing
import TestSupport
@testable import MediaSessions

/// The media plane's sessions belong to their room, identity and kind (issue 16, findings 1–3):
/// participants are keyed by the (room, identity) pair, caps bound what one identity and the
/// whole server hold open.
struct MediaServiceIsolationTests {
    static let offer = { try! Fixture.text("sdp/chromium-offer.sdp") }()
    static func viewerOffer() throws -> String {
        try Fixture.text("sdp/chromium-offer.sdp").replacingOccurrences(of: "a=sendrecv", with: "a=recvonly")
    }

    /// A publisher of room "a/b" as "c" and one of room "a" as "b/c" were one key when keys were
    /// "room/identity" joined: typed keys keep them apart, and each room's subscribers are
    /// offered its own publishers only.
    @Test func keysNeverCrossRooms() throws {
        let media = try SubscriberRenegotiationTests.service()
        _ = try media.publish(offer: Self.offer, publisher: ParticipantKey(room: "a/b", identity: "c"), session: 1)
        #expect(media.publishers[ParticipantKey(room: "a", identity: "b/c")] == nil)
        #expect(throws: MediaService.Failure.noPublisher) {
            try media.view(offer: try Self.viewerOffer(), publisher: ParticipantKey(room: "a", identity: "b/c"), viewer: ParticipantKey(room: "a", identity: "v"), session: 0)
        }
        #expect(media.subscriberOffer(session: 9, participant: ParticipantKey(room: "a", identity: "v")) == nil)
        let own = try #require(media.subscriberOffer(session: 10, participant: ParticipantKey(room: "a/b", identity: "v")))
        #expect(own.contains("msid:c "))
    }

    /// A resource records its kind and owner, which the HTTP layer matches against the request.
    @Test func resourcesKnowTheirOwner() throws {
        let media = try SubscriberRenegotiationTests.service()
        let publisher = ParticipantKey(room: "r1", identity: "cam")
        let whip = try media.publish(offer: Self.offer, publisher: publisher, session: -1).resource
        let viewer = ParticipantKey(room: "r1", identity: "ops")
        let (whep, _) = try media.view(offer: try Self.viewerOffer(), publisher: publisher, viewer: viewer, session: 0)
        #expect(media.resource(whip)?.kind == .whip && media.resource(whip)?.owner == publisher)
        #expect(media.resource(whep)?.kind == .whep && media.resource(whep)?.owner == viewer && media.resource(whep)?.publisher == "cam")
        #expect(media.pending == [whip, whep])
        media.transportConnected(resource: whip)
        #expect(media.pending == [whep])
        // A second publish with the same identity replaces the first session.
        let again = try media.publish(offer: Self.offer, publisher: publisher, session: -2).resource
        #expect(media.resource(whip) == nil && media.resource(again) != nil)
    }

    /// One identity holds at most `maxViewerSessionsPerIdentity` WHEP sessions per room; ending
    /// one frees a place; another identity has its own.
    @Test func viewerSessionsAreCappedPerIdentity() throws {
        let media = try SubscriberRenegotiationTests.service(limits: MediaService.Limits(maxPendingTransports: 100, maxViewerSessionsPerIdentity: 2))
        let publisher = ParticipantKey(room: "r", identity: "cam")
        _ = try media.publish(offer: Self.offer, publisher: publisher, session: -1)
        let viewer = ParticipantKey(room: "r", identity: "v")
        let (first, _) = try media.view(offer: try Self.viewerOffer(), publisher: publisher, viewer: viewer, session: 0)
        _ = try media.view(offer: try Self.viewerOffer(), publisher: publisher, viewer: viewer, session: 0)
        #expect(throws: MediaService.Failure.tooManySessions(limit: 2)) {
            try media.view(offer: try Self.viewerOffer(), publisher: publisher, viewer: viewer, session: 0)
        }
        _ = try media.view(offer: try Self.viewerOffer(), publisher: publisher, viewer: ParticipantKey(room: "r", identity: "w"), session: 0)
        media.end(resource: first)
        _ = try media.view(offer: try Self.viewerOffer(), publisher: publisher, viewer: viewer, session: 0)
    }

    /// The server holds at most `maxPendingTransports` transports waiting to connect; a failed
    /// or connected one frees its place.
    @Test func pendingTransportsAreCappedServerWide() throws {
        let media = try SubscriberRenegotiationTests.service(limits: MediaService.Limits(maxPendingTransports: 3, maxViewerSessionsPerIdentity: 10))
        var made: [String] = []
        for i in 0..<3 { made.append(try media.publish(offer: Self.offer, publisher: ParticipantKey(room: "r", identity: "p\(i)"), session: -1 - i).resource) }
        #expect(throws: MediaService.Failure.busy(limit: 3)) { try media.publish(offer: Self.offer, publisher: ParticipantKey(room: "r", identity: "p9"), session: -9) }
        guard case .publisher(let r)? = media.transportFailed(resource: made[0]) else { Issue.record("not a publisher"); return }
        #expect(r.owner.identity == "p0")
        _ = try media.publish(offer: Self.offer, publisher: ParticipantKey(room: "r", identity: "p9"), session: -9)
        media.transportConnected(resource: made[1])
        _ = try media.publish(offer: Self.offer, publisher: ParticipantKey(room: "r", identity: "p10"), session: -10)
        #expect(media.pending.count == 3)
    }

    /// Through the media-thread protocol, with no socket: a WHIP publish creates its transport
    /// and tracks in the router, a WHEP view subscribes to them, and ending both leaves nothing.
    @Test func sessionsReachTheRouterThroughTheProtocol() throws {
        let certificate = try DTLSCertificate.generate()
        let credentials = ICECredentialMinter()
        let thread = InlineMediaThread(router: MediaRouter(dtlsContext: DTLSContext(certificate: certificate), iceCredentials: credentials))
        let media = MediaService(loop: thread, certificate: certificate, candidateAddress: TransportAddress("127.0.0.1:7882")!, credentials: credentials)
        let cam = ParticipantKey(room: "r", identity: "cam")
        let published = try media.publish(offer: Self.offer, publisher: cam, session: -1)
        let whip = published.resource
        #expect(published.kinds == [.audio, .video] && published.tracks.map(\.source) == [.microphone, .camera] && thread.router.transports.count == 1)
        #expect(thread.router.hasTrack(MediaRouter.TrackKey(publisher: cam, kind: .video)))
        let (whep, _) = try media.view(offer: try Self.viewerOffer(), publisher: cam, viewer: ParticipantKey(room: "r", identity: "v"), session: 0)
        #expect(thread.router.transports.count == 2 && thread.router.transports.values.map { $0.subscriptions.count }.sorted() == [0, 2])
        media.end(resource: whep)
        media.end(resource: whip)
        #expect(thread.router.transports.isEmpty && !thread.router.hasTrack(MediaRouter.TrackKey(publisher: cam, kind: .video)))
    }
}
