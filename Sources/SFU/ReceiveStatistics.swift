import MediaWire

/// What we have received of one inbound RTP stream, turned into the report block an RR carries
/// back to its sender (RFC 3550 §6.4.1): extended highest sequence number (Appendix A.1),
/// cumulative and interval loss (A.3), interarrival jitter (A.8) and LSR/DLSR from the sender's
/// last SR, so the sender can compute its round-trip time.
///
/// Pure: arrival times are the caller's monotonic `now` in nanoseconds.
public struct ReceiveStatistics: Sendable {
    /// RFC 3550 A.1: a jump of more than this many numbers ahead is a restart, not loss.
    static let maxDropout: UInt16 = 3000
    /// RFC 3550 A.1: this many numbers behind is a late packet, not a restart.
    static let maxMisorder: UInt16 = 100

    public let clockRate: UInt32
    private var started = false
    private var baseSequence: UInt32 = 0
    private var maxSequence: UInt16 = 0
    private var cycles: UInt32 = 0
    /// After a jump beyond maxDropout: the number that confirms a restart if it comes next.
    private var badSequence: UInt32 = 0x1_0000
    public private(set) var received: UInt32 = 0
    private var expectedPrior: UInt32 = 0
    private var receivedPrior: UInt32 = 0
    /// A.8 integer form: jitter × 16, in timestamp units.
    private var jitterQ4: UInt32 = 0
    private var lastTransit: Int64? = nil
    private var lastSRMiddle: UInt32 = 0
    private var lastSRArrival: UInt64? = nil

    public init(clockRate: UInt32) { self.clockRate = clockRate }

    /// Counts one packet (A.1 `update_seq` without the probation period: a WebRTC stream's first
    /// packet is authenticated by SRTP, so it is trusted at once).
    public mutating func received(sequenceNumber seq: UInt16, timestamp: UInt32, now: UInt64) {
        if !started {
            started = true
            restart(at: seq)
        } else {
            let delta = seq &- maxSequence
            if delta < Self.maxDropout {
                if seq < maxSequence { cycles &+= 0x1_0000 }  // wrapped
                maxSequence = seq
            } else if delta <= 0xFFFF - Self.maxMisorder {
                // A large jump: two sequential packets confirm the sender restarted.
                if UInt32(seq) == badSequence {
                    restart(at: seq)
                } else {
                    badSequence = UInt32(seq &+ 1)
                    return
                }
            }  // else: duplicate or reordered, counted below
        }
        received &+= 1
        updateJitter(timestamp: timestamp, now: now)
    }

    /// The sender's SR arrived: remembered for LSR/DLSR (§6.4.1).
    public mutating func senderReport(ntpTimestamp: UInt64, now: UInt64) {
        lastSRMiddle = NTPTimestamp.middle32(ntpTimestamp)
        lastSRArrival = now
    }

    /// The report block for `ssrc` at `now`; starts a new interval for the fraction lost.
    public mutating func reportBlock(ssrc: UInt32, now: UInt64) -> RTCPReportBlock {
        let extendedMax = cycles &+ UInt32(maxSequence)
        let expected = started ? extendedMax &- baseSequence &+ 1 : 0
        let lost = Int64(expected) - Int64(received)
        let cumulative = Int32(clamping: min(max(lost, -0x80_0000), 0x7F_FFFF))
        let expectedInterval = expected &- expectedPrior
        let receivedInterval = received &- receivedPrior
        expectedPrior = expected
        receivedPrior = received
        let lostInterval = Int64(expectedInterval) - Int64(receivedInterval)
        let fraction: UInt8 = expectedInterval == 0 || lostInterval <= 0
            ? 0 : UInt8(min(255, (lostInterval << 8) / Int64(expectedInterval)))
        var dlsr: UInt32 = 0
        if let at = lastSRArrival { dlsr = NTPTimestamp.shortDuration(nanoseconds: elapsed(now, since: at)) }
        return RTCPReportBlock(ssrc: ssrc, fractionLost: fraction, cumulativeLost: cumulative,
                               extendedHighestSequence: extendedMax, jitter: jitterQ4 >> 4,
                               lastSenderReport: lastSRArrival == nil ? 0 : lastSRMiddle,
                               delaySinceLastSenderReport: dlsr)
    }

    private mutating func restart(at seq: UInt16) {
        baseSequence = UInt32(seq)
        maxSequence = seq
        cycles = 0
        badSequence = 0x1_0000
        received = 0
        expectedPrior = 0
        receivedPrior = 0
    }

    /// A.8: J += (|D| − J) / 16, where D is the change in transit time between two packets.
    private mutating func updateJitter(timestamp: UInt32, now: UInt64) {
        let arrival = Int64(truncatingIfNeeded: now / 1000 * UInt64(clockRate) / 1_000_000)
        let transit = arrival &- Int64(timestamp)
        defer { lastTransit = transit }
        guard let last = lastTransit else { return }
        // Timestamps wrap at 2^32: the difference of two transits is taken modulo 2^32.
        let d = Int64(Int32(truncatingIfNeeded: transit &- last)).magnitude
        let dq = UInt32(clamping: d)
        jitterQ4 = jitterQ4 &+ dq &- ((jitterQ4 &+ 8) >> 4)
    }
}
