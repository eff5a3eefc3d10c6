/// Transports by when their next RTCP reports fall due, in fixed slots of time (a timing wheel):
/// the report pass takes only the slots that came due instead of visiting every transport.
/// Visiting 6,000 transports' streams every 100 ms was ~6 % of the core in rooms 1000×3.
///
/// A transport is on the wheel once: scheduled when it connects and again each time it is
/// taken. The router drops taken IDs whose transport has gone. Times are the caller's monotonic
/// nanoseconds; a time past the wheel's span (`slotCount` slots ahead) is taken at the span's
/// end, a time already past with the next slot to end.
struct ReportWheel {
    static let slotCount = 32
    let slotNanos: UInt64
    private var slots: [[WebRTCTransport.ID]]
    /// The absolute number (time / slotNanos) of the next slot to take; nil before first use.
    private var cursor: UInt64? = nil

    init(slotNanos: UInt64) {
        self.slotNanos = slotNanos
        slots = Array(repeating: [], count: Self.slotCount)
    }

    /// How many transports are on the wheel (for tests).
    var count: Int { slots.reduce(0) { $0 + $1.count } }

    mutating func schedule(_ id: WebRTCTransport.ID, at time: UInt64) {
        let first = cursor ?? time / slotNanos
        if cursor == nil { cursor = first }
        let slot = min(max(time / slotNanos, first), first + UInt64(Self.slotCount - 1))
        slots[Int(slot % UInt64(Self.slotCount))].append(id)
    }

    /// Moves every transport whose slot has ended by `now` into `due` (appended), so that none
    /// is taken before its time (at most one slot after); the caller schedules the ones it keeps.
    mutating func take(now: UInt64, into due: inout [WebRTCTransport.ID]) {
        let end = now / slotNanos  // slots before this one have ended
        guard var next = cursor, next < end else { return }
        // After a long stall, one turn of the wheel takes every slot.
        if end - next > UInt64(Self.slotCount) { next = end - UInt64(Self.slotCount) }
        while next < end {
            let index = Int(next % UInt64(Self.slotCount))
            due.append(contentsOf: slots[index])
            slots[index].removeAll(keepingCapacity: true)
            next += 1
        }
        cursor = next
    }
}
