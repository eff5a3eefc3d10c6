import COpenSSL

/// Message digests through OpenSSL EVP: MD5 for STUN long-term keys (RFC 8489 §9.2.2),
/// SHA-1 and SHA-256 for certificate fingerprints (RFC 8122 §5).
public enum Digest {
    public enum Algorithm: Sendable {
        case md5, sha1, sha256
        public var length: Int {
            switch self { case .md5: 16; case .sha1: 20; case .sha256: 32 }
        }
    }

    /// Hashes `message` and returns the digest.
    public static func hash(_ algorithm: Algorithm, _ message: UnsafeRawBufferPointer) -> [UInt8] {
        let md: OpaquePointer? = switch algorithm {
        case .md5: EVP_md5()
        case .sha1: EVP_sha1()
        case .sha256: EVP_sha256()
        }
        var out = [UInt8](repeating: 0, count: algorithm.length)
        var outLength: UInt32 = 0
        let ok = withUnsafeTemporaryAllocation(byteCount: 1, alignment: 1) { empty in
            out.withUnsafeMutableBufferPointer { o in
                EVP_Digest(message.baseAddress ?? UnsafeRawPointer(empty.baseAddress!), message.count, o.baseAddress,
                           &outLength, md, nil)
            }
        }
        precondition(ok == 1 && Int(outLength) == algorithm.length, "OpenSSL digest failed")
        return out
    }

    public static func hash(_ algorithm: Algorithm, _ message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { hash(algorithm, $0) }
    }
}
