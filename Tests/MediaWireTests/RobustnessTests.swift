import Testing
import TestSupport
import WireFuzzing
@testable import MediaWire

/// Random and mutated bytes with a fixed seed through every parser's fuzz entry point (which
/// checks its invariants with preconditions): reproducible robustness in every `make test`.
struct RobustnessTests {
    /// 20 000 random buffers per parser (lengths 0–300), fixed seed.
    @Test(arguments: WireFuzzing.targets.keys.sorted())
    func randomBytes(target: String) {
        var rng = SeededRandom(seed: 0x5348_4948_5549)  // "SHIHUI"
        let entry = WireFuzzing.targets[target]!
        for _ in 0..<20_000 {
            let bytes = rng.bytes(Int.random(in: 0...300, using: &rng))
            bytes.withUnsafeBytes { entry($0) }
        }
    }

    /// 5 000 mutations (1–4 flipped bytes) of each committed seed, fixed seed.
    @Test(arguments: WireFuzzing.targets.keys.sorted())
    func mutatedSeeds(target: String) throws {
        var rng = SeededRandom(seed: 7)
        let entry = WireFuzzing.targets[target]!
        let seeds = try Fixture.files(in: "fuzz/\(target)").map { try Fixture.bytes($0) }
        #expect(!seeds.isEmpty)
        for i in 0..<5_000 {
            let mutated = rng.mutate(seeds[i % seeds.count])
            mutated.withUnsafeBytes { entry($0) }
        }
    }

    /// Random valid-looking STUN headers followed by random attribute soup parse or fail cleanly,
    /// and never report an attribute beyond the message.
    @Test func stunAttributeSoup() {
        var rng = SeededRandom(seed: 99)
        var parsed = 0
        for _ in 0..<20_000 {
            let body = rng.bytes(4 * Int.random(in: 0...30, using: &rng))
            let message = [0x00, 0x01, UInt8(body.count >> 8), UInt8(body.count & 0xFF), 0x21, 0x12, 0xA4, 0x42]
                + rng.bytes(12) + body
            if let m = try? STUNMessage.parse(message) {
                parsed += 1
                #expect(m.attributes.reduce(20) { $0 + 4 + ($1.value.count + 3) & ~3 } <= message.count)
            }
        }
        #expect(parsed > 0)
    }
}
