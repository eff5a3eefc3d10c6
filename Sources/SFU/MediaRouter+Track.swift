import MediaWire

/// The graph's nodes: tracks (what a publisher or a source sends), their keys, and the
/// subscriptions that forward a track to one viewer.
extension MediaRouter {
    /// A published track: packets of one stream (its SSRC, bound by `bindStream`) from a
    /// publisher `transport`, or a source's of payload type `payloadType`.
    final class Track {
        let key: TrackKey
        let transport: WebRTCTransport.ID
        /// Its codec: keyframes, mute-resume and keyframe requests go through it.
        let codec: MediaCodec
        var kind: MediaKind { codec.kind }
        var isVideo: Bool { codec.isVideo }
        let payloadType: UInt8
        let clockRate: UInt32
        var ssrc: UInt32? = nil
        let cache: PacketCache
        var keyframes = KeyframeRequestLimiter()
        /// Gaps in what the publisher sends us, NACKed back to it (video only).
        var nacks = NACKGenerator()
        /// A viewer needs a keyframe that could not be requested yet (publisher not connected).
        var keyframePending = false
        /// In the router's `attention` list (see `attend`).
        var attended = false
        /// Still in `tracks` (false once its publisher left or republished).
        var published = true
        /// Muted by its publisher: nothing is forwarded; subscribers resume on a keyframe.
        var muted = false
        /// After unmute, video is held back until a keyframe starts the new epoch.
        var awaitingKeyframe = false
        /// Its publisher sent an RTCP BYE for its SSRC (RFC 3550 §6.6).
        var saidGoodbye = false
        /// A non-WebRTC source's track (`addSource`): its keyframe requests and NACKs go out as
        /// router events, not RTCP (`transport` names no transport then).
        var source: SourceID? = nil
        /// Consumers that are not viewers (recorder, decoder, relay): each clear packet is
        /// pushed into their rings; empty, it costs one check per packet.
        var taps: [TapRing] = []
        /// A source's video: its packets since the last keyframe, replayed to a new viewer.
        var keyframeCache: KeyframeCache? = nil
        /// Viewers (about) that still wait for that replay: `replayKeyframeCache` recounts.
        var replaysPending = 0
        /// Its viewers' streams, in no particular order: a removal moves the last into the gap
        /// (`Subscription.index`), O(1) where filtering the list was O(viewers) per removal,
        /// 9M retains over a 3,000-viewer briefing's end (sfu-bench --removal).
        private(set) var subscriptions: [Subscription] = []
        /// What arrived from the publisher, for our receiver reports (RFC 3550 §6.4.2).
        var receive: ReceiveStatistics
        /// The publisher's last SR: its RTP timestamp and when it arrived (our clock), the
        /// mapping our SRs toward subscribers extrapolate from (docs/forwarding.md, "RTCP reports").
        var lastSenderReport: (rtpTimestamp: UInt32, at: UInt64)? = nil
        /// The newest packet's timestamp and arrival, the fallback mapping before any SR.
        var lastPacket: (timestamp: UInt32, at: UInt64)? = nil
        /// Its publisher's section: the mid, the SSRCs it announced and the id of the mid header
        /// extension, which tell its packets from another track's with the same payload type.
        let mid: String
        let announcedSSRCs: [UInt32]
        let midExtensionID: UInt16?
        init(key: TrackKey, transport: WebRTCTransport.ID, codec: MediaCodec, payloadType: UInt8, clockRate: UInt32,
             mid: String = "", announcedSSRCs: [UInt32] = [], midExtensionID: UInt16? = nil) {
            self.key = key
            self.mid = mid
            self.announcedSSRCs = announcedSSRCs
            self.midExtensionID = midExtensionID
            self.transport = transport
            self.codec = codec
            self.payloadType = payloadType
            self.clockRate = clockRate
            receive = ReceiveStatistics(clockRate: clockRate)
            // Audio is negotiated without NACK (the control plane offers none): its cache stays minimal.
            cache = codec.isVideo ? PacketCache(initialCapacity: 8, maximumCapacity: 512) : PacketCache(initialCapacity: 1, maximumCapacity: 1)
        }

