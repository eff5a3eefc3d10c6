/// Rewrites one forwarded stream for one subscriber so that what the subscriber receives is a
/// single, gapless RTP stream (our SSRC, contiguous sequence numbers, a timestamp clock that keeps
/// running) even when the source changes (another publisher, another simulcast layer) or
/// forwarding pauses (mute) and resumes. Design notes: docs/forwarding.md.
///
/// out_seq = in_seq + seqOffset, out_ts = in_ts + tsOffset (both wrapping). Offsets are recomputed
/// only at a (re)start point: the next sequence number follows the last one sent, and the
/// timestamp advances by the wall-clock time elapsed since the last packet sent (at least 1 tick),
/// so the receiver's jitter buffer sees neither a jump nor a gap.
public struct RTPStreamRewriter: Sendable {
    // Declared widest first, so that the struct is 46 bytes, not 53 (a subscription holds one:
    // MediaRouter.Subscription).
    private var lastSentAt: UInt64 = 0
    public let outboundSSRC: UInt32
    public let clockRate: UInt32
    private var tsOffset: UInt32 = 0
    private var lastOutTS: UInt32 = 0
    public private(set) var source: UInt32? = nil
    private var seqOffset: UInt16 = 0
    /// First input sequence number of the current epoch: older packets belong to the previous
    /// source or pause and would collide with numbers already sent.
    private var epochStart: UInt16 = 0
    /// Highest input sequence number forwarded in the current epoch (nil before the first packet).
    private var highestIn: UInt16? = nil
    private var lastOutSeq: UInt16? = nil
    /// Where the subscriber's sequence numbers start (nil: at the first input packet's number).
    private let initialSequenceNumber: UInt16?
    private var resync = true

    /// `initialSequenceNumber`: the first packet's outgoing number. The router starts each
    /// stream below 2^15, as libwebrtc starts its own, so that at least 32,768 packets go out
    /// before the first wrap: a receiver that misses the first packets of a stream that wraps
    /// early would otherwise guess the SRTP rollover counter one too low and refuse every
    /// packet after (RFC 3711 §3.3.1 starts the ROC at 0 with the first packet it sees).
    public init(outboundSSRC: UInt32, clockRate: UInt32, initialSequenceNumber: UInt16? = nil) {
        self.outboundSSRC = outboundSSRC
        self.clockRate = clockRate
        self.initialSequenceNumber = initialSequenceNumber
    }

    public struct Rewritten: Equatable, Sendable {
        public var sequenceNumber: UInt16
        public var timestamp: UInt32
    }

    /// The next forwarded packet's new numbers, or nil to drop it (too old for this epoch).
    public mutating func rewrite(ssrc: UInt32, sequenceNumber seq: UInt16, timestamp ts: UInt32, now: UInt64) -> Rewritten? {
        if ssrc != source {
            source = ssrc
            resync = true
        }
        if resync {
            resync = false
            let nextSeq = lastOutSeq.map { $0 &+ 1 } ?? initialSequenceNumber ?? seq
            seqOffset = nextSeq &- seq
            if lastOutSeq == nil {
                tsOffset = 0
            } else {
                let elapsedTicks = UInt64(now &- lastSentAt) * UInt64(clockRate) / 1_000_000_000
                let advance = UInt32(truncatingIfNeeded: max(elapsedTicks, 1))
                tsOffset = (lastOutTS &+ advance) &- ts
            }
            epochStart = seq
            highestIn = seq
        } else if let highest = highestIn {
            // Older than the epoch start: would reuse numbers sent before the switch.
            if seq != epochStart && !isNewerOrEqual(seq, than: epochStart) { return nil }
            if isNewerOrEqual(seq, than: highest) { highestIn = seq }
        }
        let out = Rewritten(sequenceNumber: seq &+ seqOffset, timestamp: ts &+ tsOffset)
        if lastOutSeq == nil || isNewerOrEqual(out.sequenceNumber, than: lastOutSeq!) {
            lastOutSeq = out.sequenceNumber
            lastOutTS = out.timestamp
            lastSentAt = now
        }
        return out
    }

    /// The SFU deliberately drops the newest input packet (e.g. padding-only): later packets move
    /// down by one so the subscriber sees no gap.
    public mutating func skip(sequenceNumber seq: UInt16) {
        guard let highest = highestIn, seq == highest &+ 1 || seq == highest else { return }
        highestIn = seq
        seqOffset &-= 1
    }

    /// Forwarding paused (mute, layer off): the next packet starts a new epoch.
    public mutating func pause() { resync = true }

    /// This stream's RTP clock at `now`, for the timestamp of an SR (RFC 3550 §6.4.1): the
    /// source's clock at `now` through the current offset, or, while paused (or without a source
    /// clock), the last timestamp sent advanced by the time since. Nil before the first packet.
    public func outputTimestamp(at now: UInt64, sourceTimestamp: UInt32?) -> UInt32? {
        guard lastOutSeq != nil else { return nil }
        if !resync, let sourceTimestamp { return sourceTimestamp &+ tsOffset }
        let ticks = elapsed(now, since: lastSentAt) * UInt64(clockRate) / 1_000_000_000
        return lastOutTS &+ UInt32(truncatingIfNeeded: ticks)
    }

    /// Maps a sequence number the subscriber NACKs back to the input number, if it is in the
    /// current epoch (older ones came from another source and are not in this source's cache).
    public func inputSequence(forOutput out: UInt16) -> UInt16? {
        guard let highest = highestIn else { return nil }
        let input = out &- seqOffset
        guard isNewerOrEqual(input, than: epochStart), isNewerOrEqual(highest, than: input) else { return nil }
        return input
    }

    @inline(__always)
    private func isNewerOrEqual(_ a: UInt16, than b: UInt16) -> Bool { a &- b < 0x8000 }
}
