/// How long the media thread's wake-ups take, from epoll's return to the next wait, as a
/// Prometheus histogram (`/metrics`): where the thread stalls (a timer pass, a release or trim,
/// a keyframe burst), the upper buckets show it. Recorded once per wake-up, not per packet.
public struct WakeupHistogram: Sendable, Equatable {
    /// Upper bounds of the buckets, in nanoseconds (the last bucket is +Inf).
    public static let bounds: [UInt64] = [50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000, 50_000_000, 100_000_000]
    /// Wake-ups per bucket (not cumulative); one more than `bounds`, for +Inf.
    public private(set) var counts: [UInt64]
    public private(set) var sumNanos: UInt64 = 0
    public private(set) var maxNanos: UInt64 = 0

    public init() { counts = Array(repeating: 0, count: Self.bounds.count + 1) }

    public var count: UInt64 { counts.reduce(0, +) }

    @inline(__always)
    public mutating func record(nanos: UInt64) {
        var i = 0
        while i < Self.bounds.count && nanos > Self.bounds[i] { i += 1 }
        counts[i] &+= 1
        sumNanos &+= nanos
        if nanos > maxNanos { maxNanos = nanos }
    }

    /// Prometheus text for the histogram named `name` (seconds, cumulative buckets).
    public func exposition(name: String, help: String) -> String {
        var out = "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        var cumulative: UInt64 = 0
        for (i, bound) in Self.bounds.enumerated() {
            cumulative += counts[i]
            out += "\(name)_bucket{le=\"\(Double(bound) / 1e9)\"} \(cumulative)\n"
        }
        cumulative += counts[Self.bounds.count]
        out += "\(name)_bucket{le=\"+Inf\"} \(cumulative)\n\(name)_sum \(Double(sumNanos) / 1e9)\n\(name)_count \(cumulative)\n"
        return out
    }
}
