import Testing
import TestSupport
import ProtocolFuzzing

/// Replays committed fuzz inputs for the signaling parsers and runs seeded random and mutated
/// inputs through the same invariant checks (reproducible in every `make test`).
struct ProtocolFuzzRegressionTests {
    static let inputs: [String] = ProtocolFuzzing.targets.keys.sorted().flatMap { Fixture.files(in: "fuzz/\($0)") }

    /// Every target has committed seeds.
    @Test func everyTargetHasInputs() {
        for target in ProtocolFuzzing.targets.keys {
            #expect(!Fixture.files(in: "fuzz/\(target)").isEmpty, "no inputs for \(target)")
        }
    }

    /// Each committed input passes its target's invariant checks.
    @Test(arguments: inputs)
    func replay(path: String) throws {
        let target = String(path.split(separator: "/")[1])
        let bytes = try Fixture.bytes(path)
        bytes.withUnsafeBytes { ProtocolFuzzing.targets[target]!($0) }
    }

    /// 3 000 mutations of the seeds per target, fixed seed.
    @Test(arguments: ProtocolFuzzing.targets.keys.sorted())
    func mutatedSeeds(target: String) throws {
        var rng = SeededRandom(seed: 11)
        let seeds = try Fixture.files(in: "fuzz/\(target)").map { try Fixture.bytes($0) }
        #expect(!seeds.isEmpty)
        for i in 0..<3_000 {
            rng.mutate(seeds[i % seeds.count]).withUnsafeBytes { ProtocolFuzzing.targets[target]!($0) }
        }
    }
}
