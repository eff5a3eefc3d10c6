import Dispatch
import Foundation
import MediaCrypto
import MediaWire
import SFU
import Signaling

/// WHIP (RFC 9725) and WHEP sessions, and meeting participants' publisher and subscriber
/// connections, on the control thread: builds SDP answers (pure), then asks the media thread to
/// create transports and subscriptions through `MediaThread.perform`.
public final class MediaService {
    let loop: any MediaThread
    let certificate: DTLSCertificate
    let candidateAddress: TransportAddress
    public let limits: Limits

    /// Caps on what clients can hold open (docs/signaling.md, "Limits").
    public struct Limits {
        /// Transports created but not connected yet, server-wide (each holds DTLS state).
        public var maxPendingTransports = 5_000
        /// WHEP sessions one identity may hold in one room.
        public var maxViewerSessionsPerIdentity = 4
        public init(maxPendingTransports: Int = 5_000, maxViewerSessionsPerIdentity: Int = 4) {
            self.maxPendingTransports = maxPendingTransports
            self.maxViewerSessionsPerIdentity = maxViewerSessionsPerIdentity
        }
    }

    /// What a publisher sends, as negotiated (and renegotiated), and its resource.
    public struct Published {
        /// One per track: its source, its publisher's section, codec and format parameters
        /// (H.264's profile), and the sid signaling names it by.
        public struct Track: Equatable, Sendable {
            public var source: TrackSource
            public var mid: String
            public var codec: MediaCodec
            public var formatParameters: String
            public var sid: String
            public var kind: MediaKind { codec.kind }
            public init(source: TrackSource, mid: String, codec: MediaCodec, formatParameters: String, sid: String) {
                self.source = source
                self.mid = mid
                self.codec = codec
                self.formatParameters = formatParameters
                self.sid = sid
            }
        }
        public var tracks: [Track]
        public var resource: String
        public var kinds: [MediaKind] { tracks.map(\.kind) }
        /// The peer's ICE ufrag and certificate, and ours: a later offer with the same ufrag
        /// and fingerprint renegotiates this connection (JSEP, RFC 8829 §5.2.2) instead of
        /// replacing it.
        var remoteUfrag: String
        var remoteFingerprint: [UInt8]
        var localUfrag: String
        /// Tracks this resource has had, for new sids.
        var tracksMade: Int
    }

    /// What a publish did: the resource, our answer, the tracks now published, and whether it
    /// renegotiated the participant's existing connection.
    public struct Publication {
        public var resource: String
        public var answer: String
        public var tracks: [Published.Track]
        public var renegotiated: Bool
        public var kinds: [MediaKind] { tracks.map(\.kind) }
    }

    /// Published tracks by participant (room and identity, never one joined string).
    public private(set) var publishers: [ParticipantKey: Published] = [:]
    /// Publishers' identities by room, sorted: a subscriber offer looks at its own room only
    /// (with 1,000 rooms, sorting every publisher per offer made room set-up quadratic).
    private var publisherIdentitiesByRoom: [String: [String]] = [:]

    private func setPublisher(_ key: ParticipantKey, _ value: Published?) {
        var identities = publisherIdentitiesByRoom[key.room] ?? []
        identities.removeAll { $0 == key.identity }
        if value != nil { identities.insert(key.identity, at: identities.firstIndex { $0 > key.identity } ?? identities.endIndex) }
        publisherIdentitiesByRoom[key.room] = identities.isEmpty ? nil : identities
        publishers[key] = value
    }

    private func publisherIdentities(room: String) -> [String] { publisherIdentitiesByRoom[room] ?? [] }
    private var resources: [String: Resource] = [:]
    /// WHEP sessions per viewer (room and identity), for `maxViewerSessionsPerIdentity`.
    private var viewerSessions: [ParticipantKey: Int] = [:]
    /// Transports created and not yet connected, by the name the media thread reports them by
    /// (a resource, or `subscriberResource(ufrag:)`), for `maxPendingTransports`.
    public private(set) var pending: Set<String> = []

