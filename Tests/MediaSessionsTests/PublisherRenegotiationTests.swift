import Foundation
import MediaCrypto
import MediaWire
@testable import SFU
import Testing
import TestSupport
@testable import MediaSessions

/// A meeting publisher's connection renegotiated to add and stop a screen share (JSEP, RFC 8829
/// §5.2.2): same ICE ufrag and certificate, same transport, the camera's track and sid kept.
struct PublisherRenegotiationTests {
    static let alice = ParticipantKey(room: "r", identity: "alice")

    /// Chromium's offer (audio mid 0, video mid 1) plus a second video section, mid 2, sending
    /// `direction`.
    static func offer(screen direction: String?) throws -> String {
        var offer = try SessionDescription.parse(try Fixture.text("sdp/chromium-offer.sdp"))
        guard let direction else { return offer.serialized() }
        var second = offer.media[1]
        second.lines = second.lines.map { line in
            if line.type == "a" && line.value == "mid:1" { return SDPLine("a", "mid:2") }
            if line.type == "a" && line.value == "sendrecv" { return SDPLine("a", direction) }
            return line
        }.filter { !($0.type == "a" && $0.value.hasPrefix("ssrc")) }
        offer.media.append(second)
        return offer.serialized().replacingOccurrences(of: "a=group:BUNDLE 0 1", with: "a=group:BUNDLE 0 1 2")
    }

    static func service() throws -> (MediaService, InlineMediaThread) {
        let certificate = try DTLSCertificate.generate()
        let credentials = ICECredentialMinter()
        let thread = InlineMediaThread(router: MediaRouter(dtlsContext: DTLSContext(certificate: certificate), iceCredentials: credentials))
        return (MediaService(loop: thread, certificate: certificate, candidateAddress: TransportAddress("127.0.0.1:7882")!, credentials: credentials), thread)
    }

    static func ufrag(_ answer: String) throws -> String? { try SessionDescription.parse(answer).media.first?.iceUfrag }

    @Test func aShareIsAddedAndStoppedOnTheSameConnection() throws {
        let (media, thread) = try Self.service()
        let first = try media.publish(offer: try Self.offer(screen: nil), publisher: Self.alice, session: 1)
        #expect(!first.renegotiated && first.tracks.map(\.source) == [.microphone, .camera])
        let camera = try #require(first.tracks.first { $0.source == .camera })

        let shared = try media.publish(offer: try Self.offer(screen: "sendonly"), publisher: Self.alice, session: 1, hints: ["2": .screen])
        #expect(shared.renegotiated && shared.resource == first.resource)
        #expect(try Self.ufrag(shared.answer) == Self.ufrag(first.answer))
        #expect(shared.tracks.map(\.source) == [.microphone, .camera, .screen])
        #expect(shared.tracks.first { $0.source == .camera } == camera)
        #expect(Set(shared.tracks.map(\.sid)).count == 3)
        #expect(thread.router.transports.count == 1 && thread.router.hasTrack(MediaRouter.TrackKey(publisher: Self.alice, source: .screen)))
        // A subscriber is offered the three tracks, the screen as "<identity>-screen".
        let offer = try #require(media.subscriberOffer(session: 9, participant: ParticipantKey(room: "r", identity: "bob")))
        #expect(offer.contains("msid:alice alice-screen") && offer.contains("msid:alice alice-video") && offer.contains("msid:alice alice-audio"))

        let stopped = try media.publish(offer: try Self.offer(screen: "inactive"), publisher: Self.alice, session: 1)
        #expect(stopped.renegotiated && stopped.tracks.map(\.source) == [.microphone, .camera])
        #expect(!thread.router.hasTrack(MediaRouter.TrackKey(publisher: Self.alice, source: .screen)))
        #expect(thread.router.hasTrack(MediaRouter.TrackKey(publisher: Self.alice, source: .camera)))

        // Another session (or another ufrag) publishing as alice replaces the connection.
        let other = try media.publish(offer: try Self.offer(screen: nil), publisher: Self.alice, session: 2)
        #expect(!other.renegotiated && other.resource != first.resource && thread.router.transports.count == 1)
    }

    /// Without hints, a second video section is the screen; the sids of a resource are never reused.
    @Test func unlabelledSecondVideoIsTheScreen() throws {
        let (media, _) = try Self.service()
        let p = try media.publish(offer: try Self.offer(screen: "sendonly"), publisher: Self.alice, session: -1)
        #expect(p.tracks.map(\.source) == [.microphone, .camera, .screen])
        _ = try media.publish(offer: try Self.offer(screen: "inactive"), publisher: Self.alice, session: -1)
        let again = try media.publish(offer: try Self.offer(screen: "sendonly"), publisher: Self.alice, session: -1)
        #expect(!Set(again.tracks.map(\.sid)).isDisjoint(with: p.tracks.map(\.sid)))  // microphone and camera kept
        #expect(again.tracks.first { $0.source == .screen }?.sid != p.tracks.first { $0.source == .screen }?.sid)
    }
}
