/// Per-SSRC SRTP state of one context, looked up once per packet. Most contexts carry one to a
/// few SSRCs (a subscriber's outgoing streams, a publisher's audio and video), so the first
/// `inlineCapacity` live in a flat array scanned linearly, most recent hit first; beyond that a
/// dictionary indexes the slots. Bounded by `SRTPContext.maximumStreams` (hostile SSRC floods).
struct SRTPStreamTable {
    static let inlineCapacity = 8

    private(set) var ssrcs: [UInt32] = []
    var states: [SRTPContext.StreamState] = []
    private var index: [UInt32: Int] = [:]
    private var lastHit = 0

    var count: Int { ssrcs.count }

    /// The slot of `ssrc`, if known.
    @inline(__always)
    mutating func slot(of ssrc: UInt32) -> Int? {
        if lastHit < ssrcs.count, ssrcs[lastHit] == ssrc { return lastHit }
        if ssrcs.count <= Self.inlineCapacity {
            for i in ssrcs.indices where ssrcs[i] == ssrc {
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
        guard ssrcs.count < limit else { return nil }
        ssrcs.append(ssrc)
        states.append(SRTPContext.StreamState())
        let i = ssrcs.count - 1
        if ssrcs.count > Self.inlineCapacity {
            if index.isEmpty { for (j, s) in ssrcs.enumerated() { index[s] = j } } else { index[ssrc] = i }
        }
        lastHit = i
        return i
    }

    subscript(ssrc ssrc: UInt32) -> SRTPContext.StreamState? {
        mutating get { slot(of: ssrc).map { states[$0] } }
    }
}
