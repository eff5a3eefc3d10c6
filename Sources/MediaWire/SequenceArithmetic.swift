/// Wrap-around arithmetic for RTP sequence numbers (16 bits) and timestamps (32 bits), in the
/// manner of RFC 3550 Appendix A.1 and RFC 1982 serial numbers: "a is newer than b" when the
/// forward distance from b to a is less than half the number space.
public enum SequenceNumber {
    /// Signed distance from `b` to `a` (positive when `a` is newer), in -32768...32767.
    @inline(__always)
    public static func distance(from b: UInt16, to a: UInt16) -> Int {
        Int(Int16(bitPattern: a &- b))
    }

    /// True when `a` comes after `b` (RFC 1982 §3.2; exactly half-way counts as newer when a > b).
    @inline(__always)
    public static func isNewer(_ a: UInt16, than b: UInt16) -> Bool {
        let d = a &- b
        return d != 0 && (d < 0x8000 || (d == 0x8000 && a > b))
    }
}

public enum RTPTimestamp {
    /// Signed distance from `b` to `a` in clock ticks.
    @inline(__always)
    public static func distance(from b: UInt32, to a: UInt32) -> Int64 {
        Int64(Int32(bitPattern: a &- b))
    }

    @inline(__always)
    public static func isNewer(_ a: UInt32, than b: UInt32) -> Bool {
        let d = a &- b
        return d != 0 && (d < 0x8000_0000 || (d == 0x8000_0000 && a > b))
    }
}

/// Extends 16-bit sequence numbers to a monotonic 64-bit count (RFC 3550 A.1's cycle counting),
/// tolerating reordering: an older number just before a wrap maps into the previous cycle.
public struct SequenceUnwrapper: Sendable {
    private var last: Int64? = nil

    public init() {}

    /// The extended value of `sequence`; the first call defines cycle 0.
    public mutating func unwrap(_ sequence: UInt16) -> Int64 {
        guard let last else {
            self.last = Int64(sequence)
            return Int64(sequence)
        }
        let lastLow = UInt16(truncatingIfNeeded: last)
        let extended = last + Int64(SequenceNumber.distance(from: lastLow, to: sequence))
        if extended > last { self.last = extended }
        return extended
    }
}

/// Extends 32-bit RTP timestamps to 64 bits, tolerating reordering.
public struct TimestampUnwrapper: Sendable {
    private var last: Int64? = nil

    public init() {}

    public mutating func unwrap(_ timestamp: UInt32) -> Int64 {
        guard let last else {
            self.last = Int64(timestamp)
            return Int64(timestamp)
        }
        let extended = last + RTPTimestamp.distance(from: UInt32(truncatingIfNeeded: last), to: timestamp)
        if extended > last { self.last = extended }
        return extended
    }
}