    /// A WHIP or WHEP session: it belongs to its room, its owner's identity and its kind, and
    /// only a request naming all three, with a token for that owner, may end it (RFC 9725 §4.2).
    public struct Resource {
        /// A WHIP (or meeting) publisher, a WHEP viewer, or a source outside WebRTC (an ingress).
        public enum Kind: Sendable { case whip, whep, source }
        public var kind: Kind
        /// The publisher (WHIP) or the viewer (WHEP) that created it.
        public var owner: ParticipantKey
        /// WHEP: the publisher it views.
        public var publisher: String?
        public var session: SessionID
        public var isPublisher: Bool { kind != .whep }
    }

    /// Media-thread state: WHIP/WHEP resource ID → transport and back. A subscriber connection
    /// has no entry: its transport is found by its ICE ufrag, which the router indexes anyway.
    /// @unchecked Sendable: only touched inside `MediaLoop.perform` closures and the loop's
    /// `onEvent`, which all run on the media thread.
    public final class MediaThreadState: @unchecked Sendable {
        var transports: [String: WebRTCTransport.ID] = [:]
        var resourceByTransport: [WebRTCTransport.ID: String] = [:]
        /// The key the control plane knows `transport` by: its WHIP/WHEP resource, or for a
        /// subscriber connection `subscriberResource(ufrag:)`.
        public func resource(of transport: WebRTCTransport.ID, in router: MediaRouter) -> String? {
            if let resource = resourceByTransport[transport] { return resource }
            return router.transport(transport).map { MediaService.subscriberResource(ufrag: $0.ice.localUfrag) }
        }

        func add(_ resource: String, _ id: WebRTCTransport.ID) {
            transports[resource] = id
            resourceByTransport[id] = resource
        }

        func remove(_ resource: String) -> WebRTCTransport.ID? {
            guard let id = transports.removeValue(forKey: resource) else { return nil }
            resourceByTransport[id] = nil
            return id
        }
    }
    public let mediaState = MediaThreadState()

    /// ICE ufrags and their passwords, the same minter as the router's.
    let credentials: ICECredentialMinter

    public init(loop: any MediaThread, certificate: DTLSCertificate, candidateAddress: TransportAddress, credentials: ICECredentialMinter, limits: Limits = Limits()) {
        self.loop = loop
        self.credentials = credentials
        self.certificate = certificate
        self.candidateAddress = candidateAddress
        self.limits = limits
    }

    private var candidates: [SDPICECandidate] {
        [SDPICECandidate(foundation: "1", priority: SDPICECandidate.priority(typePreference: 126, localPreference: 65_535, component: 1),
                         address: candidateAddress.ip.description, port: candidateAddress.port)]
    }

    /// Why an offer was refused: a stable `code` and a sentence for people.
    public enum Failure: Error, Equatable {
        /// `reason` is the specific code under the stable `bad_offer` (docs/signaling.md, "Errors").
        case badOffer(reason: String, message: String)
        case noPublisher
        /// The viewer holds `limit` WHEP sessions in this room already.
        case tooManySessions(limit: Int)
        /// `limit` transports are waiting to connect server-wide.
        case busy(limit: Int)

        static func from(_ e: WireError) -> Failure { .badOffer(reason: "invalid_sdp", message: e.sentence) }
        static func from(_ e: SDPAnswerer.Error) -> Failure { .badOffer(reason: e.code, message: e.message) }
    }

    private func newResourceID() -> String { HexText.lowercase(SecureRandom.bytes(12)) }

    /// How a subscriber connection's transport is named to the control plane (a failure): by
    /// its ICE ufrag, with a prefix that is not a hex digit, so no WHIP/WHEP resource is one.
    public static func subscriberResource(ufrag: String) -> String { "u" + ufrag }

    private func checkPendingCap() throws(Failure) {
        guard pending.count < limits.maxPendingTransports else { throw .busy(limit: limits.maxPendingTransports) }
    }

    private static func parse(_ text: String) throws(Failure) -> SessionDescription {
        do throws(WireError) { return try SessionDescription.parse(text) } catch { throw .from(error) }
    }

