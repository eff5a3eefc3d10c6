/// 8 kHz to 48 kHz by six-fold linear interpolation, continuous across calls. Enough for
/// speech and sirens from a camera's microphone, whose G.711 carries nothing above 4 kHz.
public struct Upsampler: Sendable {
    public static let factor = 6
    private var last: Int32 = 0

    public init() {}

    /// Appends `factor` output samples per input sample to `output`.
    public mutating func process(_ input: some Collection<Int16>, into output: inout [Int16]) {
        for sample in input {
            let s = Int32(sample)
            for k in 1...Self.factor { output.append(Int16(last + (s - last) * Int32(k) / Int32(Self.factor))) }
            last = s
        }
    }
}
