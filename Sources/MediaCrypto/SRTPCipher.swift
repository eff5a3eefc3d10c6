import COpenSSL

/// OpenSSL cipher contexts that SRTP keys on one thread take turns in, each created on its first
/// use: a use by another key than the last sets its key (AES key expansion inside OpenSSL) along
/// with the IV.
///
/// Why: an OpenSSL AES context is 656 bytes, and a viewer needs three (outbound RTP and RTCP,
/// inbound RTCP): 1,968 bytes per viewer, the largest part of its memory. Re-keying costs
/// 55–75 ns per packet for AES-128-CTR and ~150 ns for AES-128-GCM on a 1200-byte packet (a C
/// probe of OpenSSL 3 here: 166–171 → 222–245 ns, 400 → 547–586 ns), 1–3 % of what a forwarded
/// packet costs. The router owns one for all its keys; a key made without one (tests, the load
/// generator's threads, key derivation) gets one of its own, whose key never changes.
///
/// @unchecked Sendable: owned by one media thread, like the keys that use it.
public final class SRTPCipherContexts: @unchecked Sendable {
    private var ctrContext: OpaquePointer?
    private var sealContext: OpaquePointer?
    private var openContext: OpaquePointer?
    /// Which key (`SRTPCipher.keyID`) each context holds now; 0 is none.
    var ctrKey: UInt64 = 0, sealKey: UInt64 = 0, openKey: UInt64 = 0
    private var lastKeyID: UInt64 = 0

    public init() {}

    deinit {
        for c in [ctrContext, sealContext, openContext] { if let c { EVP_CIPHER_CTX_free(c) } }
    }

    /// AES-128-CTR (encrypting), AES-128-GCM sealing and opening.
    var ctr: OpaquePointer { ctrContext ?? Self.make(EVP_aes_128_ctr(), encrypt: true, into: &ctrContext) }
    var seal: OpaquePointer { sealContext ?? Self.make(EVP_aes_128_gcm(), encrypt: true, into: &sealContext) }
    var open: OpaquePointer { openContext ?? Self.make(EVP_aes_128_gcm(), encrypt: false, into: &openContext) }

    private static func make(_ cipher: OpaquePointer?, encrypt: Bool, into slot: inout OpaquePointer?) -> OpaquePointer {
        let c = EVP_CIPHER_CTX_new()!
        precondition((encrypt ? EVP_EncryptInit_ex(c, cipher, nil, nil, nil) : EVP_DecryptInit_ex(c, cipher, nil, nil, nil)) == 1)
        slot = c
        return c
    }

    /// A number no other key of these contexts has had (never reused, unlike an address).
    func newKeyID() -> UInt64 {
        lastKeyID += 1
        return lastKeyID
    }
}

/// The OpenSSL state for one SRTP key: AES-128-CTR for counter mode and key derivation and
/// AES-128-GCM seal and open for AEAD, in `SRTPCipherContexts` (shared, or its own), and HMAC-SHA1
/// as two SHA-1 chaining values precomputed over the key's inner and outer pads (RFC 2104 §2),
/// resumed per packet. That last one bypasses EVP_MAC, whose per-call re-init copies digest
/// contexts through the provider layer and allocates: 0.71 µs instead of 0.90 µs for a 1200-byte
/// packet on the benchmark machine (docs/PERFORMANCE.md), same SHA-NI code. No allocation per
/// packet in steady state.
///
/// A value kept inline in its `SRTPContext`, not an object of its own: four objects per viewer
/// were ~160 bytes with their headers and malloc's overhead (massif). 64 bytes: the cipher
/// contexts are not stored here but passed to each operation by the `SRTPContext`, which keeps
/// them alive, so reading a cipher on the packet path retains nothing (a counted reference made
/// every forwarded packet ~10 % slower in sfu-bench) and four pointers per viewer are saved.
///
/// @unchecked Sendable: never shared between threads; a context belongs to one media worker.
struct SRTPCipher: @unchecked Sendable {
    private let key: (UInt64, UInt64)
    /// Which key this is among those taking turns in the `SRTPCipherContexts` it was made for:
    /// only those contexts may be passed to its operations.
    private let keyID: UInt64
    /// SHA-1 chaining values (h0…h4) after absorbing the one block (K xor ipad), and after
    /// (K xor opad); zeros without an auth key (AEAD profiles, which never call `hmacSHA1`).
    /// 40 bytes instead of two 96-byte SHA_CTX: a state that has absorbed exactly one block is
    /// its chaining value, 512 bits counted, nothing buffered (`Self.resume`).
    private let hmacPads: (inner: Midstate, outer: Midstate)

    typealias Midstate = (UInt32, UInt32, UInt32, UInt32, UInt32)

    @inline(__always)
    static func resume(_ m: Midstate) -> SHA_CTX {
        var c = SHA_CTX()
        c.h0 = m.0; c.h1 = m.1; c.h2 = m.2; c.h3 = m.3; c.h4 = m.4
        c.Nl = 512
        return c
    }

