import Foundation
import HTTP
import MediaCrypto
import MediaIO
import MediaWire
import SFU
import Signaling

/// WHIP (RFC 9725) and WHEP sessions on the control thread: builds SDP answers (pure), then asks
/// the media thread to create transports and subscriptions through `MediaLoop.perform`.
final class MediaService {
    let loop: MediaLoop
    let certificate: DTLSCertificate
    let candidateAddress: TransportAddress
    /// Published tracks by "room/identity" (kinds), as negotiated at WHIP time.
    private(set) var publishers: [String: (kinds: [String], resource: String)] = [:]
    private var resources: [String: Resource] = [:]

    struct Resource {
        var room: String
        var identity: String
        var isPublisher: Bool
        var session: SessionID
    }

    /// Media-thread state: resource ID → transport. @unchecked Sendable: only touched inside
    /// `MediaLoop.perform` closures, which all run on the media thread.
    final class MediaThreadState: @unchecked Sendable {
        var transports: [String: WebRTCTransport.ID] = [:]
    }
    private let mediaState = MediaThreadState()

    init(loop: MediaLoop, certificate: DTLSCertificate, candidateAddress: TransportAddress) {
        self.loop = loop
        self.certificate = certificate
        self.candidateAddress = candidateAddress
    }

    private var candidates: [SDPICECandidate] {
        [SDPICECandidate(foundation: "1", priority: SDPICECandidate.priority(typePreference: 126, localPreference: 65_535, component: 1),
                         address: candidateAddress.ip.description, port: candidateAddress.port)]
    }

    enum Failure: Error { case badOffer(String), noPublisher }

    private func newResourceID() -> String { SecureRandom.bytes(12).map { String(format: "%02x", $0) }.joined() }

    /// WHIP: answers the publisher's offer and creates its transport. Returns (resource ID, answer, kinds).
    func publish(offer text: String, room: String, identity: String, session: SessionID) throws(Failure) -> (String, String, [String]) {
        let offer: SessionDescription
        do throws(WireError) { offer = try SessionDescription.parse(text) } catch { throw .badOffer("\(error)") }
        let (ufrag, pwd) = ICELiteAgent.randomCredentials()
        let params = SDPAnswerer.Parameters(sessionID: UInt64(SecureRandom.uint32()), iceUfrag: ufrag, icePassword: pwd,
                                            fingerprint: certificate.fingerprint, candidates: candidates)
        let result: SDPAnswerer.Result
        do throws(SDPAnswerer.Error) { result = try SDPAnswerer.answer(offer, params) } catch { throw .badOffer("\(error)") }
        let resource = newResourceID()
        let publisherKey = "\(room)/\(identity)"
        let state = mediaState
        loop.perform { router in
            let id = router.addTransport(answer: result, localUfrag: ufrag, localPassword: pwd)
            router.publish(transport: id, publisher: publisherKey)
            state.transports[resource] = id
        }
        let kinds = result.media.filter { $0.direction == .recvonly }.map(\.kind)
        if let old = publishers[publisherKey] { end(resource: old.resource) }
        publishers[publisherKey] = (kinds, resource)
        resources[resource] = Resource(room: room, identity: identity, isPublisher: true, session: session)
        return (resource, result.answer.serialized(), kinds)
    }

    /// WHEP: answers a viewer's offer with the publisher's tracks and subscribes it.
    func view(offer text: String, room: String, publisher identity: String, session: SessionID) throws(Failure) -> (String, String) {
        let publisherKey = "\(room)/\(identity)"
        guard let published = publishers[publisherKey] else { throw .noPublisher }
        let offer: SessionDescription
        do throws(WireError) { offer = try SessionDescription.parse(text) } catch { throw .badOffer("\(error)") }
        let (ufrag, pwd) = ICELiteAgent.randomCredentials()
        var outbound: [String: SDPAnswerer.OutboundTrack] = [:]
        for kind in published.kinds {
            outbound[kind] = .init(ssrc: SecureRandom.uint32() | 1, cname: "shihui-\(identity)", streamID: identity, trackID: "\(identity)-\(kind)")
        }
        let params = SDPAnswerer.Parameters(sessionID: UInt64(SecureRandom.uint32()), iceUfrag: ufrag, icePassword: pwd,
                                            fingerprint: certificate.fingerprint, candidates: candidates, outbound: outbound)
        let result: SDPAnswerer.Result
        do throws(SDPAnswerer.Error) { result = try SDPAnswerer.answer(offer, params) } catch { throw .badOffer("\(error)") }
        let resource = newResourceID()
        let state = mediaState
        let subscriptions = result.media.filter { $0.direction == .sendonly }.compactMap { m in outbound[m.kind].map { (m.kind, $0.ssrc) } }
        loop.perform { router in
            let id = router.addTransport(answer: result, localUfrag: ufrag, localPassword: pwd)
            let now = DispatchTime.now().uptimeNanoseconds
            for (kind, ssrc) in subscriptions {
                router.subscribe(transport: id, to: MediaRouter.TrackKey(publisher: publisherKey, kind: kind), ssrc: ssrc, now: now)
            }
            state.transports[resource] = id
        }
        resources[resource] = Resource(room: room, identity: identity, isPublisher: false, session: session)
        return (resource, result.answer.serialized())
    }

    func resource(_ id: String) -> Resource? { resources[id] }

    /// Ends a WHIP/WHEP session (DELETE on its resource).
    @discardableResult
    func end(resource: String) -> Resource? {
        guard let r = resources.removeValue(forKey: resource) else { return nil }
        if r.isPublisher { publishers["\(r.room)/\(r.identity)"] = nil }
        let state = mediaState
        loop.perform { router in
            if let id = state.transports.removeValue(forKey: resource) { router.removeTransport(id) { _, _ in } }
        }
        return r
    }
}
