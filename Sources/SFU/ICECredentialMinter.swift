import Glibc
import MediaCrypto

/// The server's ICE credentials (RFC 8839 §5.4): a random ufrag, and a password that is the
/// HMAC-SHA256 of the ufrag under a key of the server's, written in ice-chars. Neither plane
/// stores a password: the control plane derives it when it writes SDP, the router when it
/// checks or signs a STUN message (a check every few seconds per peer; one HMAC each, no
/// allocation). A stored 24-character password was a heap string per viewer (~80 bytes with
/// malloc's overhead, massif) referenced from both planes.
///
/// The password carries 144 bits (24 characters of 6 bits), unpredictable without the key, as
/// RFC 8839 asks of a random one (at least 128 bits). The ufrag, public in SDP, is 24 random bits
/// (RFC 8445 §5.3 asks for at least that) followed by a sequence number, so that no two minted
/// by one minter are equal: the router finds a subscriber connection's transport by its ufrag,
/// and two connections sharing one must not be possible, however unlikely.
/// The key is made at start-up and never leaves the process: after a restart every earlier
/// password is void, as the sessions it protected are.
public struct ICECredentialMinter: Sendable {
    private let key: [UInt8]
    /// Ufrags minted so far (shared by the minter's copies).
    private let sequence = Counter()

    /// @unchecked Sendable: `value` is only touched under `mutex`.
    private final class Counter: @unchecked Sendable {
        private var value: UInt64 = 0
        private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

        init() { pthread_mutex_init(mutex, nil) }

        deinit {
            pthread_mutex_destroy(mutex)
            mutex.deallocate()
        }

        /// The next number (0, 1, 2, …).
        func take() -> UInt64 {
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            value &+= 1
            return value &- 1
        }
    }
    /// ice-char (RFC 8839 §5.4: ALPHA / DIGIT / "+" / "/"), 64 of them: 6 bits each.
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    /// 4 random characters and 6 of sequence number (36 bits).
    public static let ufragLength = 10
    public static let passwordLength = 24

    /// `key`: 32 random bytes unless given (tests).
    public init(key: [UInt8] = SecureRandom.bytes(32)) {
        precondition(!key.isEmpty)
        self.key = key
    }

    /// New credentials: a ufrag no other of this minter has, and its password.
    public func mint() -> (ufrag: String, password: String) {
        let n = sequence.take()
        var chars = SecureRandom.bytes(4).map { Self.alphabet[Int($0) & 63] }
        for i in 0..<6 { chars.append(Self.alphabet[Int(truncatingIfNeeded: n >> UInt64(30 - 6 * i)) & 63]) }
        let ufrag = String(decoding: chars, as: UTF8.self)
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
