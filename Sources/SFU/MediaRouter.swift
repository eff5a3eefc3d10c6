import MediaCrypto
import MediaWire

/// The SFU's media graph on one thread, without sockets: transports found by 5-tuple (or, for a
/// new 5-tuple, by the ICE ufrag in STUN USERNAME), publishers' tracks, and subscriptions that
/// forward each publisher packet to every subscriber with its own rewriting and encryption.
///
/// `handle(datagram, from, now, send)` and `tick(now, send)` call `send` for each datagram to
/// emit; the I/O layer batches those into sendmmsg. Per packet nothing is allocated: packets are
/// transformed in caller-provided buffers.
///
/// Forwarding path (RFC 7983 classes):
/// STUN → ICE agent · DTLS → DTLS transport (keys → SRTP contexts) · SRTP from a publisher →
/// unprotect → cache → for each subscriber: copy, rewrite SSRC/PT/seq/ts, drop header extensions,
/// protect, send · SRTCP from a subscriber → PLI/FIR forwarded (rate-limited) to the publisher,
/// NACKs answered from the cache.
public final class MediaRouter {
    public struct Stats: Sendable {
        public var packetsIn = 0, packetsOut = 0, bytesIn = 0, bytesOut = 0
        public var droppedUnknownSource = 0, droppedSRTP = 0, droppedMalformed = 0
        public var nacksAnswered = 0, keyframeRequests = 0, nacksSent = 0
        /// Keyframes seen arriving (first packets of one), by codec.
        public var keyframesVP8 = 0, keyframesH264 = 0
        /// Packets sent to new viewers from sources' keyframe caches.
        public var keyframeCacheReplays = 0
        public var transportsConnected = 0, dtlsFailures = 0
        /// Transports that did not connect (ICE and DTLS) within `connectTimeout`.
        public var connectTimeouts = 0
        /// Transports removed (each gives back whatever DTLS state it still held).
        public var transportsRemoved = 0
        /// Viewer transports whose OpenSSL association was freed after the handshake.
        public var dtlsReleased = 0
        /// Transports whose released association's final flight was dropped too (nothing of
        /// DTLS left: `WebRTCTransport.dtls` is nil).
        public var dtlsFinished = 0
        public init() {}
    }

    public enum Event: Equatable, Sendable {
        case connected(WebRTCTransport.ID)
        case failed(WebRTCTransport.ID, String)
        /// A viewer or a tap wants a keyframe of a non-WebRTC source's stream `ssrc`: the source
        /// may answer it (an RTSP camera cannot, an encoder can), forward it as RTCP, or ignore it.
        case keyframeRequested(SourceID, ssrc: UInt32)
        /// Packets of a source's stream `ssrc` lost on their way to us (RFC 4585 §6.2.1 terms).
        case retransmissionRequested(SourceID, ssrc: UInt32, lost: [UInt16])
    }

