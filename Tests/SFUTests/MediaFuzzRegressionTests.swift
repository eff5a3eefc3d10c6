import Testing
import TestSupport
import MediaFuzzing

/// The media datagram entry point: committed fuzz inputs and seeded random datagrams never trap.
/// Serialized: both tests drive the fuzz target's one shared router, which, like the server's,
/// belongs to one thread (run in parallel they raced on its tables and crashed the test process).
@Suite(.serialized)
struct MediaFuzzRegressionTests {
    /// Every committed input for the media-datagram target runs clean.
    @Test func replay() throws {
        let files = Fixture.files(in: "fuzz/media-datagram")
        #expect(files.count >= 5)
        for f in files { try Fixture.bytes(f).withUnsafeBytes { MediaFuzzing.datagram($0) } }
    }

    /// The committed ICE check (signed by tools/fuzz/make-seeds.py with the password the fuzz
    /// router's minter derives) is answered: the fuzzer's seeds reach past ICE.
    @Test func theSeedCheckIsAnswered() throws {
        let check = try Fixture.files(in: "fuzz/media-datagram").map { try Fixture.bytes($0) }
            .filter { $0.count > 3 && $0[1] == 0x00 && $0[2] == 0x01 }  // a Binding request (RFC 8489 §5)
        #expect(check.count == 1)
        for c in check { #expect(c.withUnsafeBytes { MediaFuzzing.sent(for: $0) } == 1) }
    }

    /// 20 000 random datagrams and 5 000 mutated seeds, fixed seed.
    @Test func randomAndMutated() throws {
        var rng = SeededRandom(seed: 4242)
        for _ in 0..<20_000 { rng.bytes(Int.random(in: 0...300, using: &rng)).withUnsafeBytes { MediaFuzzing.datagram($0) } }
        let seeds = try Fixture.files(in: "fuzz/media-datagram").map { try Fixture.bytes($0) }
        for i in 0..<5_000 { rng.mutate(seeds[i % seeds.count]).withUnsafeBytes { MediaFuzzing.datagram($0) } }
    }
}
