/// SRTP and SRTCP (RFC 3711, RFC 7714) for one direction of one DTLS-SRTP session: session keys
/// derived once, OpenSSL contexts reused, per-SSRC rollover counters and replay windows. Pure:
/// it transforms caller buffers in place and never touches a socket.
///
/// Packet layouts (RFC 3711 §3.1, §3.4; RFC 7714 §7, §9):
///
///     SRTP:  | RTP header | encrypted payload | tag (10: HMAC-SHA1-80 / 16: GCM) |
///     SRTCP: | header + sender SSRC (8) | encrypted rest | E + 31-bit index | tag (10) |   AES-CM
///            | header + sender SSRC (8) | encrypted rest | tag (16) | E + 31-bit index |   GCM
///
/// @unchecked Sendable: a context is owned by one media worker thread.
public final class SRTPContext: @unchecked Sendable {
    // Stored in this order so that the object is 258 bytes, a 272-byte malloc chunk: a viewer
    // has two (sfu-bench --layout).
    /// The OpenSSL contexts `rtp` and `rtcp` use (shared with the router's other keys, or this
    /// context's own), kept alive here: the ciphers do not hold them.
    private let contexts: SRTPCipherContexts
    private let rtp: SRTPCipher
    private let rtcp: SRTPCipher
    private let rtpSalt: Salt
    private let rtcpSalt: Salt
    public let profile: SRTPProfile
    var streams = SRTPStreamTable()
    /// Streams tracked at most (SSRCs a hostile peer can make us remember).
    public static let maximumStreams = 1024

    /// Replay window width in packets (RFC 3711 §3.3.2 requires at least 64).
    public static let replayWindow: UInt64 = 64

    /// A session salt (14 bytes for AES-CM, 12 for GCM) inline, zero-padded to 14: an array each
    /// was a heap chunk of its own, four per viewer (~250 bytes with malloc's overhead, massif).
    struct Salt {
        private let storage: (UInt64, UInt32, UInt16)

        init(_ bytes: [UInt8]) {
            precondition(bytes.count <= 14)
            var s: (UInt64, UInt32, UInt16) = (0, 0, 0)
            withUnsafeMutableBytes(of: &s) { $0.copyBytes(from: bytes) }
            storage = s
        }

        @inline(__always)
        subscript(i: Int) -> UInt8 { withUnsafeBytes(of: storage) { $0[i] } }

        /// Writes 16 bytes (the salt, then zeros) to `to`.
        @inline(__always)
        func copy(to: UnsafeMutablePointer<UInt8>) {
            withUnsafeBytes(of: storage) { UnsafeMutableRawPointer(to).copyMemory(from: $0.baseAddress!, byteCount: 14) }
            to[14] = 0
            to[15] = 0
        }
    }

    /// One SSRC's rollover and replay state. A context works one direction (it protects, or it
    /// unprotects), so the sender's and the receiver's figures share fields: 28 bytes, not 48.
    struct StreamState {
        /// RTP: the highest packet index sent or authenticated (ROC << 16 | SEQ, 48 bits),
        /// bit 63 set once a packet went through.
        private var rtpIndex: UInt64 = 0
        /// Receiver: a bitmap of the 64 indices before the highest (bit n: highest − n seen).
        var window: UInt64 = 0
        /// SRTCP receiver: the same for the 31-bit SRTCP index.
        var rtcpWindow: UInt64 = 0
        /// SRTCP: the sender's next index, or the receiver's highest with bit 31 set once one
        /// was authenticated.
        private var rtcpIndex: UInt32 = 0

        private static let startedBit: UInt64 = 1 << 63

        var started: Bool { rtpIndex & Self.startedBit != 0 }
        /// The highest 48-bit index.
        var highestIndex: UInt64 { rtpIndex & 0xFFFF_FFFF_FFFF }
        var roc: UInt32 { UInt32(truncatingIfNeeded: highestIndex >> 16) }
        var highestSequence: UInt16 { UInt16(truncatingIfNeeded: rtpIndex) }

        /// Records `index` (ROC << 16 | SEQ) as the highest, and that the stream started.
        @inline(__always)
        mutating func setHighest(_ index: UInt64) { rtpIndex = index & 0xFFFF_FFFF_FFFF | Self.startedBit }

