import Testing
import TestSupport
@testable import MediaCrypto

/// SRTP and SRTCP against RFC 3711 Appendix B and RFC 7714 §16–17, byte for byte, plus replay,
/// tampering and rollover behaviour.
struct SRTPTests {
    /// RFC3711AppendixB3: session keys derived from the master key and salt.
    @Test func rfc3711KeyDerivation() {
        let key = hex("E1F97A0D3E018BE0D64FA32C06DE4139"), salt = hex("0EC675AD498AFEEBB6960B3AABE6")
        #expect(SRTPKeyDerivation.derive(masterKey: key, masterSalt: salt, label: .rtpEncryption, length: 16) == hex("C61E7A93744F39EE10734AFE3FF7A087"))
        #expect(SRTPKeyDerivation.derive(masterKey: key, masterSalt: salt, label: .rtpSalt, length: 14) == hex("30CBBC08863D8C85D49DB34A9AE1"))
        #expect(SRTPKeyDerivation.derive(masterKey: key, masterSalt: salt, label: .rtpAuthentication, length: 94) == hex("""
            CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE E049646C43D9327AD175578EF7227098
            6371C10C9A369AC2F94A8C5FBCDDDC25 6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2
            """))
    }

    /// RFC3711AppendixB2: the AES-CM keystream for session key 2B7E...3C, salt F0F1...FD, SSRC 0, index 0.
    @Test func rfc3711KeystreamSegments() {
        let contexts = SRTPCipherContexts()
        let cipher = SRTPCipher(key: hex("2B7E151628AED2A6ABF7158809CF4F3C"), authKey: nil, contexts: contexts)
        var stream = [UInt8](repeating: 0, count: 16 * 0x10002)
        let iv = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000")
        withExtendedLifetime(contexts) {
            iv.withUnsafeBufferPointer { ivp in stream.withUnsafeMutableBytes { cipher.ctrXOR(iv: ivp.baseAddress!, $0, in: contexts) } }
        }
        func block(_ n: Int) -> [UInt8] { Array(stream[(n * 16)..<(n * 16 + 16)]) }
        #expect(block(0) == hex("E03EAD0935C95E80E166B16DD92B4EB4"))
        #expect(block(1) == hex("D23513162B02D0F72A43A2FE4A5F97AB"))
        #expect(block(2) == hex("41E95B3BB0A2E8DD477901E4FCA894C0"))
        #expect(block(0xFEFF) == hex("EC8CDF7398607CB0F2D21675EA9EA1E4"))
        #expect(block(0xFF00) == hex("362B7C3C6773516318A077D7FC5073AE"))
        #expect(block(0xFF01) == hex("6A2CC3787889374FBEB4C81B17BA6C44"))
    }

    static let gcmKey = hex("000102030405060708090a0b0c0d0e0f")
    static let gcmSalt = hex("517569642070726f2071756f")
    static let rtpPlain = hex("8040f17b8041f8d35501a0b2") + Array("Gallia est omnis divisa in partes tres".utf8)
    static let rtpProtected = hex("""
        8040f17b8041f8d35501a0b2
        f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833
        899d7f27beb16a9152cf765ee4390cce
        """)
    static let rtcpPlain = hex("81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef")
    static let rtcpProtected = hex("""
        81c8000d4d617273
        63e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b4686303ded0bb9275b
        c84aa45896cf4d2fc5abf87245d9eade
        800005d4
        """)
    static let rtcpTagOnly = hex("81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef841dd9683dd78ec92ae58790125f62b3000005d4")

    static func gcm() -> SRTPContext { SRTPContext(profile: .aeadAes128Gcm, sessionKey: gcmKey, sessionSalt: gcmSalt) }

    /// RFC7714Section16_1_1 / 16_1_2: SRTP AEAD_AES_128_GCM protect and unprotect byte for byte.
    @Test func rfc7714SRTP() throws {
        var buffer = Self.rtpPlain + [UInt8](repeating: 0, count: 16)
        let n = try buffer.withUnsafeMutableBytes { try Self.gcm().protectRTP($0, length: Self.rtpPlain.count) }
        #expect(Array(buffer[..<n]) == Self.rtpProtected)
        var back = Self.rtpProtected
        let m = try back.withUnsafeMutableBytes { try Self.gcm().unprotectRTP($0, length: Self.rtpProtected.count) }
        #expect(Array(back[..<m]) == Self.rtpPlain)
    }

    /// RFC7714Section17_1: SRTCP AEAD_AES_128_GCM unprotect, and protect at index 0x5d4.
    @Test func rfc7714SRTCP() throws {
        var back = Self.rtcpProtected
        let m = try back.withUnsafeMutableBytes { try Self.gcm().unprotectRTCP($0, length: Self.rtcpProtected.count) }
        #expect(Array(back[..<m]) == Self.rtcpPlain)
        let sender = Self.gcm()
        var out: [UInt8] = []
        for _ in 0...0x5d4 {
            var buffer = Self.rtcpPlain + [UInt8](repeating: 0, count: 20)
            let n = try buffer.withUnsafeMutableBytes { try sender.protectRTCP($0, length: Self.rtcpPlain.count) }
            out = Array(buffer[..<n])
        }
        #expect(out == Self.rtcpProtected)
    }

    /// RFC7714Section17_3: E = 0, the packet is authenticated but not encrypted.
    @Test func rfc7714SRTCPTagOnly() throws {
        var b = Self.rtcpTagOnly
        let m = try b.withUnsafeMutableBytes { try Self.gcm().unprotectRTCP($0, length: Self.rtcpTagOnly.count) }
        #expect(Array(b[..<m]) == Self.rtcpPlain)
    }

    static func rtp(seq: UInt16, ssrc: UInt32 = 0x1234_5678, payload: [UInt8] = Array(repeating: 0xAB, count: 40)) -> [UInt8] {
        [0x80, 0x60, UInt8(seq >> 8), UInt8(seq & 0xFF), 0, 0, 0x10, 0, UInt8(ssrc >> 24), UInt8(ssrc >> 16 & 0xFF), UInt8(ssrc >> 8 & 0xFF), UInt8(ssrc & 0xFF)] + payload
    }

    static func pair(_ profile: SRTPProfile) -> (SRTPContext, SRTPContext) {
        let key = SecureRandom.bytes(16), salt = SecureRandom.bytes(profile.masterSaltLength)
        return (SRTPContext(profile: profile, masterKey: key, masterSalt: salt), SRTPContext(profile: profile, masterKey: key, masterSalt: salt))
    }

    static func protect(_ c: SRTPContext, _ p: [UInt8]) throws -> [UInt8] {
        var b = p + [UInt8](repeating: 0, count: 16)
        let n = try b.withUnsafeMutableBytes { try c.protectRTP($0, length: p.count) }
        return Array(b[..<n])
    }

    static func unprotect(_ c: SRTPContext, _ p: [UInt8]) throws(SRTPError) -> [UInt8] {
        var b = p
        let r: Result<Int, SRTPError> = b.withUnsafeMutableBytes { x in Result { () throws(SRTPError) in try c.unprotectRTP(x, length: p.count) } }
        return Array(b[..<(try r.get())])
    }

    /// Keys taking turns in shared cipher contexts (as the router's do) produce the same bytes as
    /// keys with contexts of their own, whatever the order of use, and their peers (with their own
    /// contexts) open them; a refused packet leaves the shared contexts usable.
    @Test(arguments: [SRTPProfile.aes128CmHmacSha1_80, .aeadAes128Gcm])
    func sharedCipherContexts(profile: SRTPProfile) throws {
        let shared = SRTPCipherContexts()
        let keys = (0..<3).map { _ in (SecureRandom.bytes(16), SecureRandom.bytes(profile.masterSaltLength)) }
        let sharing = keys.map { SRTPContext(profile: profile, masterKey: $0.0, masterSalt: $0.1, sharing: shared) }
        let own = keys.map { SRTPContext(profile: profile, masterKey: $0.0, masterSalt: $0.1) }
        let peers = keys.map { SRTPContext(profile: profile, masterKey: $0.0, masterSalt: $0.1) }
        for (n, i) in [0, 1, 1, 2, 0, 2, 2, 1, 0].enumerated() {
            let packet = Self.rtp(seq: UInt16(n), payload: (0..<100).map { UInt8(($0 + n) & 0xFF) })
            let protected = try Self.protect(sharing[i], packet)
            #expect(protected == (try Self.protect(own[i], packet)))
            #expect(try Self.unprotect(peers[i], protected) == packet)
        }
        // Inbound through the shared contexts: a tampered packet is refused, the next one opens.
        let inbound = SRTPContext(profile: profile, masterKey: keys[1].0, masterSalt: keys[1].1, sharing: shared)
        let sender = SRTPContext(profile: profile, masterKey: keys[1].0, masterSalt: keys[1].1)
        var bad = try Self.protect(sender, Self.rtp(seq: 500))
        bad[20] ^= 1
        #expect(throws: SRTPError.self) { try Self.unprotect(inbound, bad) }
        _ = try Self.protect(sharing[0], Self.rtp(seq: 600))  // another key in between
        #expect(try Self.unprotect(inbound, try Self.protect(sender, Self.rtp(seq: 501))) == Self.rtp(seq: 501))
    }

    /// Both profiles: round trip across the sequence wrap (ROC 0 → 1), with reordering.
    @Test(arguments: [SRTPProfile.aes128CmHmacSha1_80, .aeadAes128Gcm])
    func rollover(profile: SRTPProfile) throws {
        let (tx, rx) = Self.pair(profile)
        let sequence: [UInt16] = (65500...65535).map { $0 } + (0...40).map { $0 }
        var sent = try sequence.map { try Self.protect(tx, Self.rtp(seq: $0)) }
        sent.swapAt(30, 40)  // reorder around the wrap
        for (i, p) in sent.enumerated() {
            let seq = i == 30 ? sequence[40] : i == 40 ? sequence[30] : sequence[i]
            #expect(try Self.unprotect(rx, p) == Self.rtp(seq: seq))
        }
        #expect(rx.streams[ssrc: 0x1234_5678]?.roc == 1)
    }

    /// A packet sent again after the sequence wrapped (a NACK retransmission of 65533 once 0…10
    /// went out) keeps its old ROC (RFC 3711 §3.3.1): the same bytes as the first time, and the
    /// receiver, which lost the original, authenticates it.
    @Test(arguments: [SRTPProfile.aes128CmHmacSha1_80, .aeadAes128Gcm])
    func lateRetransmissionAcrossTheWrap(profile: SRTPProfile) throws {
        let (tx, rx) = Self.pair(profile)
        let sequence: [UInt16] = (65530...65535).map { $0 } + (0...10).map { $0 }
        let sent = try sequence.map { try Self.protect(tx, Self.rtp(seq: $0)) }
        for (seq, p) in zip(sequence, sent) where seq != 65533 { _ = try Self.unprotect(rx, p) }
        let again = try Self.protect(tx, Self.rtp(seq: 65533))
        #expect(again == sent[3])
        #expect(try Self.unprotect(rx, again) == Self.rtp(seq: 65533))
        #expect(tx.streams[ssrc: 0x1234_5678]?.roc == 1 && rx.streams[ssrc: 0x1234_5678]?.roc == 1)
        #expect(try Self.unprotect(rx, try Self.protect(tx, Self.rtp(seq: 11))) == Self.rtp(seq: 11))
    }

    /// RFC3711Section3_3_2: a replayed packet, and one older than the 64-packet window, are refused.
    @Test(arguments: [SRTPProfile.aes128CmHmacSha1_80, .aeadAes128Gcm])
    func replay(profile: SRTPProfile) throws {
        let (tx, rx) = Self.pair(profile)
        let packets = try (0..<100).map { try Self.protect(tx, Self.rtp(seq: UInt16($0))) }
        _ = try Self.unprotect(rx, packets[0])
        #expect(throws: SRTPError.replayed) { try Self.unprotect(rx, packets[0]) }
        _ = try Self.unprotect(rx, packets[99])
        #expect(throws: SRTPError.replayed) { try Self.unprotect(rx, packets[10]) }  // 89 behind: outside the window
        _ = try Self.unprotect(rx, packets[50])                                      // 49 behind: inside
        #expect(throws: SRTPError.replayed) { try Self.unprotect(rx, packets[50]) }
    }

    /// Any flipped bit (header, payload or tag) fails authentication, and the failed packet does not
    /// advance the replay state (the genuine one is still accepted afterwards).
    @Test(arguments: [SRTPProfile.aes128CmHmacSha1_80, .aeadAes128Gcm])
    func tampering(profile: SRTPProfile) throws {
        let (tx, rx) = Self.pair(profile)
        let p = try Self.protect(tx, Self.rtp(seq: 7))
        for i in [1, 3, 12, 30, p.count - 1] {
            var bad = p
            bad[i] ^= 0x04
            #expect(throws: SRTPError.authenticationFailed) { try Self.unprotect(rx, bad) }
        }
        #expect(try Self.unprotect(rx, p) == Self.rtp(seq: 7))
        let other = Self.pair(profile).0
        #expect(throws: SRTPError.authenticationFailed) { try Self.unprotect(rx, try Self.protect(other, Self.rtp(seq: 8))) }
        #expect(throws: SRTPError.malformed) { try Self.unprotect(rx, Array(p[..<15])) }
    }

    /// SRTCP round trip for both profiles, with replay refusal.
    @Test(arguments: [SRTPProfile.aes128CmHmacSha1_80, .aeadAes128Gcm])
    func srtcpRoundTrip(profile: SRTPProfile) throws {
        let (tx, rx) = Self.pair(profile)
        let rtcp = hex("81c90007 00000001 00000002 00000000 00000000 00000000 00000000 00000000")
        var b = rtcp + [UInt8](repeating: 0, count: 20)
        let n = try b.withUnsafeMutableBytes { try tx.protectRTCP($0, length: rtcp.count) }
        #expect(n == rtcp.count + 4 + profile.tagLength && Array(b[8..<rtcp.count]) != Array(rtcp[8...]))
        var c = Array(b[..<n])
        let m = try c.withUnsafeMutableBytes { try rx.unprotectRTCP($0, length: n) }
        #expect(Array(c[..<m]) == rtcp)
        var again = Array(b[..<n])
        #expect(throws: SRTPError.replayed) { try again.withUnsafeMutableBytes { try rx.unprotectRTCP($0, length: n) } }
    }

    /// Protection needs room for the tag; it says so instead of writing past the buffer.
    @Test func capacity() {
        let (tx, _) = Self.pair(.aes128CmHmacSha1_80)
        var b = Self.rtp(seq: 1)
        #expect(throws: SRTPError.noCapacity) { try b.withUnsafeMutableBytes { try tx.protectRTP($0, length: $0.count) } }
    }

    /// Many SSRCs on one context (past the table's inline slots, into its index): each stream
    /// keeps its own replay window; beyond `maximumStreams` new SSRCs are still processed but not
    /// remembered, so a flood of SSRCs cannot grow memory.
    @Test(arguments: [SRTPProfile.aes128CmHmacSha1_80, .aeadAes128Gcm])
    func manyStreams(profile: SRTPProfile) throws {
        let (tx, rx) = Self.pair(profile)
        let ssrcs = (0..<40).map { UInt32(0x1000 + $0 * 7) }
        for round in 0..<3 {
            for ssrc in ssrcs {
                let p = try Self.protect(tx, Self.rtp(seq: UInt16(round), ssrc: ssrc))
                #expect(try Self.unprotect(rx, p) == Self.rtp(seq: UInt16(round), ssrc: ssrc))
                #expect(throws: SRTPError.replayed) { try Self.unprotect(rx, p) }
            }
        }
        #expect(rx.streams.count == 40)
        let flood = Self.pair(profile)
        for i in 0..<(SRTPContext.maximumStreams + 10) {
            let p = try Self.protect(flood.0, Self.rtp(seq: 1, ssrc: UInt32(i)))
            #expect(try Self.unprotect(flood.1, p) == Self.rtp(seq: 1, ssrc: UInt32(i)))
        }
        #expect(flood.1.streams.count == SRTPContext.maximumStreams)
    }

    /// RFC 2202 §3 HMAC-SHA1 test cases 1, 2, 3 and 6 (a key longer than the block) through
    /// SRTP's precomputed-pad HMAC, with the message split across its two inputs as SRTP splits
    /// packet and ROC.
    @Test(arguments: [
        (hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), Array("Hi There".utf8), "b617318655057264e28bc0b6fb378c8ef146be00"),
        (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
        ([UInt8](repeating: 0xAA, count: 20), [UInt8](repeating: 0xDD, count: 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3"),
        ([UInt8](repeating: 0xAA, count: 80), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8), "aa4ae5e15272d00e95705637ce8a3b55ed402112"),
    ])
    func rfc2202HMACSHA1(key: [UInt8], message: [UInt8], digest: String) {
        let contexts = SRTPCipherContexts()
        defer { withExtendedLifetime(contexts) {} }
        let cipher = SRTPCipher(key: [UInt8](repeating: 0, count: 16), authKey: key, contexts: contexts)
        for split in [0, 3, message.count] {
            var tag = [UInt8](repeating: 0, count: 20)
            message.withUnsafeBytes { m in
                cipher.hmacSHA1(UnsafeRawBufferPointer(rebasing: m[0..<split]), UnsafeRawBufferPointer(rebasing: m[split...]), tag: &tag, tagLength: 20)
            }
            #expect(tag == hex(digest), "split at \(split)")
        }
    }
}