    public internal(set) var stats = Stats()
    private let dtlsContext: DTLSContext
    /// The OpenSSL cipher contexts every transport's SRTP keys take turns in (this router runs on
    /// one thread): three for the server instead of three per viewer.
    let cipherContexts = SRTPCipherContexts()
    var transports: [WebRTCTransport.ID: WebRTCTransport] = [:]
    private var byUfrag: [String: WebRTCTransport.ID] = [:]
    private var byAddress: [TransportAddress: WebRTCTransport.ID] = [:]
    var tracks: [TrackKey: Track] = [:]
    /// Transports' negotiated sections, one copy of each distinct list.
    var mediaSections = MediaSectionsInterner()
    /// Publisher transport + payload type → track.
    var tracksByTransport: [WebRTCTransport.ID: [Track]] = [:]
    /// Tracks with a keyframe request or NACKs outstanding, the only ones `tick` visits.
    private var attention: [Track] = []
    /// Tracks with taps, whose keyframe requests `tick` looks at.
    var tapped: [Track] = []
    /// Non-WebRTC sources (MediaRouter+Sources).
    var sources: [SourceID: PlainSource] = [:]
    var nextSourceID: SourceID = 1
    /// How many tracks `tick` visits now (for tests).
    var attentionCount: Int { attention.count }
    private var nextID: WebRTCTransport.ID = 1
    private var scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 16)
    /// Where outgoing packets (forwarded RTP, our RTCP) are built before `send` copies them out.
    /// Owned, not `withUnsafeTemporaryAllocation`: past 1 KiB that falls back to malloc and free
    /// on a media thread, one pair per forwarded packet (perf: 1.5 % of 1 → 500).
    private let outgoing = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 16)
    public private(set) var events: [Event] = []

    /// Bytes of each source video track's keyframe cache (0: none; WebRTC publishers answer
    /// keyframe requests and have none).
    public var keyframeCacheBytes = 4 << 20

    /// RFC 7675 consent timeout for new transports (tunable for tests).
    public var consentTimeout: UInt64 = ICELiteAgent.defaultConsentTimeout
    /// A transport not connected (a nominated ICE check, then DTLS) this long after it was added
    /// fails: an offer whose peer never checks must not hold its DTLS state for ever.
    public var connectTimeout: UInt64 = MediaRouter.defaultConnectTimeout
    public static let defaultConnectTimeout: UInt64 = 20_000_000_000
    /// Transports by connect deadline, oldest first (one timeout for all, so appending keeps the
    /// order); the consent pass takes the due ones from the front, `awaitingHead` on.
    private var awaitingConnection: [(id: WebRTCTransport.ID, deadline: UInt64)] = []
    private var awaitingHead = 0

    /// Unix time in nanoseconds at which the caller's monotonic `now` was 0: turns `now` into the
    /// wall-clock NTP timestamps of our SRs (RFC 3550 §6.4.1). Set once by the I/O layer.
    public var unixTimeAtZero: UInt64 = 0
    /// When the next RTCP report pass runs (`tick`).
    var nextReportPass: UInt64 = 0
    /// Connected transports by when their reports are due (MediaRouter+Reports).
    var reportWheel = ReportWheel(slotNanos: MediaRouter.reportPassInterval)
    var reportsDue: [WebRTCTransport.ID] = []
    /// Connected transports whose DTLS association or kept final flight is still held, the only
    /// ones the release pass visits (`releaseAssociations`).
    private var holdingAssociation: [WebRTCTransport.ID] = []
    var nextTransportPass: UInt64 = 0
    static let transportPassInterval: UInt64 = 50_000_000
    /// Transports still handshaking, the only ones the 50 ms pass visits (DTLS retransmission).
    private var handshaking: [WebRTCTransport.ID] = []
    /// How many transports the 50 ms pass still visits: handshakes in flight (those that ended
    /// since the last pass included). The I/O layer gives heap pages back only when it is 0.
    public var handshakingCount: Int { handshaking.count }
    /// Consent expiry (RFC 7675: 30 s by default, seconds at the least) is checked once a second
    /// over all transports: visiting 6,000 every 50 ms was 18 % of the core in rooms 1000×3
    /// (a retain and release per transport and agent).
    var nextConsentPass: UInt64 = 0
    static let consentPassInterval: UInt64 = 1_000_000_000

    /// Derives each transport's ICE password from its ufrag (the control plane mints both with
    /// the same minter and writes them into SDP).
    public let iceCredentials: ICECredentialMinter

    public init(dtlsContext: DTLSContext, iceCredentials: ICECredentialMinter = ICECredentialMinter()) {
        self.dtlsContext = dtlsContext
        self.iceCredentials = iceCredentials
    }

    deinit {
        scratch.deallocate()
        outgoing.deallocate()
    }

    /// Takes the events since the last call (connected, failed). The list is handed over, not
    /// copied and kept: `removeAll(keepingCapacity:)` on a list still shared with the caller
    /// made a new buffer as large as the largest burst (a join storm's connections) on every
    /// call, and the router kept it (massif: ~50 bytes per viewer after a 300-viewer storm).
    public func takeEvents() -> [Event] {
        guard !events.isEmpty else { return [] }
        defer { events = [] }
        return events
    }

    // MARK: Control (called on the media thread, from commands)

    /// Adds a transport for a negotiated peer connection whose ICE ufrag is `localUfrag` (its
    /// password is `iceCredentials.password(for: localUfrag)`); returns its ID.
    @discardableResult
    public func addTransport(_ answer: TransportParameters, localUfrag: String, now: UInt64) -> WebRTCTransport.ID {
        let id = nextID
        nextID += 1
        let ice = ICELiteAgent(localUfrag: localUfrag, remoteUfrag: answer.remoteUfrag)
        let dtls = DTLSTransport(context: dtlsContext, role: answer.dtlsRole, remoteFingerprint: answer.remoteFingerprint)
        transports[id] = WebRTCTransport(id: id, ice: ice, dtls: dtls, media: mediaSections.shared(answer.media))
        byUfrag[localUfrag] = id
        handshaking.append(id)
        awaitingConnection.append((id, now &+ connectTimeout))
        return id
    }

    /// Declares the tracks a publisher transport sends (its negotiated receive sections), each
    /// under the source `sources` gives its mid (by default the order rule of
    /// `TrackSource.assign`). Called again after a renegotiation: a section that kept its mid,
    /// codec and payload type keeps its track; a new one publishes (taking over its source's
    /// viewers and taps); a track whose section went away is unpublished.
    public func publish(transport id: WebRTCTransport.ID, publisher: ParticipantKey, sources: [String: TrackSource]? = nil) {
        guard let t = transports[id] else { return }
        let received = t.media.filter { $0.direction == .receiving }
        let labels = sources ?? TrackSource.assign(received.map { ($0.mid, $0.kind) })
        var list: [Track] = []
        for m in received {
            guard let source = labels[m.mid], source.kind == m.kind else { continue }
            let key = TrackKey(publisher: publisher, source: source)
            if let kept = t.publishedTracks.first(where: { $0.key == key && $0.mid == m.mid && $0.payloadType == m.payloadType && $0.codec == m.codec }),
               tracks[key] === kept {
                list.append(kept)
                continue
            }
            let track = Track(key: key, transport: id, codec: m.codec, payloadType: m.payloadType, clockRate: m.clockRate,
                              mid: m.mid, announcedSSRCs: m.remoteSSRCs, midExtensionID: m.extensions[MediaSection.midExtensionURI])
            if let old = tracks[key] { replace(old, with: track) }  // republish keeps viewers and taps
            tracks[key] = track
            list.append(track)
        }
        for old in t.publishedTracks where !list.contains(where: { $0 === old }) && tracks[old.key] === old { unpublish(old) }
        tracksByTransport[id] = list
        t.publishedTracks = list
    }

    /// A renegotiated publisher connection (same ICE and DTLS, sections added or stopped).
    public func updatePublisher(transport id: WebRTCTransport.ID, media: [MediaSection], publisher: ParticipantKey,
                                sources: [String: TrackSource]) {
        guard let t = transports[id] else { return }
        t.media = mediaSections.shared(media)
        publish(transport: id, publisher: publisher, sources: sources)
    }

    /// Subscribes a viewer transport to a publisher's track of `kind`, sending with `ssrc`.
    public func subscribe(transport id: WebRTCTransport.ID, to key: TrackKey, ssrc: UInt32, now: UInt64) {
        guard let t = transports[id], let track = tracks[key],
              let m = t.media.first(where: { $0.outboundSSRC == ssrc && $0.direction == .sending })
                ?? t.media.first(where: { $0.kind == key.kind && $0.direction == .sending }) else { return }
        add(Subscription(viewer: t, track: track, media: m, ssrc: ssrc, clockRate: track.clockRate))
    }

    /// Lists `s` on its track and its viewer; new viewers need a keyframe, requested on the next
    /// tick once possible.
    private func add(_ s: Subscription) {
        if s.track.keyframeCache != nil {
            s.awaitingReplay = true
            s.track.replaysPending += 1
        }
        s.track.add(s)
        s.viewer.subscriptions.append(s)
        wantKeyframe(s.track)
    }

    /// A renegotiated subscriber connection: replace its sections and subscribe `mid`s to tracks.
    public func updateSubscriber(transport id: WebRTCTransport.ID, media: [MediaSection],
                                 subscriptions: [(mid: String, key: TrackKey, ssrc: UInt32)], now: UInt64) {
        guard let t = transports[id] else { return }
        t.media = mediaSections.shared(media)
        for s in subscriptions {
            guard let track = tracks[s.key], let m = media.first(where: { $0.mid == s.mid }) else { continue }
            if t.subscriptions.contains(where: { $0.track === track && $0.rewriter.outboundSSRC == s.ssrc }) { continue }
            add(Subscription(viewer: t, track: track, media: m, ssrc: s.ssrc, clockRate: track.clockRate))
        }
    }

    /// Marks a transport connected with given SRTP keys and peer address, skipping ICE and DTLS.
    /// For benchmarks and tests that measure forwarding alone; the server never calls it.
    public func connectWithoutHandshake(transport id: WebRTCTransport.ID, keys: DTLSTransport.SRTPKeys, address: TransportAddress, now: UInt64 = 0) {
        guard let t = transports[id] else { return }
        t.ice.assumeSelected(address)
        t.dtlsConnected(keys, sharing: cipherContexts)
        connected(t, now: now)
        route(address, to: t)
    }

    /// Pauses or resumes forwarding of a publisher's track (mute). Subscribers' streams start a
    /// new epoch on resume (no gap, no jump: docs/forwarding.md) and video waits for a keyframe.
    public func setMuted(_ key: TrackKey, _ muted: Bool) {
        guard let track = tracks[key], track.muted != muted else { return }
        track.muted = muted
        if muted {
            for s in track.subscriptions { s.rewriter.pause() }
        } else if track.kind == .video {
            track.awaitingKeyframe = true
            wantKeyframe(track)
        }
    }

    /// The transport with this ID, if it is still there.
    public func transport(_ id: WebRTCTransport.ID) -> WebRTCTransport? { transports[id] }

    /// The transport whose ICE ufrag is `localUfrag` (unique: the control plane makes them
    /// random), if it is still there.
    public func transportID(localUfrag: String) -> WebRTCTransport.ID? { byUfrag[localUfrag] }

    /// Whether a publisher currently has a track of this kind.
    public func hasTrack(_ key: TrackKey) -> Bool { tracks[key] != nil }

    /// Routes datagrams from `address` to `t`, remembering the address on `t` so that its removal
    /// can drop exactly its own entries. The list keeps only addresses still routed to `t` once it
    /// grows past a few (a peer that moved between networks).
    private func route(_ address: TransportAddress, to t: WebRTCTransport) {
        guard byAddress[address] != t.id else { return }
        byAddress[address] = t.id
        if t.mappedAddresses.count >= 8 { t.mappedAddresses.removeAll { byAddress[$0] != t.id } }
        if !t.mappedAddresses.contains(address) { t.mappedAddresses.append(address) }
    }

    /// A transport whose keys are set: its first reports go in the next report pass, its DTLS
    /// association is released by a later one.
    private func connected(_ t: WebRTCTransport, now: UInt64) {
        t.connectedAt = now
        reportWheel.schedule(t.id, at: now)
        holdingAssociation.append(t.id)
    }

    /// A viewer needs a keyframe from `track`'s publisher: requested on the next tick.
    func wantKeyframe(_ track: Track) {
        track.keyframePending = true
        attend(track)
    }

    /// Puts `track` on the list `tick` visits (a keyframe request to send or defer, a gap to
    /// NACK); it leaves the list when nothing is left to do.
    private func attend(_ track: Track) {
        guard !track.attended else { return }
        track.attended = true
        attention.append(track)
    }

    public func removeTransport(_ id: WebRTCTransport.ID, send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        guard let t = transports.removeValue(forKey: id) else { return }
        stats.transportsRemoved += 1
        for e in t.dtls?.close() ?? [] { if case .send(let d) = e, let to = t.destination { d.withUnsafeBytes { send($0, to) } } }
        // The transport's own keys, not a filter over every entry: with thousands of transports
        // leaving at a meeting's end, rebuilding both maps per removal was quadratic.
        if byUfrag[t.ice.localUfrag] == id { byUfrag[t.ice.localUfrag] = nil }
        for a in t.mappedAddresses where byAddress[a] == id { byAddress[a] = nil }
        for track in tracksByTransport.removeValue(forKey: id) ?? [] where tracks[track.key] === track { unpublish(track, except: t) }
        // Its own streams only, each from its track's list: scanning every track's subscriptions
        // per removal was quadratic over a briefing's end (sfu-bench --removal).
        for s in t.subscriptions { s.track.remove(s) }
        t.subscriptions = SubscriptionList()
    }

    /// `new` takes `old`'s place under its key: its viewers and taps follow.
    func replace(_ old: Track, with new: Track) {
        new.takeViewers(from: old)
        old.published = false
        if let i = tapped.firstIndex(where: { $0 === old }) { tapped[i] = new }
    }

    /// Takes a track out of the graph (its publisher or source left): its taps are told, and
    /// its streams leave their viewers' lists (but `except`'s, which is being removed whole).
    func unpublish(_ track: Track, except leaving: WebRTCTransport? = nil) {
        tracks[track.key] = nil
        track.published = false
        for tap in track.taps { tap.end() }
        track.taps = []
        tapped.removeAll { $0 === track }
        for s in track.removeAllViewers() where s.viewer !== leaving { s.viewer.subscriptions.removeAll { $0 === s } }
    }

    /// A transport's DTLS association (≈ 50 KiB: DTLSTransport.releaseAssociation) is freed once
    /// it is no longer needed: with thousands of connections it was most of the server's memory
    /// (rooms 1000×3: 141 MB of 369). DTLS-SRTP carries nothing else after the handshake.
    ///
    /// - A viewer's transport (it publishes nothing) is freed on the first timer pass after it
    ///   connects. Held for seconds, a join storm's associations left the heap fragmented (pages
    ///   of freed handshakes pinned by the long-lived state allocated among them): 1,000 viewers
    ///   cost 23.9 KiB of RSS each with them held 5 s, 17.8 KiB freed at once (docs/PERFORMANCE.md).
    /// - A publisher's is freed after `associationQuietPeriod` without DTLS from the peer, so that
    ///   a publisher closing its peer connection early is noticed by its close_notify at once.
    ///
    /// A peer that lost our final flight retransmits its own (within ~1–3 s); the released
    /// transport answers with its kept final flight, dropped after `associationQuietPeriod` of
    /// quiet. What is given up: a close_notify after the release cannot be read, so a publisher
    /// that closes without signaling leaves by its RTCP BYE (`goodbyeReceived`: aiortc, Firefox;
    /// Chrome stopped sending BYE in 2023) or by consent expiry (RFC 7675, `consentTimeout`), as
    /// pion-based servers notice it by ICE timeouts.
    public static let associationQuietPeriod: UInt64 = 5_000_000_000

    /// Associations freed per pass at most (the rest on the next, 100 ms later): 300 publishers
    /// that connected together, released in one pass, stalled forwarding for 9.5 ms (rooms
    /// 100×3, late samples lined up with the pass). 64 a pass (~2 ms) keeps up with joins:
    /// 24 left most of rooms 1000×3's 6,000 associations held when measured (304 MB RSS, not 106).
    static let releasesPerPass = 64

    func releaseAssociations(now: UInt64) {
        var released = 0
        var k = 0
        while k < holdingAssociation.count {
            guard let t = transports[holdingAssociation[k]], let connected = t.connectedAt, let dtls = t.dtls,
                  !dtls.isReleased || dtls.holdsFinalFlight else {
                holdingAssociation.swapAt(k, holdingAssociation.count - 1)  // done with, or removed
                holdingAssociation.removeLast()
                continue
            }
            k += 1
            let quiet = elapsed(now, since: connected) >= Self.associationQuietPeriod && elapsed(now, since: t.lastDTLSAt) >= Self.associationQuietPeriod
            if !dtls.isReleased {
                guard t.publishedTracks.isEmpty || quiet, released < Self.releasesPerPass else { continue }
                released += 1
                dtls.releaseAssociation()
                if dtls.isReleased { stats.dtlsReleased += 1 }
            } else if quiet {
                t.dtlsFinished()  // the final flight is no longer needed: nothing of DTLS is left
                stats.dtlsFinished += 1
            }
        }
    }

    // MARK: Packets

    public func handle(_ datagram: UnsafeRawBufferPointer, from: TransportAddress, now: UInt64,
                       send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        stats.packetsIn += 1
        stats.bytesIn += datagram.count
        switch PacketDemultiplexer.classify(datagram) {
        case .stun:
            handleSTUN(datagram, from: from, now: now, send: send)
        case .dtls:
            guard let id = byAddress[from], let t = transports[id] else { stats.droppedUnknownSource += 1; return }
            t.lastDTLSAt = now
            // After `dtlsFinished` DTLS is ignored, as a released association ignores it.
            if let dtls = t.dtls { handleDTLS(t, dtls.receive(datagram, now: now), now: now, send: send) }
        case .rtp:
            guard let id = byAddress[from], let t = transports[id], let inbound = t.inbound else { stats.droppedUnknownSource += 1; return }
            forwardRTP(datagram, from: t, inbound: inbound, now: now, send: send)
        case .rtcp:
            guard let id = byAddress[from], let t = transports[id], let inbound = t.inbound else { stats.droppedUnknownSource += 1; return }
            handleRTCP(datagram, from: t, inbound: inbound, now: now, send: send)
        default:
            stats.droppedMalformed += 1
        }
    }

    public func tick(now: UInt64, send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        // Transport timers: DTLS retransmission (from 250 ms, RFC 6347 §4.2.4.1) every 50 ms for
        // the transports still handshaking; consent expiry (seconds, RFC 7675) once a second for
        // all. Visiting every transport on every 10 ms tick was a tenth of the core, every 50 ms
        // still 18 % at 6,000 transports.
        if now >= nextTransportPass {
            nextTransportPass = now &+ Self.transportPassInterval
            var k = 0
            while k < handshaking.count {
                guard let t = transports[handshaking[k]], let dtls = t.dtls, dtls.state == .handshaking else {
                    handshaking.swapAt(k, handshaking.count - 1)  // connected, failed or removed
                    handshaking.removeLast()
                    continue
                }
                if let to = t.destination {
                    for e in dtls.tick(now: now) { if case .send(let d) = e { d.withUnsafeBytes { send($0, to) } } }
                }
                k += 1
            }
        }
        if now >= nextConsentPass {
            nextConsentPass = now &+ Self.consentPassInterval
            for t in transports.values {
                for e in t.ice.tick(now: now, consentTimeout: consentTimeout) where e == .consentExpired { events.append(.failed(t.id, "ICE consent expired")) }
            }
            expireUnconnected(now: now)
        }
        for track in tapped where track.published && track.taps.contains(where: { $0.takeKeyframeRequest() }) { wantKeyframe(track) }
        // Only tracks with a keyframe request or a gap to repair: this runs on every wake-up, and
        // visiting all (rooms 100×3: 600 tracks, each wake-up) was 4 % of the core.
        var k = 0
        while k < attention.count {
            let track = attention[k]
            if track.published {
                if track.keyframePending || track.keyframes.tick(now: now) {
                    if sendPLI(for: track, now: now, send: send) { track.keyframePending = false }
                }
                if track.nacks.missingCount > 0 {  // audio negotiates no NACK and never has gaps recorded
                    let lost = track.nacks.due(now: now)
                    if !lost.isEmpty { sendNACK(lost, for: track, send: send) }
                }
            }
            if track.published && (track.keyframePending || track.keyframes.isPending || track.nacks.missingCount > 0) {
                k += 1
            } else {
                track.attended = false
                attention.swapAt(k, attention.count - 1)
                attention.removeLast()
            }
        }
        if now >= nextReportPass {
            nextReportPass = now &+ Self.reportPassInterval
            sendReports(now: now, send: send)
            releaseAssociations(now: now)
        }
    }

    /// Fails the transports whose connect deadline passed before they connected (removed ones
    /// are skipped); the control plane then removes them and their participants.
    private func expireUnconnected(now: UInt64) {
        while awaitingHead < awaitingConnection.count, awaitingConnection[awaitingHead].deadline <= now {
            let id = awaitingConnection[awaitingHead].id
            awaitingHead += 1
            if let t = transports[id], t.connectedAt == nil {
                stats.connectTimeouts += 1
                events.append(.failed(id, "not connected within \(connectTimeout / 1_000_000_000) s (no ICE check, or DTLS did not finish)"))
            }
        }
        if awaitingHead >= 64 && awaitingHead * 2 >= awaitingConnection.count {
            awaitingConnection.removeFirst(awaitingHead)
            awaitingHead = 0
        }
    }

    private func handleSTUN(_ datagram: UnsafeRawBufferPointer, from: TransportAddress, now: UInt64,
                            send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        var id = byAddress[from]
        if id == nil, let m = try? STUNMessage.parse(datagram), let username = m.username,
           let ufrag = ICELiteAgent.localUfrag(fromUsername: username) {
            id = byUfrag[String(ufrag)]
        }
        guard let id, let t = transports[id] else { stats.droppedUnknownSource += 1; return }
        let iceEvents = iceCredentials.withPassword(for: t.ice.localUfrag) { t.ice.handle(datagram, from: from, now: now, password: $0) }
        for e in iceEvents {
            switch e {
            case .send(let bytes, let to): bytes.withUnsafeBytes { send($0, to) }
            case .selected:
                break
            case .consentExpired:
                events.append(.failed(id, "ICE consent expired"))
            }
        }
        if t.ice.isValidated(from) { route(from, to: t) }
        if t.ice.selected != nil, let dtls = t.dtls, dtls.role == .client, dtls.state == .handshaking {
            handleDTLS(t, dtls.start(now: now), now: now, send: send)
        }
    }

    private func handleDTLS(_ t: WebRTCTransport, _ events: [DTLSTransport.Event], now: UInt64, send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        for e in events {
            switch e {
            case .send(let d): if let to = t.destination { d.withUnsafeBytes { send($0, to) } }
            case .connected(let keys):
                t.dtlsConnected(keys, sharing: cipherContexts)
                connected(t, now: now)
                stats.transportsConnected += 1
                self.events.append(.connected(t.id))
            case .failed(let reason):
                stats.dtlsFailures += 1
                self.events.append(.failed(t.id, reason))
            case .closed:
                // The peer ended the association (close_notify, RFC 5246 §7.2.1): the same as a
                // transport that failed, so its tracks leave the room now, not at consent expiry.
                self.events.append(.failed(t.id, "peer closed DTLS (close_notify)"))
            }
        }
    }

    private func forwardRTP(_ datagram: UnsafeRawBufferPointer, from t: WebRTCTransport, inbound: SRTPContext, now: UInt64,
                            send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        guard datagram.count <= scratch.count - 32 else { stats.droppedMalformed += 1; return }
        scratch.copyMemory(from: datagram)
        let length: Int
        do throws(SRTPError) { length = try inbound.unprotectRTP(scratch, length: datagram.count) } catch {
            stats.droppedSRTP += 1
            return
        }
        let plain = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(scratch)[0..<length])
        guard let header = try? RTPHeader.parse(plain),
              let track = t.publishedTrack(ssrc: header.ssrc) ?? bindStream(header, plain, on: t) else {
            stats.droppedMalformed += 1
            return
        }
        deliver(plain, header: header, track: track, now: now, send: send)
    }

    /// A publisher's packet with an SSRC none of its tracks has: the track of its payload type
    /// whose section announced the SSRC, or whose mid the packet's mid extension names (RFC 8843
    /// §9.2), or else the first such track that announced nothing and has no stream yet. A track
    /// keeps the stream it was bound to: a stopped section's packets, still in flight, find
    /// none and are dropped (they must not reach the camera's viewers), as RTX and unknown
    /// payload types are.
    private func bindStream(_ header: RTPHeader, _ plain: UnsafeRawBufferPointer, on t: WebRTCTransport) -> Track? {
        var firstUnbound: Track? = nil
        for track in t.publishedTracks where track.payloadType == header.payloadType {
            if track.announcedSSRCs.contains(header.ssrc) { return track }
            if let id = track.midExtensionID, id <= 255, let range = try? RTPHeaderExtensionBlock.find(UInt8(id), in: plain, header: header) {
                if plain[range].elementsEqual(track.mid.utf8) { return track }
                continue  // it names another section
            }
            if track.ssrc == nil && track.announcedSSRCs.isEmpty && firstUnbound == nil { firstUnbound = track }
        }
        return firstUnbound
    }

    /// A clear packet of `track`, from a WebRTC publisher or a source: kept for NACKs, counted
    /// for reports, handed to the taps, then rewritten and sent to every viewer.
    func deliver(_ plain: UnsafeRawBufferPointer, header: RTPHeader, track: Track, now: UInt64,
                 send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        track.ssrc = header.ssrc
        track.receive.received(sequenceNumber: header.sequenceNumber, timestamp: header.timestamp, now: now)
        track.lastPacket = (header.timestamp, now)
        track.cache.store(sequenceNumber: header.sequenceNumber, plain, now: now)
        if track.isVideo {
            if track.nacks.received(header.sequenceNumber, now: now) == .keyframeNeeded { wantKeyframe(track) }
            if track.nacks.missingCount > 0 { attend(track) }
        }
        let keyframe = track.isVideo && track.codec.isKeyFrameStart(header.payload(in: plain))
        if keyframe {
            if track.codec == .h264 { stats.keyframesH264 += 1 } else { stats.keyframesVP8 += 1 }
            track.keyframes.keyframeReceived()
            track.awaitingKeyframe = false
        }
        if track.muted || track.awaitingKeyframe { return }
        if let cache = track.keyframeCache {
            if track.replaysPending > 0 { replayKeyframeCache(track, cache, now: now, send: send) }
            cache.store(plain, timestamp: header.timestamp, keyframeStart: keyframe)
        }
        if !track.taps.isEmpty { for tap in track.taps { _ = tap.push(plain, arrival: now) } }
        for sub in track.subscriptions {
            let viewer = sub.viewer
            guard let out = viewer.outbound, let to = viewer.destination else { continue }
            guard let numbers = sub.rewriter.rewrite(ssrc: header.ssrc, sequenceNumber: header.sequenceNumber, timestamp: header.timestamp, now: now) else { continue }
            sendRewritten(plain, header: header, subscription: sub, numbers: numbers, outbound: out, to: to, send: send)
        }
    }

    /// Sends a track's cached group (from its last keyframe) to each viewer that joined since
    /// and is connected now, before the live packet that follows; recounts those still waiting.
    private func replayKeyframeCache(_ track: Track, _ cache: KeyframeCache, now: UInt64, send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        var waiting = 0
        for sub in track.subscriptions where sub.awaitingReplay {
            let viewer = sub.viewer
            guard let out = viewer.outbound, let to = viewer.destination else {
                waiting += 1
                continue
            }
            sub.awaitingReplay = false
            cache.forEach { packet in
                guard let header = try? RTPHeader.parse(packet),
                      let numbers = sub.rewriter.rewrite(ssrc: header.ssrc, sequenceNumber: header.sequenceNumber, timestamp: header.timestamp, now: now) else { return }
                sendRewritten(packet, header: header, subscription: sub, numbers: numbers, outbound: out, to: to, send: send)
                stats.keyframeCacheReplays += 1
            }
        }
        track.replaysPending = waiting
    }

    /// Builds the subscriber's packet: fixed header with its SSRC, PT, numbers; the subscriber's
    /// mid extension (the publisher's own extensions are not forwarded: their IDs belong to the
    /// publisher's negotiation); the payload; then SRTP.
    private func sendRewritten(_ plain: UnsafeRawBufferPointer, header: RTPHeader, subscription: Subscription,
                               numbers: RTPStreamRewriter.Rewritten, outbound: SRTPContext, to: TransportAddress,
                               send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        do {
            let out = UnsafeMutableRawBufferPointer(rebasing: outgoing[0..<1600])
            let payloadLength = header.payloadLength + header.paddingLength
            let ext = subscription.midExtension
            guard 12 + ext.count + payloadLength + 16 <= out.count else { return }
            out[0] = 0x80 | (header.hasPadding ? 0x20 : 0) | (ext.isEmpty ? 0 : 0x10)
            out[1] = (header.marker ? 0x80 : 0) | subscription.payloadType
            out.writeU16(numbers.sequenceNumber, at: 2)
            out.writeU32(numbers.timestamp, at: 4)
            out.writeU32(subscription.rewriter.outboundSSRC, at: 8)
            ext.withUnsafeBytes { e in if e.count > 0 { (out.baseAddress! + 12).copyMemory(from: e.baseAddress!, byteCount: e.count) } }
            (out.baseAddress! + 12 + ext.count).copyMemory(from: plain.baseAddress! + header.payloadOffset, byteCount: payloadLength)
            guard let n = try? outbound.protectRTP(out, length: 12 + ext.count + payloadLength) else { return }
            stats.packetsOut += 1
            stats.bytesOut += n
            subscription.packetsSent &+= 1
            subscription.octetsSent &+= UInt32(truncatingIfNeeded: payloadLength)
            send(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out)[0..<n]), to)
        }
    }

    private func handleRTCP(_ datagram: UnsafeRawBufferPointer, from t: WebRTCTransport, inbound: SRTPContext, now: UInt64,
                            send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        guard datagram.count <= scratch.count else { stats.droppedMalformed += 1; return }
        scratch.copyMemory(from: datagram)
        let length: Int
        do throws(SRTPError) { length = try inbound.unprotectRTCP(scratch, length: datagram.count) } catch {
            stats.droppedSRTP += 1
            return
        }
        guard let packets = try? RTCPCompound.parse(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(scratch)[0..<length])) else {
            stats.droppedMalformed += 1
            return
        }
        for p in packets {
            switch p {
            case .pictureLossIndication(let pli): keyframeWanted(by: t, mediaSSRC: pli.mediaSSRC, now: now, send: send)
            case .fullIntraRequest(let fir): for e in fir.entries { keyframeWanted(by: t, mediaSSRC: e.ssrc, now: now, send: send) }
            case .nack(let nack): answerNACK(nack, viewer: t, now: now, send: send)
            case .senderReport(let sr): senderReportReceived(sr, from: t, now: now)
            case .goodbye(let bye): goodbyeReceived(bye, from: t)
            default: break
            }
        }
    }

    /// RFC 3550 §6.6: once (authenticated) BYEs have named every stream a transport publishes,
    /// in one packet or one per stream as aiortc sends them, the transport ends as a
    /// close_notify ends it; a BYE for some of them is left to signaling.
    private func goodbyeReceived(_ bye: RTCPGoodbye, from t: WebRTCTransport) {
        guard !t.saidGoodbye, !t.publishedTracks.isEmpty else { return }
        for track in t.publishedTracks { if let ssrc = track.ssrc, bye.sources.contains(ssrc) { track.saidGoodbye = true } }
        guard t.publishedTracks.allSatisfy(\.saidGoodbye) else { return }
        t.saidGoodbye = true
        events.append(.failed(t.id, "peer sent RTCP BYE"))
    }

    /// The viewer's stream that it names by our SSRC in its RTCP feedback.
    private func subscription(of viewer: WebRTCTransport, ssrc: UInt32) -> Subscription? {
        viewer.subscriptions.first { $0.rewriter.outboundSSRC == ssrc }
    }

    private func keyframeWanted(by viewer: WebRTCTransport, mediaSSRC: UInt32, now: UInt64, send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        guard let track = subscription(of: viewer, ssrc: mediaSSRC)?.track else { return }
        if track.keyframes.request(now: now) { _ = sendPLI(for: track, now: now, send: send) } else { attend(track) }
    }

    private func answerNACK(_ nack: RTCPNack, viewer: WebRTCTransport, now: UInt64, send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        guard let sub = subscription(of: viewer, ssrc: nack.mediaSSRC), let out = viewer.outbound, let to = viewer.destination else { return }
        let track = sub.track
        for outSeq in nack.lostSequenceNumbers {
            guard let inSeq = sub.rewriter.inputSequence(forOutput: outSeq), let cached = track.cache.packet(sequenceNumber: inSeq),
                  let header = try? RTPHeader.parse(cached) else { continue }
            // Same mapping as when first sent: seq back to the NACKed number, ts through the rewriter's offset.
            var probe = sub.rewriter
            guard let mapped = probe.rewrite(ssrc: header.ssrc, sequenceNumber: inSeq, timestamp: header.timestamp, now: now) else { continue }
            sendRewritten(cached, header: header, subscription: sub, numbers: mapped, outbound: out, to: to, send: send)
            stats.nacksAnswered += 1
        }
    }

    /// Asks the publisher of `track` to retransmit `lost` (generic NACK, RFC 4585 §6.2.1).
    private func sendNACK(_ lost: [UInt16], for track: Track, send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        if let source = track.source, let ssrc = track.ssrc {
            events.append(.retransmissionRequested(source, ssrc: ssrc, lost: lost))
            stats.nacksSent += 1
            return
        }
        guard let ssrc = track.ssrc, let publisher = transports[track.transport] else { return }
        if sendRTCP([.nack(RTCPNack(senderSSRC: Self.rtcpSenderSSRC, mediaSSRC: ssrc, lost: lost))], on: publisher, send: send) {
            stats.nacksSent += 1
        }
    }

    /// Sends a PLI (RFC 4585 §6.3.1) to the publisher of `track`; false if it cannot yet.
    @discardableResult
    private func sendPLI(for track: Track, now: UInt64, send: (UnsafeRawBufferPointer, TransportAddress) -> Void) -> Bool {
        guard track.isVideo, let ssrc = track.ssrc else { return false }
        if let source = track.source {
            events.append(.keyframeRequested(source, ssrc: ssrc))
            stats.keyframeRequests += 1
            return true
        }
        guard let publisher = transports[track.transport] else { return false }
        let pli = RTCPPacket.pictureLossIndication(RTCPPictureLossIndication(senderSSRC: Self.rtcpSenderSSRC, mediaSSRC: ssrc))
        guard sendRTCP([pli], on: publisher, send: send) else { return false }
        stats.keyframeRequests += 1
        return true
    }

    /// Writes `packets` as one compound, SRTCP-protects it and sends it on `transport`; false if
    /// the transport has no keys or address yet, or the compound would not fit one datagram.
    @discardableResult
    func sendRTCP(_ packets: [RTCPPacket], on transport: WebRTCTransport, send: (UnsafeRawBufferPointer, TransportAddress) -> Void) -> Bool {
        guard let out = transport.outbound, let to = transport.destination else { return false }
        let size = packets.reduce(0) { $0 + $1.serializedSize }
        guard size + 32 <= Self.rtcpDatagramLimit else { return false }
        do {
            let buffer = UnsafeMutableRawBufferPointer(rebasing: outgoing[0..<Self.rtcpDatagramLimit])
            var n = 0
            for p in packets { n += p.write(into: UnsafeMutableRawBufferPointer(rebasing: buffer[n...])) }
            guard let m = try? out.protectRTCP(buffer, length: n) else { return false }
            send(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<m]), to)
            return true
        }
    }
}