        /// Sender: the next SRTCP index to use, advanced (31 bits, wrapping).
        @inline(__always)
        mutating func takeRTCPIndex() -> UInt32 {
            let index = rtcpIndex & 0x7FFF_FFFF
            rtcpIndex = (index &+ 1) & 0x7FFF_FFFF
            return index
        }

        /// Receiver: the highest authenticated SRTCP index, nil before the first.
        var rtcpHighest: UInt32? { rtcpIndex & 0x8000_0000 != 0 ? rtcpIndex & 0x7FFF_FFFF : nil }

        @inline(__always)
        mutating func setRTCPHighest(_ index: UInt32) { rtcpIndex = index & 0x7FFF_FFFF | 0x8000_0000 }
    }

    /// `sharing`: cipher contexts that this key takes turns in with others on the same thread
    /// (`SRTPCipherContexts`); without, the key keeps contexts of its own.
    public init(profile: SRTPProfile, masterKey: [UInt8], masterSalt: [UInt8], sharing shared: SRTPCipherContexts? = nil) {
        precondition(masterKey.count == profile.masterKeyLength && masterSalt.count == profile.masterSaltLength)
        self.profile = profile
        let saltLength = profile.masterSaltLength
        func k(_ label: SRTPKeyDerivation.Label, _ n: Int) -> [UInt8] {
            SRTPKeyDerivation.derive(masterKey: masterKey, masterSalt: masterSalt, label: label, length: n)
        }
        let auth = profile.authKeyLength
        let contexts = shared ?? SRTPCipherContexts()
        self.contexts = contexts
        rtp = SRTPCipher(key: k(.rtpEncryption, 16), authKey: auth > 0 ? k(.rtpAuthentication, auth) : nil, contexts: contexts)
        rtcp = SRTPCipher(key: k(.rtcpEncryption, 16), authKey: auth > 0 ? k(.rtcpAuthentication, auth) : nil, contexts: contexts)
        rtpSalt = Salt(k(.rtpSalt, saltLength))
        rtcpSalt = Salt(k(.rtcpSalt, saltLength))
    }

    /// For RFC 7714's vectors, which give session keys directly (no derivation).
    init(profile: SRTPProfile, sessionKey: [UInt8], sessionSalt: [UInt8], authKey: [UInt8]? = nil) {
        self.profile = profile
        let contexts = SRTPCipherContexts()
        self.contexts = contexts
        rtp = SRTPCipher(key: sessionKey, authKey: authKey, contexts: contexts)
        rtcp = SRTPCipher(key: sessionKey, authKey: authKey, contexts: contexts)
        rtpSalt = Salt(sessionSalt)
        rtcpSalt = Salt(sessionSalt)
    }

    // MARK: SRTP

