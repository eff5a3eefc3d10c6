import Testing
@testable import SFU

/// Per-subscriber rewriting, the packet cache, NACK generation and keyframe-request limiting.
struct ForwardingTests {
    static let ms: UInt64 = 1_000_000

    /// Packets of one source keep their spacing; the first packet maps to itself.
    /// A subscriber's stream starts where the router says, whatever the publisher's number: a
    /// viewer joining when the publisher is at 65,530 starts at 500 and sees no wrap for 32,000
    /// packets, so missing its first packets cannot mislead its SRTP rollover estimate.
    @Test func aSubscribersSequenceStartsWhereTheRouterSays() {
        var r = RTPStreamRewriter(outboundSSRC: 9, clockRate: 90_000, initialSequenceNumber: 500)
        #expect(r.rewrite(ssrc: 1, sequenceNumber: 65_530, timestamp: 1000, now: 0)?.sequenceNumber == 500)
        #expect(r.rewrite(ssrc: 1, sequenceNumber: 65_535, timestamp: 4000, now: 33 * Self.ms)?.sequenceNumber == 505)
        #expect(r.rewrite(ssrc: 1, sequenceNumber: 2, timestamp: 7000, now: 66 * Self.ms)?.sequenceNumber == 508)
        #expect(r.inputSequence(forOutput: 505) == 65_535)
    }

    @Test func continuousSource() {
        var r = RTPStreamRewriter(outboundSSRC: 9, clockRate: 90_000)
        let v5 = r.rewrite(ssrc: 1, sequenceNumber: 100, timestamp: 5000, now: 0)
        #expect(v5 == .init(sequenceNumber: 100, timestamp: 5000))
        let v6 = r.rewrite(ssrc: 1, sequenceNumber: 101, timestamp: 8000, now: 33 * Self.ms)
        #expect(v6 == .init(sequenceNumber: 101, timestamp: 8000))
        let v7 = r.rewrite(ssrc: 1, sequenceNumber: 103, timestamp: 11000, now: 66 * Self.ms)
        #expect(v7?.sequenceNumber == 103)  // a real gap stays a gap (NACK-able)
        #expect(r.rewrite(ssrc: 1, sequenceNumber: 102, timestamp: 8000, now: 67 * Self.ms)?.sequenceNumber == 102)  // reordered, same epoch
    }

    /// Switching to another source continues the sequence (+1) and advances the timestamp by the
    /// elapsed time; late packets of the old source are dropped.
    @Test func sourceSwitchHasNoGapOrJump() throws {
        var r = RTPStreamRewriter(outboundSSRC: 9, clockRate: 90_000)
        _ = r.rewrite(ssrc: 1, sequenceNumber: 65_534, timestamp: 4_294_960_000, now: 0)
        let v1 = r.rewrite(ssrc: 1, sequenceNumber: 65_535, timestamp: 4_294_963_000, now: 33 * Self.ms)
        let last = try #require(v1)
        let v2 = r.rewrite(ssrc: 2, sequenceNumber: 7, timestamp: 123, now: 133 * Self.ms)
        let first = try #require(v2)
        #expect(first.sequenceNumber == last.sequenceNumber &+ 1)
        #expect(first.timestamp &- last.timestamp == 9000)  // 100 ms at 90 kHz
        let v8 = r.rewrite(ssrc: 2, sequenceNumber: 8, timestamp: 3123, now: 166 * Self.ms)
        #expect(v8 == .init(sequenceNumber: first.sequenceNumber &+ 1, timestamp: first.timestamp &+ 3000))
        #expect(r.rewrite(ssrc: 2, sequenceNumber: 6, timestamp: 0, now: 170 * Self.ms) == nil)  // before the switch point
    }

    /// Pause and resume (mute): contiguous sequence numbers, timestamp advanced by the pause.
    @Test func pauseResume() throws {
        var r = RTPStreamRewriter(outboundSSRC: 9, clockRate: 48_000)
        let v3 = r.rewrite(ssrc: 1, sequenceNumber: 10, timestamp: 960, now: 0)
        let a = try #require(v3)
        r.pause()
        let v4 = r.rewrite(ssrc: 1, sequenceNumber: 260, timestamp: 960 * 251, now: 5000 * Self.ms)
        let b = try #require(v4)
        #expect(b.sequenceNumber == a.sequenceNumber &+ 1 && b.timestamp &- a.timestamp == 240_000)
        // A NACK for the resumed packet maps back to the input number; one from before the pause does not.
        #expect(r.inputSequence(forOutput: b.sequenceNumber) == 260)
        #expect(r.inputSequence(forOutput: a.sequenceNumber) == nil)
    }

