/// Time elapsed from `then` to `now` in nanoseconds, 0 if `now` is earlier. Timestamps can come
/// from different threads or clocks (and from hostile test input); a plain `now - then` on
/// UInt64 would trap.
@inline(__always)
func elapsed(_ now: UInt64, since then: UInt64) -> UInt64 { now >= then ? now - then : 0 }
