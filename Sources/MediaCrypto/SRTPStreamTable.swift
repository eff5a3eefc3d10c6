/// Per-SSRC SRTP state of one context, looked up once per packet.
///
/// Nearly every context carries one or two SSRCs (a viewer's outgoing audio and video, its one
/// RTCP sender; a publisher's audio and video), so the first two entries are stored inline and
/// cost no allocation; further ones (a simulcast publisher, a hostile SSRC flood) go to an array
/// kept sorted by SSRC and searched by bisection. Bounded by `SRTPContext.maximumStreams`.
/// Two arrays per viewer (~250 bytes with their headers and malloc's overhead, massif) were
/// more than the state they held.
struct SRTPStreamTable {
    /// 32 bytes: the state, then its SSRC in the state's tail padding.
    struct Entry {
        var state: SRTPContext.StreamState
        let ssrc: UInt32
    }

    private var first = Entry(state: SRTPContext.StreamState(), ssrc: 0)
    private var second = Entry(state: SRTPContext.StreamState(), ssrc: 0)
    /// Entries after the first two, sorted by SSRC.
    private var more: [Entry] = []
    /// Entries in use (`first` and `second` count only when below it).
    private var stored: UInt16 = 0

    var count: Int { Int(stored) }

    /// The state in `slot` (from `slot(of:)` or `insert`, valid until the next `insert`).
    subscript(slot i: Int) -> SRTPContext.StreamState {
        @inline(__always) get {
            switch i {
            case 0: first.state
            case 1: second.state
            default: more[i - 2].state
            }
        }
        @inline(__always) set {
            switch i {
            case 0: first.state = newValue
            case 1: second.state = newValue
            default: more[i - 2].state = newValue
            }
        }
    }

    /// The slot of `ssrc`, if known.
    @inline(__always)
    func slot(of ssrc: UInt32) -> Int? {
        if stored > 0 && first.ssrc == ssrc { return 0 }
        if stored > 1 && second.ssrc == ssrc { return 1 }
        guard stored > 2 else { return nil }
        let i = insertionPoint(of: ssrc)
        return i < more.count && more[i].ssrc == ssrc ? i + 2 : nil
    }

    /// Adds `ssrc` (not yet present) with fresh state; nil when the table holds `limit` already.
    mutating func insert(_ ssrc: UInt32, limit: Int) -> Int? {
        guard Int(stored) < limit else { return nil }
        let entry = Entry(state: SRTPContext.StreamState(), ssrc: ssrc)
        stored += 1
        switch stored {
        case 1: first = entry; return 0
        case 2: second = entry; return 1
        default:
            let i = insertionPoint(of: ssrc)
            more.insert(entry, at: i)
            return i + 2
        }
    }

    /// Where `ssrc` is or would go in `more` (the first entry not below it).
    private func insertionPoint(of ssrc: UInt32) -> Int {
        var low = 0, high = more.count
        while low < high {
            let mid = (low + high) / 2
            if more[mid].ssrc < ssrc { low = mid + 1 } else { high = mid }
        }
        return low
    }

    subscript(ssrc ssrc: UInt32) -> SRTPContext.StreamState? {
        slot(of: ssrc).map { self[slot: $0] }
    }
}