    /// Answers a peer's offer with ICE credentials `ufrag` (fresh ones when nil), sending `outbound`.
    private func answer(_ offer: SessionDescription, ufrag: String? = nil, outbound: [SDPAnswerer.OutboundTrack] = []) throws(Failure) -> (result: SDPAnswerer.Result, ufrag: String) {
        let (ufrag, pwd) = ufrag.map { ($0, credentials.password(for: $0)) } ?? credentials.mint()
        let params = SDPAnswerer.Parameters(sessionID: UInt64(SecureRandom.uint32()), iceUfrag: ufrag, icePassword: pwd,
                                            fingerprint: certificate.fingerprint, candidates: candidates, outbound: outbound)
        do throws(SDPAnswerer.Error) { return (try SDPAnswerer.answer(offer, params), ufrag) } catch { throw .from(error) }
    }

    /// WHIP or a meeting publisher: answers the offer and publishes its sections, each under a
    /// source (`hints` by mid, else camera then screen, microphone then screen audio). An offer
    /// from the same session with the connection's ICE ufrag and certificate renegotiates it
    /// (a screen share added or stopped); any other replaces the participant's earlier one.
    public func publish(offer text: String, publisher key: ParticipantKey, session: SessionID,
                        hints: [String: TrackSource] = [:]) throws(Failure) -> Publication {
        let offer = try Self.parse(text)
        if let old = publishers[key], resources[old.resource]?.session == session,
           let ufrag = offer.media.first?.iceUfrag ?? offer.iceUfrag, ufrag == old.remoteUfrag {
            let (result, _) = try answer(offer, ufrag: old.localUfrag)
            if result.remoteFingerprint == old.remoteFingerprint { return renegotiate(old, result, publisher: key, hints: hints) }
        }
        try checkPendingCap()
        let (result, ufrag) = try answer(offer)
        let resource = newResourceID()
        var published = Published(tracks: [], resource: resource, remoteUfrag: result.remoteUfrag, remoteFingerprint: result.remoteFingerprint,
                                   localUfrag: ufrag, tracksMade: 0)
        let sources = label(&published, result, hints: hints)
        let state = mediaState
        loop.perform { router in
            let id = router.addTransport(result.transport, localUfrag: ufrag, now: DispatchTime.now().uptimeNanoseconds)
            router.publish(transport: id, publisher: key, sources: sources)
            state.add(resource, id)
        }
        if let old = publishers[key] { end(resource: old.resource) }
        setPublisher(key, published)
        resources[resource] = Resource(kind: .whip, owner: key, publisher: nil, session: session)
        pending.insert(resource)
        return Publication(resource: resource, answer: result.answer.serialized(), tracks: published.tracks, renegotiated: false)
    }

    /// A source that is not a WebRTC peer (an ingress) publishes `tracks` (its router source is
    /// the caller's): subscribers and WHEP viewers are offered them like a publisher's.
    public func publishSource(_ key: ParticipantKey, tracks sent: [(source: TrackSource, codec: MediaCodec, formatParameters: String)],
                              session: SessionID) -> Publication {
        let resource = newResourceID()
        var published = Published(tracks: [], resource: resource, remoteUfrag: "", remoteFingerprint: [], localUfrag: "", tracksMade: 0)
        for t in sent {
            published.tracksMade += 1
            published.tracks.append(Published.Track(source: t.source, mid: t.source.rawValue, codec: t.codec, formatParameters: t.formatParameters,
                                                    sid: "TR_\(resource.prefix(10))_\(published.tracksMade)"))
        }
        if let old = publishers[key] { end(resource: old.resource) }
        setPublisher(key, published)
        resources[resource] = Resource(kind: .source, owner: key, publisher: nil, session: session)
        return Publication(resource: resource, answer: "", tracks: published.tracks, renegotiated: false)
    }

