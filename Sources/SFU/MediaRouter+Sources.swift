import MediaWire

/// Identifies a non-WebRTC source in its router.
public typealias SourceID = Int

/// A source of clear RTP that is not a WebRTC peer (a plain-RTP socket, an RTSP client, a
/// transcoder, a relay from another router): no ICE, DTLS or SRTP; its tracks are found by
/// payload type, as a publisher transport's are.
final class PlainSource {
    let id: SourceID
    let publisher: ParticipantKey
    var tracks: [MediaRouter.Track] = []
    init(id: SourceID, publisher: ParticipantKey) {
        self.id = id
        self.publisher = publisher
    }
}

extension MediaRouter {
    /// One track a source sends.
    public struct SourceTrack: Sendable, Equatable {
        public var codec: MediaCodec
        public var payloadType: UInt8
        public init(codec: MediaCodec, payloadType: UInt8) {
            self.codec = codec
            self.payloadType = payloadType
        }
    }

    /// Adds a source publishing `tracks` as `publisher` (replacing what that participant
    /// published before, as a republish does: its viewers and taps move over).
    @discardableResult
    public func addSource(publisher: ParticipantKey, tracks sent: [SourceTrack]) -> SourceID {
        let id = nextSourceID
        nextSourceID += 1
        let source = PlainSource(id: id, publisher: publisher)
        for t in sent {
            let key = TrackKey(publisher: publisher, kind: t.codec.kind)
            let track = Track(key: key, transport: 0, codec: t.codec, payloadType: t.payloadType, clockRate: t.codec.clockRate)
            track.source = id
            if t.codec.isVideo && keyframeCacheBytes > 0 { track.keyframeCache = KeyframeCache(capacity: keyframeCacheBytes) }
            if let old = tracks[key] { replace(old, with: track) }
            tracks[key] = track
            source.tracks.append(track)
        }
        sources[id] = source
        return id
    }

    /// A clear RTP packet from a source; one that does not parse, or whose payload type the
    /// source did not declare, is counted and dropped.
    public func ingest(source id: SourceID, packet: UnsafeRawBufferPointer, now: UInt64,
                       send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        stats.packetsIn += 1
        stats.bytesIn += packet.count
        guard let source = sources[id] else { stats.droppedUnknownSource += 1; return }
        guard let header = try? RTPHeader.parse(packet), let track = source.tracks.first(where: { $0.payloadType == header.payloadType }),
              track.published else {
            stats.droppedMalformed += 1
            return
        }
        deliver(packet, header: header, track: track, now: now, send: send)
    }

    /// Removes a source; its tracks leave as a departed publisher's do.
    public func removeSource(_ id: SourceID) {
        guard let source = sources.removeValue(forKey: id) else { return }
        for track in source.tracks where tracks[track.key] === track { unpublish(track) }
    }

    // MARK: Taps

    /// Adds a tap to a published track; false if there is no such track.
    @discardableResult
    public func addTap(_ ring: TapRing, to key: TrackKey) -> Bool {
        guard let track = tracks[key] else { return false }
        if track.taps.isEmpty { tapped.append(track) }
        track.taps.append(ring)
        wantKeyframe(track)  // a decoder starts at a keyframe
        return true
    }

    /// Removes a tap (the recorder stopped, the decoder is done).
    public func removeTap(_ ring: TapRing, from key: TrackKey) {
        guard let track = tracks[key] else { return }
        track.taps.removeAll { $0 === ring }
        if track.taps.isEmpty { tapped.removeAll { $0 === track } }
    }
}