        func add(_ s: Subscription) {
            s.index = UInt32(subscriptions.count)
            subscriptions.append(s)
        }

        func remove(_ s: Subscription) {
            let i = Int(s.index)
            guard i < subscriptions.count, subscriptions[i] === s else { return }
            let last = subscriptions.removeLast()
            if i < subscriptions.count {
                subscriptions[i] = last
                last.index = UInt32(i)
            }
        }

        /// Takes over `old`'s viewers (a republish): they forward from this track now, and `old`,
        /// which may still receive from its transport until that leaves, forwards to nobody (its
        /// viewers may leave before it does).
        func takeViewers(from old: Track) {
            subscriptions = old.subscriptions
            for s in subscriptions { s.track = self }
            old.subscriptions = []
            taps = old.taps
            old.taps = []
        }

        /// Drops every viewer (its publisher left); returns them.
        func removeAllViewers() -> [Subscription] {
            defer { subscriptions = [] }
            return subscriptions
        }
    }

    /// A track in the graph: its participant and its source (one track per source).
    public struct TrackKey: Hashable, Sendable {
        public var publisher: ParticipantKey
        public var source: TrackSource
        public var kind: MediaKind { source.kind }
        public init(publisher: ParticipantKey, source: TrackSource) {
            self.publisher = publisher
            self.source = source
        }
        /// The participant's primary track of `kind` (microphone, camera).
        public init(publisher: ParticipantKey, kind: MediaKind) { self.init(publisher: publisher, source: .primary(kind)) }
    }

    /// One viewer's stream of one track. Listed twice: in its track's `subscriptions` (fan-out)
    /// and in its viewer's `subscriptions` (its RTCP feedback, its reports, its removal); a
    /// removal (viewer or track) takes it out of both.
    final class Subscription {
        // Declared in this order so that the object is 120 bytes, a 128-byte malloc chunk, not
        // 160 (sfu-bench --layout): a viewer has one per stream it receives.
        /// The viewer's transport, held without reference counting on the packet path. Safe:
        /// `removeTransport` drops every subscription of a transport in the same call that
        /// releases it, and subscriptions are created only for transports in `transports`.
        unowned(unsafe) let viewer: WebRTCTransport
        /// The track it forwards; moves to the new track when its publisher republishes. Safe
        /// for the same reason: a track that leaves `tracks` drops its subscriptions first.
        unowned(unsafe) var track: Track
        var rewriter: RTPStreamRewriter
        let payloadType: UInt8
        /// A new viewer of a track with a keyframe cache, not yet sent the cached group (in the
        /// padding after `payloadType`: the object stays a 128-byte chunk).
        var awaitingReplay = false
        /// One-byte RFC 8285 block carrying the subscriber's BUNDLE mid (RFC 8843 §15), written
        /// into every packet so receivers demultiplex by mid; empty when not negotiated.
        let midExtension: MidExtensionBlock
        /// Its place in `track.subscriptions`.
        var index: UInt32 = 0
        /// Sender information for our SRs on this stream (RFC 3550 §6.4.1): packets and payload
        /// octets sent, retransmissions included.
        var packetsSent: UInt32 = 0
        var octetsSent: UInt32 = 0
        init(viewer: WebRTCTransport, track: Track, media: MediaSection, ssrc: UInt32, clockRate: UInt32) {
            self.viewer = viewer
            self.track = track
            self.payloadType = media.payloadType
            rewriter = RTPStreamRewriter(outboundSSRC: ssrc, clockRate: clockRate, initialSequenceNumber: UInt16.random(in: 1...0x7FFF))
            midExtension = MidExtensionBlock(id: media.extensions[MediaSection.midExtensionURI], mid: media.mid.utf8)
        }
    }
}
