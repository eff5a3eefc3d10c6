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
    /// `publishers`' keys by room, sorted: a subscriber offer looks at its own room only (with
    /// 1,000 rooms, sorting every publisher per offer made room set-up quadratic).
    private var publisherKeysByRoom: [String: [String]] = [:]

    private func setPublisher(_ key: String, _ value: (kinds: [String], resource: String)?) {
        let room = String(key[..<(key.firstIndex(of: "/") ?? key.endIndex)])  // room names have no "/"
        var keys = publisherKeysByRoom[room] ?? []
        keys.removeAll { $0 == key }
        if value != nil { keys.insert(key, at: keys.firstIndex { $0 > key } ?? keys.endIndex) }
        publisherKeysByRoom[room] = keys.isEmpty ? nil : keys
        publishers[key] = value
    }

    private func publisherKeys(room: String) -> [String] { publisherKeysByRoom[room] ?? [] }
    private var resources: [String: Resource] = [:]

    struct Resource {
        var room: String
        var identity: String
        var isPublisher: Bool
        var session: SessionID
    }

    /// Media-thread state: WHIP/WHEP resource ID → transport. A subscriber connection has no
    /// entry: its transport is found by its ICE ufrag, which the router indexes anyway (an
    /// entry per viewer here was ~50 bytes at 1,000). @unchecked Sendable: only touched inside
    /// `MediaLoop.perform` closures and the loop's `onEvent`, which all run on the media thread.
    final class MediaThreadState: @unchecked Sendable {
        var transports: [String: WebRTCTransport.ID] = [:]
        /// The key the control plane knows `transport` by: its WHIP/WHEP resource, or for a
        /// subscriber connection `subscriberResource(ufrag:)`.
        func resource(of transport: WebRTCTransport.ID, in router: MediaRouter) -> String? {
            if let resource = transports.first(where: { $0.value == transport })?.key { return resource }
            return router.transport(transport).map { MediaService.subscriberResource(ufrag: $0.ice.localUfrag) }
        }
    }
    let mediaState = MediaThreadState()

    /// ICE ufrags and their passwords, the same minter as the router's.
    let credentials: ICECredentialMinter

    init(loop: MediaLoop, certificate: DTLSCertificate, candidateAddress: TransportAddress, credentials: ICECredentialMinter) {
        self.loop = loop
        self.credentials = credentials
        self.certificate = certificate
        self.candidateAddress = candidateAddress
    }

    private var candidates: [SDPICECandidate] {
        [SDPICECandidate(foundation: "1", priority: SDPICECandidate.priority(typePreference: 126, localPreference: 65_535, component: 1),
                         address: candidateAddress.ip.description, port: candidateAddress.port)]
    }

    enum Failure: Error { case badOffer(String), noPublisher }

    private func newResourceID() -> String { SecureRandom.bytes(12).map { String(format: "%02x", $0) }.joined() }

    /// How a subscriber connection's transport is named to the control plane (a failure): by
    /// its ICE ufrag, with a prefix that is not a hex digit, so no WHIP/WHEP resource is one.
    static func subscriberResource(ufrag: String) -> String { "u" + ufrag }

    /// WHIP: answers the publisher's offer and creates its transport. Returns (resource ID, answer, kinds).
    func publish(offer text: String, room: String, identity: String, session: SessionID) throws(Failure) -> (String, String, [String]) {
        let offer: SessionDescription
        do throws(WireError) { offer = try SessionDescription.parse(text) } catch { throw .badOffer("\(error)") }
        let (ufrag, pwd) = credentials.mint()
        let params = SDPAnswerer.Parameters(sessionID: UInt64(SecureRandom.uint32()), iceUfrag: ufrag, icePassword: pwd,
                                            fingerprint: certificate.fingerprint, candidates: candidates)
        let result: SDPAnswerer.Result
        do throws(SDPAnswerer.Error) { result = try SDPAnswerer.answer(offer, params) } catch { throw .badOffer("\(error)") }
        let resource = newResourceID()
        let publisherKey = "\(room)/\(identity)"
        let state = mediaState
        loop.perform { router in
            let id = router.addTransport(answer: result, localUfrag: ufrag)
            router.publish(transport: id, publisher: publisherKey)
            state.transports[resource] = id
        }
        let kinds = result.media.filter { $0.direction == .recvonly }.map(\.kind)
        if let old = publishers[publisherKey] { end(resource: old.resource) }
        setPublisher(publisherKey, (kinds, resource))
        resources[resource] = Resource(room: room, identity: identity, isPublisher: true, session: session)
        return (resource, result.answer.serialized(), kinds)
    }

    /// WHEP: answers a viewer's offer with the publisher's tracks and subscribes it.
    func view(offer text: String, room: String, publisher identity: String, session: SessionID) throws(Failure) -> (String, String) {
        let publisherKey = "\(room)/\(identity)"
        guard let published = publishers[publisherKey] else { throw .noPublisher }
        let offer: SessionDescription
        do throws(WireError) { offer = try SessionDescription.parse(text) } catch { throw .badOffer("\(error)") }
        let (ufrag, pwd) = credentials.mint()
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
            let id = router.addTransport(answer: result, localUfrag: ufrag)
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

    /// Mute or unmute a published track (forwarding pauses; video resumes on a keyframe).
    func setMuted(room: String, identity: String, kind: String, muted: Bool) {
        let key = MediaRouter.TrackKey(publisher: "\(room)/\(identity)", kind: kind)
        loop.perform { router in router.setMuted(key, muted) }
    }

    // MARK: Subscriber connections (server-offered)

    struct AnswerRefused: Error { let reason: String }

    /// A session's subscriber connection. A class: kept per viewer in `subscribers`, whose
    /// entries at half load (a dictionary just past a doubling) cost twice their size, and a
    /// 72-byte struct there was ~150 bytes per viewer at 1,000.
    final class Subscriber {
        /// Its ICE ufrag; the password is derived from it (`credentials`), not stored.
        let ufrag: String
        /// The offered sections in order (section i has mid "i"), each as the track it carries
        /// and our SSRC for it; `SDPOfferer.Section`s with their names are built from these
        /// per offer. Kept per viewer, so small: full sections and a map by mid were ~450 bytes
        /// per viewer (massif, 1 → 300).
        var sections: [SubscriberSection] = []
        var version: UInt64 = 1
        var awaitingAnswer = false
        /// Sections changed while an offer awaited its answer: the next offer is due at the answer.
        var stale = false

        init(ufrag: String) { self.ufrag = ufrag }

        var offered: [SDPOfferer.Section] { sections.indices.map { sections[$0].offered(mid: "\($0)") } }

        func section(mid: String) -> SubscriberSection? {
            guard let i = Int(mid), String(i) == mid, sections.indices.contains(i) else { return nil }
            return sections[i]
        }
    }

    /// One section of a subscriber connection: `source`'s track (publisher "room/identity" and
    /// kind) sent with `ssrc`, until the track ends (`live` false: the section stays, port 0).
    /// 24 bytes, not 40: the kind is audio or video (the only kinds SDPAnswerer negotiates for
    /// a publisher), kept as a flag; a viewer keeps one per track it receives.
    struct SubscriberSection {
        let publisher: String
        let ssrc: UInt32
        private let isVideo: Bool
        var live = true

        init(source: MediaRouter.TrackKey, ssrc: UInt32) {
            precondition(source.kind == "audio" || source.kind == "video", "a publisher's track is audio or video")
            publisher = source.publisher
            isVideo = source.kind == "video"
            self.ssrc = ssrc
        }

        var source: MediaRouter.TrackKey { MediaRouter.TrackKey(publisher: publisher, kind: isVideo ? "video" : "audio") }

        func offered(mid: String) -> SDPOfferer.Section {
            let identity = String(publisher[(publisher.firstIndex(of: "/").map(publisher.index(after:)) ?? publisher.startIndex)...])
            let kind = source.kind
            return SDPOfferer.Section(mid: mid, kind: kind, track: live ? SDPAnswerer.OutboundTrack(
                ssrc: ssrc, cname: "shihui-\(identity)", streamID: identity, trackID: "\(identity)-\(kind)") : nil)
        }
    }

    private var subscribers: [SessionID: Subscriber] = [:]
    private let sessionID = UInt64(SecureRandom.uint32())

    /// A new offer for the session's subscriber connection, or nil when nothing changed (or an
    /// offer is awaiting its answer: the change is offered once it arrives).
    func subscriberOffer(session: SessionID, room: String, identity: String) -> String? {
        let sub = subscribers[session] ?? {
            let new = Subscriber(ufrag: credentials.mint().ufrag)
            subscribers[session] = new
            return new
        }()
        // Desired: every track published in the room by someone else.
        var desired: [MediaRouter.TrackKey] = []
        for key in publisherKeys(room: room) where key != "\(room)/\(identity)" {
            for kind in publishers[key]?.kinds ?? [] { desired.append(MediaRouter.TrackKey(publisher: key, kind: kind)) }
        }
        var changed = false
        for i in sub.sections.indices where sub.sections[i].live && !desired.contains(sub.sections[i].source) {
            sub.sections[i].live = false
            changed = true
        }
        for key in desired where !sub.sections.contains(where: { $0.live && $0.source == key }) {
            sub.sections.append(SubscriberSection(source: key, ssrc: SecureRandom.uint32() | 1))
            changed = true
        }
        if sub.awaitingAnswer {
            sub.stale = sub.stale || changed
            return nil
        }
        // Changes made while an offer awaited its answer are already in `sections` (`stale`
        // remembers them): they are what this offer is for.
        guard changed || sub.stale else { return nil }
        sub.stale = false
        sub.version += 1
        sub.awaitingAnswer = true
        return SDPOfferer.offer(sessionID: sessionID, version: sub.version, sections: sub.offered, iceUfrag: sub.ufrag, icePassword: credentials.password(for: sub.ufrag),
                                fingerprint: certificate.fingerprint, candidates: candidates).serialized()
    }

    /// The client's answer: creates the transport (first time) or updates its subscriptions.
    /// Returns whether another offer is due (tracks changed meanwhile).
    func subscriberAnswer(session: SessionID, sdp: String) -> Swift.Result<Bool, AnswerRefused> {
        guard let sub = subscribers[session], sub.awaitingAnswer else { return .failure(AnswerRefused(reason: "no subscriber offer is awaiting an answer")) }
        let parsed: SessionDescription
        do throws(WireError) { parsed = try SessionDescription.parse(sdp) } catch { return .failure(AnswerRefused(reason: "\(error)")) }
        let result: SDPAnswerer.Result
        do throws(SDPAnswerer.Error) { result = try SDPOfferer.readAnswer(parsed, sections: sub.offered) } catch { return .failure(AnswerRefused(reason: "\(error)")) }
        sub.awaitingAnswer = false
        let subscriptions = result.media.compactMap { m -> (mid: String, key: MediaRouter.TrackKey, ssrc: UInt32)? in
            guard let entry = sub.section(mid: m.mid), entry.live else { return nil }
            return (m.mid, entry.source, entry.ssrc)
        }
        let ufrag = sub.ufrag
        loop.perform { router in
            let now = DispatchTime.now().uptimeNanoseconds
            let id = router.transportID(localUfrag: ufrag) ?? router.addTransport(answer: result, localUfrag: ufrag)
            router.updateSubscriber(transport: id, media: result.media, subscriptions: subscriptions, now: now)
        }
        return .success(sub.stale)
    }

    enum FailedTransport { case publisher(Resource), viewer(Resource), subscriber(SessionID) }

    /// A transport failed (consent expired, DTLS refused): forget it and say whose it was.
    func transportFailed(resource: String) -> FailedTransport? {
        if let r = resources[resource] {
            end(resource: resource)
            return r.isPublisher ? .publisher(r) : .viewer(r)
        }
        // A scan, but only when a subscriber transport fails (consent expiry, DTLS refused).
        if let (session, sub) = subscribers.first(where: { Self.subscriberResource(ufrag: $0.value.ufrag) == resource }) {
            subscribers[session] = nil
            removeSubscriberTransport(ufrag: sub.ufrag)
            return .subscriber(session)
        }
        return nil
    }

    /// A participant left: ends its publisher and subscriber connections. True if it published.
    func sessionEnded(_ session: SessionID) -> Bool {
        var published = false
        for (id, r) in resources where r.session == session && r.isPublisher {
            end(resource: id)
            published = true
        }
        if let sub = subscribers.removeValue(forKey: session) { removeSubscriberTransport(ufrag: sub.ufrag) }
        return published
    }

    private func removeSubscriberTransport(ufrag: String) {
        loop.perform { router in
            if let id = router.transportID(localUfrag: ufrag) { router.removeTransport(id) { _, _ in } }
        }
    }

    /// Ends a WHIP/WHEP session (DELETE on its resource).
    @discardableResult
    func end(resource: String) -> Resource? {
        guard let r = resources.removeValue(forKey: resource) else { return nil }
        if r.isPublisher { setPublisher("\(r.room)/\(r.identity)", nil) }
        let state = mediaState
        loop.perform { router in
            if let id = state.transports.removeValue(forKey: resource) { router.removeTransport(id) { _, _ in } }
        }
        return r
    }
}
