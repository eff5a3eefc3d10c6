/// Decides which packets to NACK to a publisher (RFC 4585 §6.2.1): a gap in sequence numbers adds
/// the missing ones; each is asked for again every `retryInterval`, at most `maxRetries` times and
/// not after `maxAge`; arrivals (including retransmissions) clear them. If a gap is too large to
/// repair by NACK, it asks for a keyframe instead. State is bounded by `maxMissing`.
public struct NACKGenerator: Sendable {
    public var retryInterval: UInt64 = 20_000_000
    public var maxRetries = 8
    public var maxAge: UInt64 = 1_000_000_000
    public var maxMissing = 256

    private struct Missing: Sendable {
        var sequence: UInt16
        var firstSeen: UInt64
        var lastSent: UInt64?
        var tries: Int
    }

    private var missing: [Missing] = []
    private var highest: UInt16? = nil

    public init() {}

    public enum Outcome: Equatable, Sendable {
        case none
        /// The gap is larger than NACK can repair: request a keyframe.
        case keyframeNeeded
    }

    public var missingCount: Int { missing.count }

    /// Records an arriving packet's sequence number.
    public mutating func received(_ seq: UInt16, now: UInt64) -> Outcome {
        guard let h = highest else {
            highest = seq
            return .none
        }
        let d = Int(Int16(bitPattern: seq &- h))
        if d <= 0 {
            missing.removeAll { $0.sequence == seq }  // late or retransmitted
            return .none
        }
        highest = seq
        if d > 1 {
            if d - 1 > maxMissing {
                missing.removeAll()
                return .keyframeNeeded
            }
            for k in 1..<d { missing.append(Missing(sequence: h &+ UInt16(k), firstSeen: now, lastSent: nil, tries: 0)) }
            if missing.count > maxMissing { missing.removeFirst(missing.count - maxMissing) }
        }
        return .none
    }

    /// Sequence numbers to NACK now (empty when nothing is due); gives up on old ones.
    public mutating func due(now: UInt64) -> [UInt16] {
        missing.removeAll { elapsed(now, since: $0.firstSeen) > maxAge || $0.tries >= maxRetries }
        var out: [UInt16] = []
        for i in missing.indices where missing[i].lastSent.map({ elapsed(now, since: $0) >= retryInterval }) ?? true {
            missing[i].lastSent = now
            missing[i].tries += 1
            out.append(missing[i].sequence)
        }
        return out
    }
}

/// Rate-limits keyframe requests (PLI/FIR) to one publisher track: subscribers joining or losing
/// packets all want keyframes, and a storm of PLIs makes encoders send nothing but keyframes.
public struct KeyframeRequestLimiter: Sendable {
    public var minimumInterval: UInt64
    private var lastSent: UInt64? = nil
    private var pending = false

    public init(minimumInterval: UInt64 = 500_000_000) { self.minimumInterval = minimumInterval }

    /// A keyframe is wanted; true when a request should go out now (otherwise it is deferred).
    public mutating func request(now: UInt64) -> Bool {
        if let last = lastSent, elapsed(now, since: last) < minimumInterval {
            pending = true
            return false
        }
        lastSent = now
        pending = false
        return true
    }

    /// A deferred request whose interval has passed; true when it should go out now.
    public mutating func tick(now: UInt64) -> Bool {
        guard pending, let last = lastSent, elapsed(now, since: last) >= minimumInterval else { return false }
        lastSent = now
        pending = false
        return true
    }

    /// A request was deferred and has not gone out yet.
    public var isPending: Bool { pending }

    /// A keyframe arrived: deferred requests are satisfied.
    public mutating func keyframeReceived() { pending = false }
}
