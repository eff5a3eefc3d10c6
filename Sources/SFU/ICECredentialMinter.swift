import MediaCrypto

/// The server's ICE credentials (RFC 8839 §5.4): a random ufrag, and a password that is the
/// HMAC-SHA256 of the ufrag under a key of the server's, written in ice-chars. Neither plane
/// stores a password: the control plane derives it when it writes SDP, the router when it
/// checks or signs a STUN message (a check every few seconds per peer; one HMAC each, no
/// allocation). A stored 24-character password was a heap string per viewer (~80 bytes with
/// malloc's overhead, massif) referenced from both planes.
///
/// The password carries 144 bits (24 characters of 6 bits), unpredictable without the key, as
/// RFC 8839 asks of a random one (at least 128 bits); the ufrag, public in SDP, is 48 random bits.
/// The key is made at start-up and never leaves the process: after a restart every earlier
/// password is void, as the sessions it protected are.
public struct ICECredentialMinter: Sendable {
    private let key: [UInt8]
    /// ice-char (RFC 8839 §5.4: ALPHA / DIGIT / "+" / "/"), 64 of them: 6 bits each.
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    public static let ufragLength = 8
    public static let passwordLength = 24

    /// `key`: 32 random bytes unless given (tests).
    public init(key: [UInt8] = SecureRandom.bytes(32)) {
        precondition(!key.isEmpty)
        self.key = key
    }

    /// New credentials: a random ufrag and its password.
    public func mint() -> (ufrag: String, password: String) {
        let ufrag = String(decoding: SecureRandom.bytes(Self.ufragLength).map { Self.alphabet[Int($0) & 63] }, as: UTF8.self)
        return (ufrag, password(for: ufrag))
    }

    /// The password of `ufrag`.
    public func password(for ufrag: String) -> String {
        withPassword(for: ufrag) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the password of `ufrag` (the STUN short-term key, RFC 8489 §9.2.1) in
    /// a buffer on the stack.
    public func withPassword<R>(for ufrag: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        var ufrag = ufrag
        return withUnsafeTemporaryAllocation(byteCount: 32 + Self.passwordLength, alignment: 8) { buffer in
            let mac = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<32])
            key.withUnsafeBytes { k in ufrag.withUTF8 { HMAC.authenticate(.sha256, key: k, message: UnsafeRawBufferPointer($0), into: mac) } }
            let password = UnsafeMutableRawBufferPointer(rebasing: buffer[32...])
            for i in 0..<Self.passwordLength {
                // Bits 6i ..< 6i + 6 of the MAC, most significant first.
                let bit = 6 * i, byte = bit / 8, shift = bit % 8
                let pair = UInt16(mac[byte]) << 8 | UInt16(byte + 1 < 32 ? mac[byte + 1] : 0)
                password[i] = Self.alphabet[Int(pair >> (10 - shift)) & 63]
            }
            return body(UnsafeRawBufferPointer(password))
        }
    }
}
