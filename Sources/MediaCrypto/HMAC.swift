import COpenSSL

/// Keyed-hash message authentication (RFC 2104) over OpenSSL's SHA-1 and SHA-256 compression
/// functions, with the hash states on the stack.
///
/// Used by STUN MESSAGE-INTEGRITY (RFC 8489 §14.5, HMAC-SHA1) and JWT HS256 (RFC 7518 §3.2).
/// Pure: no state beyond its arguments. Not OpenSSL's one-shot `HMAC()`, which allocates a MAC
/// context per call: a STUN consent check every few seconds per peer made that the server's one
/// steady source of allocations in OpenSSL. SRTP's per-packet authentication keeps precomputed
/// pads instead (SRTPCipher).
public enum HMAC {
    public enum Algorithm: Sendable {
        case sha1, sha256
        /// Output length in bytes.
        public var digestLength: Int { self == .sha1 ? 20 : 32 }
    }

    /// Both hashes' block size (RFC 2104 §2: B = 64 for SHA-1 and SHA-256).
    static let blockSize = 64

    /// Computes HMAC(key, message) into `output`, which must hold `algorithm.digestLength` bytes.
    public static func authenticate(
        _ algorithm: Algorithm, key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) {
        precondition(output.count >= algorithm.digestLength, "HMAC output buffer too small")
        withUnsafeTemporaryAllocation(byteCount: blockSize + 32, alignment: 16) { scratch in
            let pad = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<blockSize])
            let inner = UnsafeMutableRawBufferPointer(rebasing: scratch[blockSize..<(blockSize + 32)])
            // K0: the key, or its hash when longer than a block, zero-padded to B bytes (§2).
            pad.initializeMemory(as: UInt8.self, repeating: 0)
            if key.count > blockSize {
                hash(algorithm, key, UnsafeRawBufferPointer(start: nil, count: 0), into: pad)
            } else if key.count > 0 {
                pad.copyMemory(from: key)
            }
            for i in 0..<blockSize { pad[i] ^= 0x36 }
            hash(algorithm, UnsafeRawBufferPointer(pad), message, into: inner)
            for i in 0..<blockSize { pad[i] ^= 0x36 ^ 0x5C }
            hash(algorithm, UnsafeRawBufferPointer(pad), UnsafeRawBufferPointer(rebasing: inner[0..<algorithm.digestLength]), into: output)
        }
    }

    /// H(first || second) into `output`.
    private static func hash(_ algorithm: Algorithm, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer,
                             into output: UnsafeMutableRawBufferPointer) {
        let out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        switch algorithm {
        case .sha1:
            var c = SHA_CTX()
            SHA1_Init(&c)
            if first.count > 0 { SHA1_Update(&c, first.baseAddress!, first.count) }
            if second.count > 0 { SHA1_Update(&c, second.baseAddress!, second.count) }
            SHA1_Final(out, &c)
        case .sha256:
            var c = SHA256_CTX()
            SHA256_Init(&c)
            if first.count > 0 { SHA256_Update(&c, first.baseAddress!, first.count) }
            if second.count > 0 { SHA256_Update(&c, second.baseAddress!, second.count) }
            SHA256_Final(out, &c)
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
