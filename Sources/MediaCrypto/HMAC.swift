import COpenSSL

/// Keyed-hash message authentication (RFC 2104) through OpenSSL's one-shot `HMAC()`.
///
/// Used by STUN MESSAGE-INTEGRITY (RFC 8489 §14.5, HMAC-SHA1) and JWT HS256 (RFC 7518 §3.2).
/// Pure: no state beyond its arguments. SRTP's per-packet authentication uses a reusable
/// context instead (see the SRTP module) so that nothing is allocated per packet.
public enum HMAC {
    public enum Algorithm: Sendable {
        case sha1, sha256
        /// Output length in bytes.
        public var digestLength: Int { self == .sha1 ? 20 : 32 }
    }

    /// Computes HMAC(key, message) into `output`, which must hold `algorithm.digestLength` bytes.
    public static func authenticate(
        _ algorithm: Algorithm, key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) {
        precondition(output.count >= algorithm.digestLength, "HMAC output buffer too small")
        let md = algorithm == .sha1 ? shihui_EVP_sha1() : shihui_EVP_sha256()
        var outLength: UInt32 = 0
        // An empty buffer's base address may be nil; OpenSSL accepts a non-null pointer with length 0.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { dummy in
            let keyPointer = key.baseAddress ?? UnsafeRawPointer(dummy.baseAddress!)
            let messagePointer = message.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(dummy.baseAddress!)
            let result = COpenSSL.HMAC(md, keyPointer, Int32(key.count), messagePointer, message.count,
                                       output.baseAddress!.assumingMemoryBound(to: UInt8.self), &outLength)
            precondition(result != nil && Int(outLength) == algorithm.digestLength, "OpenSSL HMAC failed")
        }
    }

    /// HMAC over borrowed buffers, returning a new array.
    public static func authenticate(_ algorithm: Algorithm, key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: algorithm.digestLength)
        out.withUnsafeMutableBytes { authenticate(algorithm, key: key, message: message, into: $0) }
        return out
    }

    /// Convenience: HMAC over byte arrays, returning a new array.
    public static func authenticate(_ algorithm: Algorithm, key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: algorithm.digestLength)
        key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                out.withUnsafeMutableBytes { o in authenticate(algorithm, key: k, message: m, into: o) }
            }
        }
        return out
    }
}