    /// A key taking turns in `contexts`, which every operation must be given (not retained).
    init(key: [UInt8], authKey: [UInt8]?, contexts: SRTPCipherContexts) {
        precondition(key.count == 16)
        var k: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &k) { $0.copyBytes(from: key) }
        self.key = k
        keyID = contexts.newKeyID()
        hmacPads = authKey.map(Self.pads) ?? ((0, 0, 0, 0, 0), (0, 0, 0, 0, 0))
    }

    /// Starts an operation on `context` with `iv`, setting our key first when `holder` (the key
    /// the context holds) is another's.
    @inline(__always)
    private func begin(_ context: OpaquePointer, iv: UnsafePointer<UInt8>, encrypt: Bool, holder: inout UInt64) {
        if holder == keyID {
            precondition((encrypt ? EVP_EncryptInit_ex(context, nil, nil, nil, iv) : EVP_DecryptInit_ex(context, nil, nil, nil, iv)) == 1)
        } else {
            withUnsafeBytes(of: key) { k in
                let p = k.baseAddress!.assumingMemoryBound(to: UInt8.self)
                precondition((encrypt ? EVP_EncryptInit_ex(context, nil, nil, p, iv) : EVP_DecryptInit_ex(context, nil, nil, p, iv)) == 1)
            }
            holder = keyID
        }
    }

    /// RFC 2104 §2: a key longer than the 64-byte block is hashed first; then K is zero-padded,
    /// XORed with 0x36 (inner) and 0x5C (outer), and each pad absorbed into a SHA-1 state.
    static func pads(_ key: [UInt8]) -> (inner: Midstate, outer: Midstate) {
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
        precondition(inner.num == 0 && outer.num == 0 && inner.Nl == 512 && inner.Nh == 0)  // what `resume` rebuilds
        return ((inner.h0, inner.h1, inner.h2, inner.h3, inner.h4), (outer.h0, outer.h1, outer.h2, outer.h3, outer.h4))
    }

    /// XORs `data` in place with the AES-CTR keystream starting at counter block `iv` (16 bytes).
    @inline(__always)
    func ctrXOR(iv: UnsafePointer<UInt8>, _ data: UnsafeMutableRawBufferPointer, in contexts: SRTPCipherContexts) {
        guard data.count > 0 else { return }
        var outLength: Int32 = 0
        let ctr = contexts.ctr
        begin(ctr, iv: iv, encrypt: true, holder: &contexts.ctrKey)
        let p = data.baseAddress!.assumingMemoryBound(to: UInt8.self)
        precondition(EVP_EncryptUpdate(ctr, p, &outLength, p, Int32(data.count)) == 1)
    }

    /// HMAC-SHA1 over `a` then `b`, first `tagLength` bytes written to `tag` (a key made with
    /// an auth key only).
    @inline(__always)
    func hmacSHA1(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, tag: UnsafeMutablePointer<UInt8>, tagLength: Int) {
        var inner = Self.resume(hmacPads.inner)
        if a.count > 0 { SHA1_Update(&inner, a.baseAddress, a.count) }
        if b.count > 0 { SHA1_Update(&inner, b.baseAddress, b.count) }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digest in
            SHA1_Final(digest.baseAddress, &inner)
            var outer = Self.resume(hmacPads.outer)
            SHA1_Update(&outer, digest.baseAddress, 20)
            SHA1_Final(digest.baseAddress, &outer)
            tag.update(from: digest.baseAddress!, count: tagLength)
        }
    }

    /// AES-GCM seal in place: `plaintext` becomes ciphertext and the 16-byte tag goes to `tag`.
    @inline(__always)
    func gcmSeal(iv: UnsafePointer<UInt8>, aad: UnsafeRawBufferPointer, _ aad2: UnsafeRawBufferPointer, _ plaintext: UnsafeMutableRawBufferPointer,
                 tag: UnsafeMutablePointer<UInt8>, in contexts: SRTPCipherContexts) {
        var n: Int32 = 0
        let gcmEncrypt = contexts.seal
        begin(gcmEncrypt, iv: iv, encrypt: true, holder: &contexts.sealKey)
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
    func gcmOpen(iv: UnsafePointer<UInt8>, aad: UnsafeRawBufferPointer, _ aad2: UnsafeRawBufferPointer, _ ciphertext: UnsafeMutableRawBufferPointer,
                 tag: UnsafePointer<UInt8>, in contexts: SRTPCipherContexts) -> Bool {
        var n: Int32 = 0
        let gcmDecrypt = contexts.open
        begin(gcmDecrypt, iv: iv, encrypt: false, holder: &contexts.openKey)
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
        let contexts = SRTPCipherContexts()
        withExtendedLifetime(contexts) {
            let cipher = SRTPCipher(key: masterKey, authKey: nil, contexts: contexts)
            iv.withUnsafeBufferPointer { ivp in out.withUnsafeMutableBytes { cipher.ctrXOR(iv: ivp.baseAddress!, $0, in: contexts) } }
        }
        return out
    }
}