    /// Encrypts and authenticates the RTP packet in `buffer[0..<length]`; `buffer.count` must leave
    /// room for the tag. Returns the protected length.
    public func protectRTP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        let headerLength = try Self.rtpHeaderLength(buffer, length: length)
        guard length + profile.tagLength <= buffer.count else { throw .noCapacity }
        let ssrc = buffer.loadBE32(8)
        let seq = buffer.loadBE16(2)
        let slot = streams.slot(of: ssrc)
        var state = slot.map { streams[slot: $0] } ?? StreamState()
        // RFC 3711 §3.3.1: the ROC counts wraps of the highest sequence sent; a packet sent
        // late (a NACK retransmission) from before the last wrap keeps the ROC it had.
        let highest = state.highestSequence
        var roc = state.roc
        var v = roc
        if state.started && seq < highest && highest &- seq > 0x8000 {
            roc &+= 1
            v = roc
        } else if state.started && seq > highest && seq &- highest > 0x8000 && roc > 0 {
            v = roc &- 1
        }
        let newest = !state.started || SequenceCompare.isNewer(seq, than: highest) ? seq : highest
        state.setHighest(UInt64(roc) << 16 | UInt64(newest))
        let index = UInt64(v) << 16 | UInt64(seq)
        storeStream(ssrc, state, at: slot)
        let payload = UnsafeMutableRawBufferPointer(rebasing: buffer[headerLength..<length])
        switch profile {
        case .aes128CmHmacSha1_80:
            withCounterIV(salt: rtpSalt, ssrc: ssrc, index: index) { rtp.ctrXOR(iv: $0, payload, in: contexts) }
            var roc = v.bigEndian
            withUnsafeBytes(of: &roc) { r in
                rtp.hmacSHA1(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<length]), r,
                             tag: (buffer.baseAddress! + length).assumingMemoryBound(to: UInt8.self), tagLength: 10)
            }
        case .aeadAes128Gcm:
            withGCMIV(salt: rtpSalt, ssrc: ssrc, value: index) { iv in
                rtp.gcmSeal(iv: iv, aad: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<headerLength]), Self.empty, payload,
                            tag: (buffer.baseAddress! + length).assumingMemoryBound(to: UInt8.self), in: contexts)
            }
        }
        return length + profile.tagLength
    }

    /// Verifies and decrypts an SRTP packet in place; returns the RTP length. Replayed packets and
    /// packets that fail authentication are refused without changing any state.
    public func unprotectRTP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        let tagLength = profile.tagLength
        guard length >= 12 + tagLength else { throw .malformed }
        let headerLength = try Self.rtpHeaderLength(buffer, length: length - tagLength)
        let ssrc = buffer.loadBE32(8)
        let seq = buffer.loadBE16(2)
        let slot = streams.slot(of: ssrc)
        var state = slot.map { streams[slot: $0] } ?? StreamState()
        // RFC 3711 §3.3.1 / Appendix A: estimate the ROC from the highest sequence seen.
        var v = state.roc
        if state.started {
            let s = state.highestSequence
            if s < 0x8000 {
                if seq > s && seq - s > 0x8000 { v = state.roc &- 1 }
            } else if s - 0x8000 > seq {
                v = state.roc &+ 1
            }
        }
        let index = UInt64(v) << 16 | UInt64(seq)
        if state.started { try Self.checkReplay(index, highest: state.highestIndex, window: state.window) }
        let end = length - tagLength
        let payload = UnsafeMutableRawBufferPointer(rebasing: buffer[headerLength..<end])
        switch profile {
        case .aes128CmHmacSha1_80:
            var ok = false
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 10) { expected in
                var roc = v.bigEndian
                withUnsafeBytes(of: &roc) { r in
                    rtp.hmacSHA1(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<end]), r, tag: expected.baseAddress!, tagLength: 10)
                }
                ok = ConstantTime.equal(UnsafeRawBufferPointer(expected), UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[end..<length]))
            }
            guard ok else { throw .authenticationFailed }
            withCounterIV(salt: rtpSalt, ssrc: ssrc, index: index) { rtp.ctrXOR(iv: $0, payload, in: contexts) }
        case .aeadAes128Gcm:
            let ok = withGCMIV(salt: rtpSalt, ssrc: ssrc, value: index) { iv in
                rtp.gcmOpen(iv: iv, aad: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<headerLength]), Self.empty, payload,
                            tag: (buffer.baseAddress! + end).assumingMemoryBound(to: UInt8.self), in: contexts)
            }
            guard ok else { throw .authenticationFailed }
        }
        // Authenticated: now update the highest index (ROC, sequence) and the replay window.
        if !state.started {
            state.setHighest(index)
            state.window = 1
        } else if index > state.highestIndex {
            let shift = index - state.highestIndex
            state.window = shift >= 64 ? 1 : (state.window << shift) | 1
            state.setHighest(index)
        } else {
            state.window |= 1 << (state.highestIndex - index)
        }
        storeStream(ssrc, state, at: slot)
        return end
    }

    // MARK: SRTCP

    /// Protects a compound RTCP packet (always encrypted: E = 1). Returns the protected length.
    public func protectRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        guard length >= 8 else { throw .malformed }
        guard length + 4 + profile.tagLength <= buffer.count else { throw .noCapacity }
        let ssrc = buffer.loadBE32(4)
        let slot = streams.slot(of: ssrc)
        var state = slot.map { streams[slot: $0] } ?? StreamState()
        let index = state.takeRTCPIndex()
        storeStream(ssrc, state, at: slot)
        let body = UnsafeMutableRawBufferPointer(rebasing: buffer[8..<length])
        let eIndex = 0x8000_0000 | index
        switch profile {
        case .aes128CmHmacSha1_80:
            withCounterIV(salt: rtcpSalt, ssrc: ssrc, index: UInt64(index)) { rtcp.ctrXOR(iv: $0, body, in: contexts) }
            buffer.storeBE32(eIndex, at: length)
            rtcp.hmacSHA1(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<(length + 4)]), UnsafeRawBufferPointer(start: nil, count: 0),
                          tag: (buffer.baseAddress! + length + 4).assumingMemoryBound(to: UInt8.self), tagLength: 10)
        case .aeadAes128Gcm:
            var trailer = eIndex.bigEndian
            withUnsafeBytes(of: &trailer) { t in
                withGCMIV(salt: rtcpSalt, ssrc: ssrc, value: UInt64(index)) { iv in
                    rtcp.gcmSeal(iv: iv, aad: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<8]), t, body,
                                 tag: (buffer.baseAddress! + length).assumingMemoryBound(to: UInt8.self), in: contexts)
                }
            }
            buffer.storeBE32(eIndex, at: length + 16)
        }
        return length + 4 + profile.tagLength
    }

    /// Verifies and (if E is set) decrypts an SRTCP packet in place; returns the RTCP length.
    public func unprotectRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        let tagLength = profile.tagLength
        guard length >= 8 + 4 + tagLength else { throw .malformed }
        let ssrc = buffer.loadBE32(4)
        let indexOffset = profile == .aeadAes128Gcm ? length - 4 : length - tagLength - 4
        let eIndex = buffer.loadBE32(indexOffset)
        let encrypted = eIndex & 0x8000_0000 != 0
        let index = eIndex & 0x7FFF_FFFF
        let slot = streams.slot(of: ssrc)
        var state = slot.map { streams[slot: $0] } ?? StreamState()
        if let highest = state.rtcpHighest { try Self.checkReplay(UInt64(index), highest: UInt64(highest), window: state.rtcpWindow) }
        let end: Int
        switch profile {
        case .aes128CmHmacSha1_80:
            end = indexOffset
            var ok = false
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 10) { expected in
                rtcp.hmacSHA1(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<(indexOffset + 4)]), UnsafeRawBufferPointer(start: nil, count: 0),
                              tag: expected.baseAddress!, tagLength: 10)
                ok = ConstantTime.equal(UnsafeRawBufferPointer(expected), UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[(indexOffset + 4)..<length]))
            }
            guard ok else { throw .authenticationFailed }
            if encrypted {
                withCounterIV(salt: rtcpSalt, ssrc: ssrc, index: UInt64(index)) { rtcp.ctrXOR(iv: $0, UnsafeMutableRawBufferPointer(rebasing: buffer[8..<end]), in: contexts) }
            }
        case .aeadAes128Gcm:
            let tagAt = length - 4 - 16
            end = tagAt
            let ok: Bool = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[indexOffset..<length]).withMemoryRebound(to: UInt8.self) { trailer in
                withGCMIV(salt: rtcpSalt, ssrc: ssrc, value: UInt64(index)) { iv in
                    if encrypted {
                        return rtcp.gcmOpen(iv: iv, aad: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<8]), UnsafeRawBufferPointer(trailer),
                                            UnsafeMutableRawBufferPointer(rebasing: buffer[8..<tagAt]), tag: (buffer.baseAddress! + tagAt).assumingMemoryBound(to: UInt8.self), in: contexts)
                    }
                    // E = 0 (RFC 7714 §9.2): everything is associated data, nothing is encrypted.
                    return rtcp.gcmOpen(iv: iv, aad: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<tagAt]), UnsafeRawBufferPointer(trailer),
                                        UnsafeMutableRawBufferPointer(start: nil, count: 0), tag: (buffer.baseAddress! + tagAt).assumingMemoryBound(to: UInt8.self), in: contexts)
                }
            }
            guard ok else { throw .authenticationFailed }
        }
        if let highest = state.rtcpHighest {
            if index > highest {
                let shift = UInt64(index - highest)
                state.rtcpWindow = shift >= 64 ? 1 : (state.rtcpWindow << shift) | 1
                state.setRTCPHighest(index)
            } else {
                state.rtcpWindow |= 1 << UInt64(highest - index)
            }
        } else {
            state.setRTCPHighest(index)
            state.rtcpWindow = 1
        }
        storeStream(ssrc, state, at: slot)
        return end
    }

    // MARK: Helpers

    private static var empty: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

    /// Writes `state` back into the slot the packet's lookup found (no second search); a new
    /// SSRC is added while there is room.
    @inline(__always)
    private func storeStream(_ ssrc: UInt32, _ state: StreamState, at slot: Int?) {
        if let i = slot ?? streams.insert(ssrc, limit: Self.maximumStreams) { streams[slot: i] = state }
    }

    /// RFC 3711 §3.3.2: refuse an index already seen or older than the window.
    @inline(__always)
    static func checkReplay(_ index: UInt64, highest: UInt64, window: UInt64) throws(SRTPError) {
        guard index <= highest else { return }
        let delta = highest - index
        if delta >= replayWindow || window & (1 << delta) != 0 { throw .replayed }
    }

    /// RTP header length (12 + CSRCs + extension), validated against `length`.
    @inline(__always)
    static func rtpHeaderLength(_ b: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        guard length >= 12, b[0] >> 6 == 2 else { throw .malformed }
        var n = 12 + 4 * Int(b[0] & 0x0F)
        if b[0] & 0x10 != 0 {
            guard length >= n + 4 else { throw .malformed }
            n += 4 + 4 * Int(b.loadBE16(n + 2))
        }
        guard n <= length else { throw .malformed }
        return n
    }

    /// AES-CM IV (RFC 3711 §4.1.1): (salt << 16) XOR (SSRC << 64) XOR (index << 16).
    @inline(__always)
    private func withCounterIV<R>(salt: Salt, ssrc: UInt32, index: UInt64, _ body: (UnsafePointer<UInt8>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { iv in
            salt.copy(to: iv.baseAddress!)  // 14 salt bytes, then the two zero bytes of the counter
            iv[4] ^= UInt8(truncatingIfNeeded: ssrc >> 24)
            iv[5] ^= UInt8(truncatingIfNeeded: ssrc >> 16)
            iv[6] ^= UInt8(truncatingIfNeeded: ssrc >> 8)
            iv[7] ^= UInt8(truncatingIfNeeded: ssrc)
            for i in 0..<6 { iv[8 + i] ^= UInt8(truncatingIfNeeded: index >> UInt64(40 - 8 * i)) }
            return body(UnsafePointer(iv.baseAddress!))
        }
    }

    /// GCM IV (RFC 7714 §8.1, §9.1): (0x0000 || SSRC || 48-bit value) XOR salt, 12 bytes, where the
    /// value is ROC || SEQ for SRTP and 0x0000 || 31-bit SRTCP index for SRTCP.
    @inline(__always)
    private func withGCMIV<R>(salt: Salt, ssrc: UInt32, value: UInt64, _ body: (UnsafePointer<UInt8>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 12) { iv in
            iv[0] = salt[0]
            iv[1] = salt[1]
            for i in 0..<4 { iv[2 + i] = salt[2 + i] ^ UInt8(truncatingIfNeeded: ssrc >> UInt32(24 - 8 * i)) }
            for i in 0..<6 { iv[6 + i] = salt[6 + i] ^ UInt8(truncatingIfNeeded: value >> UInt64(40 - 8 * i)) }
            return body(UnsafePointer(iv.baseAddress!))
        }
    }
}

enum SequenceCompare {
    @inline(__always)
    static func isNewer(_ a: UInt16, than b: UInt16) -> Bool { let d = a &- b; return d != 0 && d < 0x8000 }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always) func loadBE16(_ o: Int) -> UInt16 { UInt16(bigEndian: loadUnaligned(fromByteOffset: o, as: UInt16.self)) }
    @inline(__always) func loadBE32(_ o: Int) -> UInt32 { UInt32(bigEndian: loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
    @inline(__always) func storeBE32(_ v: UInt32, at o: Int) { storeBytes(of: v.bigEndian, toByteOffset: o, as: UInt32.self) }
}
