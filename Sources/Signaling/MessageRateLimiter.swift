/// A token bucket for one WebSocket's messages: `burst` at once, then `rate` a second. A client
/// past it is told and closed (1008, docs/signaling.md "Limits"), so a flood of messages cannot
/// keep the signaling loop busy answering it. Kept per session, so small: the level and the
/// time of the last message in milliseconds (wrapping; only differences are used).
public struct MessageRateLimiter: Sendable, Equatable {
    private var level: Float
    private var lastMillis: UInt32
    /// Past the limit once: every later message is ignored while the close goes out.
    public private(set) var tripped = false

    public init(burst: Int, now: Instant) {
        level = Float(burst)
        lastMillis = UInt32(truncatingIfNeeded: now.monotonicNanos / 1_000_000)
    }

    /// Takes one message; false when the bucket is empty (and from then on).
    public mutating func admit(now: Instant, rate: Int, burst: Int) -> Bool {
        guard !tripped else { return false }
        let millis = UInt32(truncatingIfNeeded: now.monotonicNanos / 1_000_000)
        let elapsed = millis &- lastMillis
        lastMillis = millis
        // A gap of over 2^31 ms reads as a full refill, as would any long pause.
        level = min(Float(burst), level + (elapsed > 1 << 31 ? Float(burst) : Float(elapsed) * Float(rate) / 1000))
        guard level >= 1 else {
            tripped = true
            return false
        }
        level -= 1
        return true
    }
}
