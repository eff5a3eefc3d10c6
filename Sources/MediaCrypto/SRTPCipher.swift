import COpenSSL

/// OpenSSL contexts for one SRTP key, each created on its first use and then reused for every
/// packet (no allocation per packet in steady state): AES-128-CTR for counter mode and key
/// derivation, AES-128-GCM seal and open for AEAD, and HMAC-SHA1 as two SHA-1 states precomputed
/// over the key's inner and outer pads (RFC 2104 §2), copied per packet. That last one bypasses
/// EVP_MAC, whose per-call re-init copies digest contexts through the provider layer and
/// allocates: 0.71 µs instead of 0.90 µs for a 1200-byte packet on the benchmark machine
/// (docs/PERFORMANCE.md), same SHA-NI code.
///
/// Lazily, because an OpenSSL cipher context costs 656 bytes and most keys use one of them, or
/// none: a viewer's inbound RTP key never sees a packet, a GCM key seals or opens but not both.
///
/// @unchecked Sendable: never shared between threads; a context belongs to one media worker.
final class SRTPCipher: @unchecked Sendable {
    private let key: (UInt64, UInt64)
    private var ctr: OpaquePointer?
    private var gcmEncrypt: OpaquePointer?
    private var gcmDecrypt: OpaquePointer?
    /// SHA-1 state after (K xor ipad) and after (K xor opad); nil without an auth key.
    private let hmacPads: (inner: SHA_CTX, outer: SHA_CTX)?