    /// A deliberately dropped packet leaves no gap.
    @Test func skipLeavesNoGap() {
        var r = RTPStreamRewriter(outboundSSRC: 9, clockRate: 90_000)
        _ = r.rewrite(ssrc: 1, sequenceNumber: 1, timestamp: 0, now: 0)
        r.skip(sequenceNumber: 2)
        let v9 = r.rewrite(ssrc: 1, sequenceNumber: 3, timestamp: 0, now: 1)
        #expect(v9?.sequenceNumber == 2)
    }

    /// The cache returns exactly the stored sequence number, and forgets overwritten slots.
    @Test func packetCache() {
        let cache = PacketCache(initialCapacity: 8, maximumCapacity: 8)
        for seq: UInt16 in 0..<10 { [UInt8](repeating: UInt8(seq), count: 100 + Int(seq)).withUnsafeBytes { cache.store(sequenceNumber: seq, $0, now: UInt64(seq) * Self.ms) } }
        #expect(cache.packet(sequenceNumber: 9).map { Array($0) } == [UInt8](repeating: 9, count: 109))
        #expect(cache.packet(sequenceNumber: 1) == nil)  // overwritten by 9
        #expect(cache.packet(sequenceNumber: 5)?.count == 105)
        #expect(cache.packet(sequenceNumber: 13) == nil)
        [UInt8](repeating: 0, count: 2000).withUnsafeBytes { cache.store(sequenceNumber: 5, $0, now: 20 * Self.ms) }
        #expect(cache.packet(sequenceNumber: 5) == nil)  // too large for a slot: not cached
    }

    /// The ring doubles when it would evict a packet younger than the retention time, keeping
    /// every cached packet, up to its maximum; slow streams (older evictions) stay small.
    @Test func packetCacheGrowsForFastStreams() {
        let fast = PacketCache(initialCapacity: 4, maximumCapacity: 16)
        for seq: UInt16 in 100..<120 { [UInt8](repeating: UInt8(seq), count: 50).withUnsafeBytes { fast.store(sequenceNumber: seq, $0, now: UInt64(seq) * Self.ms) } }
        #expect(fast.capacity == 16)
        #expect((104..<120).allSatisfy { fast.packet(sequenceNumber: $0).map { Array($0) } == [UInt8](repeating: UInt8($0), count: 50) })
        #expect(fast.packet(sequenceNumber: 103) == nil)  // the maximum was reached: oldest overwritten
        let slow = PacketCache(initialCapacity: 4, maximumCapacity: 16)
        for seq: UInt16 in 0..<20 { [UInt8](repeating: 1, count: 50).withUnsafeBytes { slow.store(sequenceNumber: seq, $0, now: UInt64(seq) * 1_500 * Self.ms) } }
        #expect(slow.capacity == 4)
        #expect(slow.packet(sequenceNumber: 19) != nil && slow.packet(sequenceNumber: 15) == nil)
    }

    /// RFC4585Section6_2_1: gaps are NACKed, retried at intervals, cleared on arrival, abandoned
    /// after the retry limit; a hopeless gap asks for a keyframe.
    @Test func nackGenerator() {
        var n = NACKGenerator()
        _ = n.received(100, now: 0)
        _ = n.received(104, now: 1 * Self.ms)  // 101, 102, 103 missing
        let v10 = n.due(now: 2 * Self.ms)
        #expect(v10 == [101, 102, 103])
        #expect(n.due(now: 10 * Self.ms).isEmpty)  // within the retry interval
        _ = n.received(102, now: 15 * Self.ms)
        let v11 = n.due(now: 25 * Self.ms)
        #expect(v11 == [101, 103])
        var t: UInt64 = 25
        for _ in 0..<10 { t += 25; _ = n.due(now: t * Self.ms) }
        #expect(n.missingCount == 0)  // gave up after maxRetries
        let v13 = n.received(104 &+ 1000, now: t * Self.ms)
        #expect(v13 == .keyframeNeeded)
        // Across the wrap.
        var w = NACKGenerator()
        _ = w.received(65_535, now: 0)
        _ = w.received(1, now: 0)
        let v12 = w.due(now: 0)
        #expect(v12 == [0])
    }

    /// At most one keyframe request per interval; a deferred one goes out when the interval ends,
    /// unless a keyframe arrived meanwhile.
    @Test func keyframeLimiter() {
        var k = KeyframeRequestLimiter(minimumInterval: 500 * Self.ms)
        let v14 = k.request(now: 0)
        #expect(v14)
        let d1 = k.request(now: 100 * Self.ms), d2 = k.request(now: 200 * Self.ms)
        #expect(!d1 && !d2)
        let v16 = k.tick(now: 400 * Self.ms)
        #expect(!v16)
        let v15 = k.tick(now: 500 * Self.ms)
        #expect(v15)
        let v17 = k.tick(now: 600 * Self.ms)
        #expect(!v17)
        let v18 = k.request(now: 700 * Self.ms)
        #expect(!v18)
        k.keyframeReceived()
        let v19 = k.tick(now: 2000 * Self.ms)
        #expect(!v19)
    }
}
