import Testing
import TestSupport
import WireFuzzing

/// Replays every committed fuzz input (seeds and crashers under Fixtures/fuzz/<target>/) through
/// the same entry points the libFuzzer targets use, so a fixed crash stays fixed.
struct FuzzRegressionTests {
    static let inputs: [String] = WireFuzzing.targets.keys.sorted().flatMap { Fixture.files(in: "fuzz/\($0)") }

    /// Every target has committed seeds (an empty corpus would make this test vacuous).
    @Test func everyTargetHasInputs() {
        for target in WireFuzzing.targets.keys {
            #expect(!Fixture.files(in: "fuzz/\(target)").isEmpty, "no inputs for \(target)")
        }
    }

    /// Each input runs through its target's invariant checks without trapping.
    @Test(arguments: inputs)
    func replay(path: String) throws {
        let target = path.split(separator: "/")[1]
        let bytes = try Fixture.bytes(path)
        bytes.withUnsafeBytes { WireFuzzing.targets[String(target)]!($0) }
    }
}