    init(key: [UInt8], authKey: [UInt8]?) {
        precondition(key.count == 16)
        var k: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &k) { $0.copyBytes(from: key) }
        self.key = k
        hmacPads = authKey.map(Self.pads)
    }

    /// A cipher context for `cipher` under this key, for encryption or decryption.
    private func makeContext(_ cipher: OpaquePointer?, encrypt: Bool) -> OpaquePointer {
        let context = EVP_CIPHER_CTX_new()!
        withUnsafeBytes(of: key) { k in
            let p = k.baseAddress!.assumingMemoryBound(to: UInt8.self)
            precondition((encrypt ? EVP_EncryptInit_ex(context, cipher, nil, p, nil) : EVP_DecryptInit_ex(context, cipher, nil, p, nil)) == 1)
        }
        return context
    }

    /// RFC 2104 §2: a key longer than the 64-byte block is hashed first; then K is zero-padded,
    /// XORed with 0x36 (inner) and 0x5C (outer), and each pad absorbed into a SHA-1 state.
    static func pads(_ key: [UInt8]) -> (inner: SHA_CTX, outer: SHA_CTX) {
        var k = key
        if k.count > 64 {
            k = [UInt8](repeating: 0, count: 20)
            key.withUnsafeBufferPointer { b in _ = COpenSSL.SHA1(b.baseAddress, b.count, &k) }
        }
        k += [UInt8](repeating: 0, count: 64 - k.count)
        var inner = SHA_CTX(), outer = SHA_CTX()
        SHA1_Init(&inner)
        SHA1_Init(&outer)
        let ipad = k.map { $0 ^ 0x36 }, opad = k.map { $0 ^ 0x5C }
        SHA1_Update(&inner, ipad, 64)
        SHA1_Update(&outer, opad, 64)
        return (inner, outer)
    }

    deinit {
        if let ctr { EVP_CIPHER_CTX_free(ctr) }
        if let gcmEncrypt { EVP_CIPHER_CTX_free(gcmEncrypt) }
        if let gcmDecrypt { EVP_CIPHER_CTX_free(gcmDecrypt) }
    }

    /// XORs `data` in place with the AES-CTR keystream starting at counter block `iv` (16 bytes).
    @inline(__always)
    func ctrXOR(iv: UnsafePointer<UInt8>, _ data: UnsafeMutableRawBufferPointer) {
        guard data.count > 0 else { return }
        var outLength: Int32 = 0
        let ctr: OpaquePointer
        if let c = self.ctr { ctr = c } else { ctr = makeContext(EVP_aes_128_ctr(), encrypt: true); self.ctr = ctr }
        precondition(EVP_EncryptInit_ex(ctr, nil, nil, nil, iv) == 1)
        let p = data.baseAddress!.assumingMemoryBound(to: UInt8.self)
        precondition(EVP_EncryptUpdate(ctr, p, &outLength, p, Int32(data.count)) == 1)
    }

    /// HMAC-SHA1 over `a` then `b`, first `tagLength` bytes written to `tag`.
    @inline(__always)
    func hmacSHA1(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, tag: UnsafeMutablePointer<UInt8>, tagLength: Int) {
        guard let hmacPads else { preconditionFailure("no auth key") }
        var inner = hmacPads.inner
        if a.count > 0 { SHA1_Update(&inner, a.baseAddress, a.count) }
        if b.count > 0 { SHA1_Update(&inner, b.baseAddress, b.count) }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digest in
            SHA1_Final(digest.baseAddress, &inner)
            var outer = hmacPads.outer
            SHA1_Update(&outer, digest.baseAddress, 20)
            SHA1_Final(digest.baseAddress, &outer)
            tag.update(from: digest.baseAddress!, count: tagLength)
        }
    }

    /// AES-GCM seal in place: `plaintext` becomes ciphertext and the 16-byte tag goes to `tag`.
    @inline(__always)
    func gcmSeal(iv: UnsafePointer<UInt8>, aad: UnsafeRawBufferPointer, _ aad2: UnsafeRawBufferPointer, _ plaintext: UnsafeMutableRawBufferPointer, tag: UnsafeMutablePointer<UInt8>) {
        var n: Int32 = 0
        let gcmEncrypt: OpaquePointer
        if let c = self.gcmEncrypt { gcmEncrypt = c } else { gcmEncrypt = makeContext(EVP_aes_128_gcm(), encrypt: true); self.gcmEncrypt = gcmEncrypt }
        precondition(EVP_EncryptInit_ex(gcmEncrypt, nil, nil, nil, iv) == 1)
        if aad.count > 0 { precondition(EVP_EncryptUpdate(gcmEncrypt, nil, &n, aad.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(aad.count)) == 1) }
        if aad2.count > 0 { precondition(EVP_EncryptUpdate(gcmEncrypt, nil, &n, aad2.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(aad2.count)) == 1) }
        if plaintext.count > 0 {
            let p = plaintext.baseAddress!.assumingMemoryBound(to: UInt8.self)
            precondition(EVP_EncryptUpdate(gcmEncrypt, p, &n, p, Int32(plaintext.count)) == 1)
        }
        precondition(EVP_EncryptFinal_ex(gcmEncrypt, tag, &n) == 1)
        precondition(EVP_CIPHER_CTX_ctrl(gcmEncrypt, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1)
    }

    /// AES-GCM open in place; false when the tag does not verify (the data is then garbage).
    @inline(__always)
    func gcmOpen(iv: UnsafePointer<UInt8>, aad: UnsafeRawBufferPointer, _ aad2: UnsafeRawBufferPointer, _ ciphertext: UnsafeMutableRawBufferPointer, tag: UnsafePointer<UInt8>) -> Bool {
        var n: Int32 = 0
        let gcmDecrypt: OpaquePointer
        if let c = self.gcmDecrypt { gcmDecrypt = c } else { gcmDecrypt = makeContext(EVP_aes_128_gcm(), encrypt: false); self.gcmDecrypt = gcmDecrypt }
        precondition(EVP_DecryptInit_ex(gcmDecrypt, nil, nil, nil, iv) == 1)
        if aad.count > 0 { precondition(EVP_DecryptUpdate(gcmDecrypt, nil, &n, aad.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(aad.count)) == 1) }
        if aad2.count > 0 { precondition(EVP_DecryptUpdate(gcmDecrypt, nil, &n, aad2.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(aad2.count)) == 1) }
        if ciphertext.count > 0 {
            let p = ciphertext.baseAddress!.assumingMemoryBound(to: UInt8.self)
            precondition(EVP_DecryptUpdate(gcmDecrypt, p, &n, p, Int32(ciphertext.count)) == 1)
        }
        precondition(EVP_CIPHER_CTX_ctrl(gcmDecrypt, EVP_CTRL_AEAD_SET_TAG, 16, UnsafeMutableRawPointer(mutating: tag)) == 1)
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { s in EVP_DecryptFinal_ex(gcmDecrypt, s.baseAddress, &n) } == 1
    }
}

/// RFC 3711 §4.3 key derivation with key_derivation_rate 0: session key material for `label` is
/// the AES-CM keystream under the master key, with IV = (master_salt XOR (label << 48)) || 0x0000.
public enum SRTPKeyDerivation {
    public enum Label: UInt8, Sendable {
        case rtpEncryption = 0, rtpAuthentication = 1, rtpSalt = 2, rtcpEncryption = 3, rtcpAuthentication = 4, rtcpSalt = 5
    }

    public static func derive(masterKey: [UInt8], masterSalt: [UInt8], label: Label, length: Int) -> [UInt8] {
        precondition(masterKey.count == 16 && masterSalt.count <= 14)
        var iv = [UInt8](repeating: 0, count: 16)
        // A 112-bit salt fills x; a 96-bit GCM salt is padded with two zero bytes on the right
        // (as libsrtp, the reference implementation browsers use, does).
        for (i, b) in masterSalt.enumerated() { iv[i] = b }
        iv[7] ^= label.rawValue  // key_id = label || r (48-bit r = 0), XORed into bits 48..55 of x
        var out = [UInt8](repeating: 0, count: length)
        let cipher = SRTPCipher(key: masterKey, authKey: nil)
        iv.withUnsafeBufferPointer { ivp in out.withUnsafeMutableBytes { cipher.ctrXOR(iv: ivp.baseAddress!, $0) } }
        return out
    }
}