    /// The same connection, renegotiated: sections keep their tracks, new ones publish, and
    /// tracks whose sections stopped sending leave.
    private func renegotiate(_ old: Published, _ result: SDPAnswerer.Result, publisher key: ParticipantKey, hints: [String: TrackSource]) -> Publication {
        var published = old
        let sources = label(&published, result, hints: hints)
        let state = mediaState, resource = old.resource
        loop.perform { router in
            guard let id = state.transports[resource] else { return }
            router.updatePublisher(transport: id, media: result.media, publisher: key, sources: sources)
        }
        setPublisher(key, published)
        return Publication(resource: resource, answer: result.answer.serialized(), tracks: published.tracks, renegotiated: true)
    }

    /// Gives each received section of `result` its source and track (kept from `published`
    /// when its mid, source and codec are unchanged); returns the sources by mid.
    private func label(_ published: inout Published, _ result: SDPAnswerer.Result, hints: [String: TrackSource]) -> [String: TrackSource] {
        let received = result.media.filter { $0.direction == .receiving }
        var kept: [String: TrackSource] = [:]
        for t in published.tracks { kept[t.mid] = t.source }
        let sources = TrackSource.assign(received.map { ($0.mid, $0.kind) }, kept: kept, hints: hints)
        var tracks: [Published.Track] = []
        for m in received {
            guard let source = sources[m.mid] else { continue }
            if let same = published.tracks.first(where: { $0.mid == m.mid && $0.source == source && $0.codec == m.codec }) {
                tracks.append(same)
                continue
            }
            published.tracksMade += 1
            tracks.append(Published.Track(source: source, mid: m.mid, codec: m.codec, formatParameters: m.formatParameters,
                                          sid: "TR_\(published.resource.prefix(10))_\(published.tracksMade)"))
        }
        published.tracks = tracks
        return sources
    }

    /// WHEP: answers a viewer's offer with the publisher's tracks (in the viewer's own room
    /// only) and subscribes it.
    public func view(offer text: String, publisher key: ParticipantKey, viewer: ParticipantKey, session: SessionID) throws(Failure) -> (String, String) {
        precondition(key.room == viewer.room, "a viewer sees its own room only")
        guard let published = publishers[key] else { throw .noPublisher }
        guard viewerSessions[viewer, default: 0] < limits.maxViewerSessionsPerIdentity else { throw .tooManySessions(limit: limits.maxViewerSessionsPerIdentity) }
        try checkPendingCap()
        let identity = key.identity
        // Every track of the publisher, in its order (microphone and camera first as offered):
        // each goes to the viewer's first free section of its kind that offers its codec.
        let outbound = published.tracks.map { t in
            (t.source, SDPAnswerer.OutboundTrack(ssrc: SecureRandom.uint32() | 1, cname: "shihui-\(identity)", streamID: identity,
                                                 trackID: "\(identity)-\(t.source.trackIDSuffix)", codec: t.codec, formatParameters: t.formatParameters))
        }
        let (result, ufrag) = try answer(try Self.parse(text), outbound: outbound.map(\.1))
        let resource = newResourceID()
        let state = mediaState
        let subscriptions = result.media.compactMap { m in outbound.first { $0.1.ssrc == m.outboundSSRC }.map { ($0.0, $0.1.ssrc) } }
        loop.perform { router in
            let now = DispatchTime.now().uptimeNanoseconds
            let id = router.addTransport(result.transport, localUfrag: ufrag, now: now)
            for (source, ssrc) in subscriptions {
                router.subscribe(transport: id, to: MediaRouter.TrackKey(publisher: key, source: source), ssrc: ssrc, now: now)
            }
            state.add(resource, id)
        }
        resources[resource] = Resource(kind: .whep, owner: viewer, publisher: key.identity, session: session)
        viewerSessions[viewer, default: 0] += 1
        pending.insert(resource)
        return (resource, result.answer.serialized())
    }

    public func resource(_ id: String) -> Resource? { resources[id] }

    /// The media thread reports a transport connected: it no longer counts as pending.
    public func transportConnected(resource: String) { pending.remove(resource) }

