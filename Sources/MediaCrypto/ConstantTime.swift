/// Comparison whose running time does not depend on where two secrets differ, for MACs and
/// signatures (STUN MESSAGE-INTEGRITY, SRTP auth tags, JWT signatures).
public enum ConstantTime {
    /// True when both buffers have the same length and bytes. Time depends only on the length.
    public static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { x in b.withUnsafeBytes { y in equal(x, y) } }
    }
}
