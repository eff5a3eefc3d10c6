/// 64-bit NTP timestamps as RTCP carries them (RFC 3550 §4; RFC 5905 §6): seconds since
/// 1900-01-01 in the high 32 bits, the fraction of a second in the low 32 bits.
public enum NTPTimestamp {
    /// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
    public static let unixEpochOffset: UInt64 = 2_208_988_800

    /// The NTP timestamp of a Unix time given in nanoseconds.
    @inline(__always)
    public static func fromUnix(nanoseconds ns: UInt64) -> UInt64 {
        let seconds = ns / 1_000_000_000 + unixEpochOffset
        let fraction = (ns % 1_000_000_000) << 32 / 1_000_000_000
        return seconds << 32 | fraction
    }

    /// The middle 32 bits, as an RR's LSR field carries the last SR's timestamp (RFC 3550 §6.4.1).
    @inline(__always)
    public static func middle32(_ ntp: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: ntp >> 16) }

    /// A duration in nanoseconds in units of 1/65536 s, as the DLSR field carries it (§6.4.1).
    @inline(__always)
    public static func shortDuration(nanoseconds ns: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: ns << 16 / 1_000_000_000)
    }
}