    /// Mute or unmute a published track (forwarding pauses; video resumes on a keyframe).
    public func setMuted(publisher: ParticipantKey, source: TrackSource, muted: Bool) {
        let key = MediaRouter.TrackKey(publisher: publisher, source: source)
        loop.perform { router in router.setMuted(key, muted) }
    }

    // MARK: Subscriber connections (server-offered)

    public struct AnswerRefused: Error { public let reason: String }

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
        /// Its transport was created (by the first answer): it counts as pending until connected.
        var transportCreated = false
        /// Sections changed while an offer awaited its answer: the next offer is due at the answer.
        var stale = false


        init(ufrag: String) { self.ufrag = ufrag }

        func section(mid: String) -> SubscriberSection? {
            guard let i = Int(mid), String(i) == mid, sections.indices.contains(i) else { return nil }
            return sections[i]
        }
    }

    /// One section of a subscriber connection: the track of `publisher` (an identity in the
    /// subscriber's own room) from one source, sent with `ssrc`, until the track ends (`live`
    /// false: the section stays, port 0). The room is the subscriber's, never stored per
    /// section: a viewer keeps one per track it receives.
    struct SubscriberSection {
        let publisher: String
        let ssrc: UInt32
        /// The track's codec (its kind follows): a section keeps its codec for life.
        let codec: MediaCodec
        let source: TrackSource
        var live = true

        init(publisher: String, source: TrackSource, codec: MediaCodec, ssrc: UInt32) {
            self.publisher = publisher
            self.source = source
            self.codec = codec
            self.ssrc = ssrc
        }

        var kind: MediaKind { codec.kind }

        func track(room: String) -> MediaRouter.TrackKey { MediaRouter.TrackKey(publisher: ParticipantKey(room: room, identity: publisher), source: source) }

        func carries(_ publisher: String, _ source: TrackSource, _ codec: MediaCodec) -> Bool {
            live && self.publisher == publisher && self.source == source && self.codec == codec
        }

        /// `formatParameters`: the publisher's, for a live H.264 section's profile.
        func offered(mid: String, formatParameters: String) -> SDPOfferer.Section {
            SDPOfferer.Section(mid: mid, kind: kind, track: live ? SDPAnswerer.OutboundTrack(
                ssrc: ssrc, cname: "shihui-\(publisher)", streamID: publisher, trackID: "\(publisher)-\(source.trackIDSuffix)",
                codec: codec, formatParameters: formatParameters) : nil, codec: codec)
        }
    }

    /// A subscriber's sections as offered: each live one with its publisher's format parameters.
    /// `room` is the subscriber's (its sections' publishers are in it): passed, not kept, as a
    /// viewer keeps a `Subscriber` for as long as it watches.
    private func offered(_ sub: Subscriber, room: String) -> [SDPOfferer.Section] {
        sub.sections.indices.map { i in
            let section = sub.sections[i]
            let parameters = section.live && section.codec == .h264
                ? publishers[ParticipantKey(room: room, identity: section.publisher)]?.tracks.first { $0.source == section.source }?.formatParameters ?? "" : ""
            return section.offered(mid: "\(i)", formatParameters: parameters)
        }
    }

    private var subscribers: [SessionID: Subscriber] = [:]
    private let sessionID = UInt64(SecureRandom.uint32())

    /// A new offer for the session's subscriber connection, or nil when nothing changed (or an
    /// offer is awaiting its answer: the change is offered once it arrives).
    public func subscriberOffer(session: SessionID, participant: ParticipantKey) -> String? {
        let sub = subscribers[session] ?? {
            let new = Subscriber(ufrag: credentials.mint().ufrag)
            subscribers[session] = new
            return new
        }()
        // Desired: every track published in the participant's room by someone else.
        var desired: [(publisher: String, source: TrackSource, codec: MediaCodec)] = []
        for identity in publisherIdentities(room: participant.room) where identity != participant.identity {
            for t in publishers[ParticipantKey(room: participant.room, identity: identity)]?.tracks ?? [] { desired.append((identity, t.source, t.codec)) }
        }
        var changed = false
        for i in sub.sections.indices where sub.sections[i].live && !desired.contains(where: { sub.sections[i].carries($0.publisher, $0.source, $0.codec) }) {
            sub.sections[i].live = false
            changed = true
        }
        for d in desired where !sub.sections.contains(where: { $0.carries(d.publisher, d.source, d.codec) }) {
            sub.sections.append(SubscriberSection(publisher: d.publisher, source: d.source, codec: d.codec, ssrc: SecureRandom.uint32() | 1))
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
        return SDPOfferer.offer(sessionID: sessionID, version: sub.version, sections: offered(sub, room: participant.room), iceUfrag: sub.ufrag, icePassword: credentials.password(for: sub.ufrag),
                                fingerprint: certificate.fingerprint, candidates: candidates).serialized()
    }

    /// The client's answer: creates the transport (first time) or updates its subscriptions.
    /// Returns whether another offer is due (tracks changed meanwhile).
    public func subscriberAnswer(session: SessionID, room: String, sdp: String) -> Swift.Result<Bool, AnswerRefused> {
        guard let sub = subscribers[session], sub.awaitingAnswer else { return .failure(AnswerRefused(reason: "no subscriber offer is awaiting an answer")) }
        let parsed: SessionDescription
        do throws(WireError) { parsed = try SessionDescription.parse(sdp) } catch { return .failure(AnswerRefused(reason: error.sentence)) }
        let result: SDPAnswerer.Result
        do throws(SDPAnswerer.Error) { result = try SDPOfferer.readAnswer(parsed, sections: offered(sub, room: room)) } catch { return .failure(AnswerRefused(reason: error.message)) }
        sub.awaitingAnswer = false
        let subscriptions = result.media.compactMap { m -> (mid: String, key: MediaRouter.TrackKey, ssrc: UInt32)? in
            guard let entry = sub.section(mid: m.mid), entry.live else { return nil }
            return (m.mid, entry.track(room: room), entry.ssrc)
        }
        let ufrag = sub.ufrag
        if !sub.transportCreated {
            sub.transportCreated = true
            pending.insert(Self.subscriberResource(ufrag: ufrag))
        }
        loop.perform { router in
            let now = DispatchTime.now().uptimeNanoseconds
            let id = router.transportID(localUfrag: ufrag) ?? router.addTransport(result.transport, localUfrag: ufrag, now: now)
            router.updateSubscriber(transport: id, media: result.media, subscriptions: subscriptions, now: now)
        }
        return .success(sub.stale)
    }

    public enum FailedTransport { case publisher(Resource), viewer(Resource), subscriber(SessionID) }

    /// A transport failed (consent expired, DTLS refused, never connected): forget it and say
    /// whose it was.
    public func transportFailed(resource: String) -> FailedTransport? {
        pending.remove(resource)
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
    public func sessionEnded(_ session: SessionID) -> Bool {
        var published = false
        for (id, r) in resources where r.session == session && r.isPublisher {
            end(resource: id)
            published = true
        }
        if let sub = subscribers.removeValue(forKey: session) { removeSubscriberTransport(ufrag: sub.ufrag) }
        return published
    }

    private func removeSubscriberTransport(ufrag: String) {
        pending.remove(Self.subscriberResource(ufrag: ufrag))
        loop.perform { router in
            if let id = router.transportID(localUfrag: ufrag) { router.removeTransport(id) { _, _ in } }
        }
    }

    /// Ends a WHIP/WHEP session (DELETE on its resource, a replacement, a failure).
    @discardableResult
    public func end(resource: String) -> Resource? {
        guard let r = resources.removeValue(forKey: resource) else { return nil }
        pending.remove(resource)
        switch r.kind {
        case .whip, .source:
            if publishers[r.owner]?.resource == resource { setPublisher(r.owner, nil) }
        case .whep:
            let n = viewerSessions[r.owner, default: 1] - 1
            viewerSessions[r.owner] = n > 0 ? n : nil
        }
        let state = mediaState
        loop.perform { router in
            if let id = state.remove(resource) { router.removeTransport(id) { _, _ in } }
        }
        return r
    }
}
