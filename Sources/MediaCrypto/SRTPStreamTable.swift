/// Per-SSRC SRTP state of one context, looked up once per packet. Most contexts carry one to a
/// few SSRCs (a subscriber's outgoing streams, a publisher's audio and video), so the first
/// `inlineCapacity` live in a flat array scanned linearly, most recent hit first; beyond that a
/// dictionary indexes the slots. Bounded by `SRTPContext.maximumStreams` (hostile SSRC floods).
/// SSRC and state share one array: two were two heap chunks per context (massif).
struct SRTPStreamTable {
    static let inlineCapacity = 8

    private struct Entry {
        let ssrc: UInt32
        var state: SRTPContext.StreamState
    }

    private var entries: [Entry] = []
    private var index: [UInt32: Int] = [:]
    private var lastHit = 0

    var count: Int { entries.count }

    /// The state in `slot` (from `slot(of:)` or `insert`).
    subscript(slot i: Int) -> SRTPContext.StreamState {
        @inline(__always) get { entries[i].state }
        @inline(__always) set { entries[i].state = newValue }
    }

    /// The slot of `ssrc`, if known.
    @inline(__always)
    mutating func slot(of ssrc: UInt32) -> Int? {
        if lastHit < entries.count, entries[lastHit].ssrc == ssrc { return lastHit }
        if entries.count <= Self.inlineCapacity {
            for i in entries.indices where entries[i].ssrc == ssrc {
                lastHit = i
                return i
            }
            return nil
        }
        guard let i = index[ssrc] else { return nil }
        lastHit = i
        return i
    }

    /// Adds `ssrc` with fresh state; nil when the table is full.
    mutating func insert(_ ssrc: UInt32, limit: Int) -> Int? {
        guard entries.count < limit else { return nil }
        entries.append(Entry(ssrc: ssrc, state: SRTPContext.StreamState()))
        let i = entries.count - 1
        if entries.count > Self.inlineCapacity {
            if index.isEmpty { for (j, e) in entries.enumerated() { index[e.ssrc] = j } } else { index[ssrc] = i }
        }
        lastHit = i
        return i
    }

    subscript(ssrc ssrc: UInt32) -> SRTPContext.StreamState? {
        mutating get { slot(of: ssrc).map { entries[$0].state } }
    }
}
