import Testing
import TestSupport
@testable import MediaCrypto

/// SRTPStreamTable: two entries inline, the rest sorted; every SSRC keeps its own state
/// whatever the order of arrival, and the limit holds.
struct SRTPStreamTableTests {
    /// A state that tells which SSRC it was written for.
    static func state(for ssrc: UInt32) -> SRTPContext.StreamState {
        var s = SRTPContext.StreamState()
        s.setHighest(UInt64(ssrc) << 8 | 0xAB)
        s.window = UInt64(ssrc) &* 3
        return s
    }

    /// SSRCs inserted in any order (0 and UInt32.max among them) are found in their slots, with
    /// the state written for each, after every later insert; unknown ones are not.
    @Test(arguments: [0, 1, 2, 3])
    func everySSRCKeepsItsState(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var ssrcs: [UInt32] = [0, .max, 7, 8, 6, 0x8000_0000] + (0..<60).map { _ in UInt32(truncatingIfNeeded: rng.next()) }
        ssrcs = Array(Set(ssrcs)).shuffled(using: &rng)
        var table = SRTPStreamTable()
        for (n, ssrc) in ssrcs.enumerated() {
            #expect(table.slot(of: ssrc) == nil)
            let slot = table.insert(ssrc, limit: 1024)!
            table[slot: slot] = Self.state(for: ssrc)
            #expect(table.count == n + 1)
            for earlier in ssrcs[...n] {
                let s = table[ssrc: earlier]
                #expect(s?.highestIndex == Self.state(for: earlier).highestIndex && s?.window == Self.state(for: earlier).window)
            }
        }
        let absent = (1...).lazy.map { UInt32($0) }.first { !ssrcs.contains($0) }!
        #expect(table.slot(of: absent) == nil && table[ssrc: absent] == nil)
    }

    /// No insert beyond the limit, inline or not.
    @Test(arguments: [1, 2, 3, 5])
    func theLimitHolds(limit: Int) {
        var table = SRTPStreamTable()
        for ssrc in 0..<UInt32(limit) { #expect(table.insert(ssrc * 7, limit: limit) != nil) }
        #expect(table.insert(1_000_001, limit: limit) == nil && table.count == limit)
    }

    /// A context's state packs the sender's and receiver's figures: the ROC and highest
    /// sequence are the two parts of the highest index, and the SRTCP receiver's index is
    /// unknown until set.
    @Test func stateFields() {
        var s = SRTPContext.StreamState()
        #expect(!s.started && s.rtcpHighest == nil)
        s.setHighest(0x0001_2345_FFFE)
        #expect(s.started && s.roc == 0x1_2345 && s.highestSequence == 0xFFFE && s.highestIndex == 0x0001_2345_FFFE)
        #expect(s.takeRTCPIndex() == 0 && s.takeRTCPIndex() == 1)
        s.setRTCPHighest(0x7FFF_FFFF)
        #expect(s.rtcpHighest == 0x7FFF_FFFF)
    }
}
