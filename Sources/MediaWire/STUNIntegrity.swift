import MediaCrypto

/// Verifies MESSAGE-INTEGRITY (RFC 8489 §14.5) and FINGERPRINT (§14.7) against the raw bytes a
/// message was parsed from, and derives keys (§9.1.1 short-term, §9.2.2 long-term).
public enum STUNIntegrity {
    /// FINGERPRINT is CRC-32 of the message up to it, XOR 0x5354554e ("STUN").
    public static let fingerprintXOR: UInt32 = 0x5354_554E

    /// True when MESSAGE-INTEGRITY is present and its HMAC-SHA1 over the preceding bytes (with the
    /// header length adjusted to end just after MESSAGE-INTEGRITY) matches, compared in constant time.
    public static func verifyMessageIntegrity(_ message: STUNMessage, raw: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer) -> Bool {
        guard let at = message.integrityOffset, at + 24 <= raw.count else { return false }
        return withUnsafeTemporaryAllocation(byteCount: at + 20, alignment: 4) { scratch in
            let signed = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<at])
            signed.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<at]))
            signed.writeU16(UInt16(at + 24 - STUNMessage.headerSize), at: 2)
            let mac = UnsafeMutableRawBufferPointer(rebasing: scratch[at..<(at + 20)])
            HMAC.authenticate(.sha1, key: key, message: UnsafeRawBufferPointer(signed), into: mac)
            return ConstantTime.equal(UnsafeRawBufferPointer(mac), UnsafeRawBufferPointer(rebasing: raw[(at + 4)..<(at + 24)]))
        }
    }

    public static func verifyMessageIntegrity(_ message: STUNMessage, raw: [UInt8], key: [UInt8]) -> Bool {
        raw.withUnsafeBytes { r in key.withUnsafeBytes { k in verifyMessageIntegrity(message, raw: r, key: k) } }
    }

    /// True when FINGERPRINT is present and correct.
    public static func verifyFingerprint(_ message: STUNMessage, raw: UnsafeRawBufferPointer) -> Bool {
        guard let at = message.fingerprintOffset, at + 8 <= raw.count else { return false }
        var header = [UInt8](repeating: 0, count: 4)
        header[0] = raw[0]; header[1] = raw[1]
        let adjusted = UInt16(at + 8 - STUNMessage.headerSize)
        header[2] = UInt8(adjusted >> 8); header[3] = UInt8(adjusted & 0xFF)
        var crc = header.withUnsafeBytes { CRC32.update(0, $0) }
        crc = CRC32.update(crc, UnsafeRawBufferPointer(rebasing: raw[4..<at]))
        return crc ^ fingerprintXOR == raw.readU32(at + 4)
    }

    public static func verifyFingerprint(_ message: STUNMessage, raw: [UInt8]) -> Bool {
        raw.withUnsafeBytes { verifyFingerprint(message, raw: $0) }
    }

    /// Short-term credential key: the password's UTF-8 bytes (ICE passwords are ASCII, RFC 8445 §5.3).
    public static func shortTermKey(password: String) -> [UInt8] { Array(password.utf8) }

    /// Long-term credential key (RFC 8489 §9.2.2, MD5 algorithm):
    /// MD5(username ":" realm ":" password). Strings must already be prepared (see `STUNPrep`).
    public static func longTermKey(username: String, realm: String, password: String) -> [UInt8] {
        Digest.hash(.md5, Array("\(username):\(realm):\(password)".utf8))
    }
}
