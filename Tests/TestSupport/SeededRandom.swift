/// A deterministic generator (SplitMix64) so robustness tests are reproducible run to run.
public struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }

    /// `base` with 1–4 random bytes flipped.
    public mutating func mutate(_ base: [UInt8]) -> [UInt8] {
        guard !base.isEmpty else { return base }
        var b = base
        for _ in 0..<Int.random(in: 1...4, using: &self) {
            b[Int.random(in: 0..<b.count, using: &self)] ^= UInt8.random(in: 1...255, using: &self)
        }
        return b
    }
}
