import COpenSSL

/// One DTLS 1.2 association for DTLS-SRTP (RFC 5764, RFC 8842 roles), over OpenSSL memory BIOs:
/// no socket inside OpenSSL. A state machine: feed it datagrams and the time, get back datagrams
/// to send and events. Retransmission is driven by `tick(now:)` and `nextTimeout`.
///
/// After the handshake the peer certificate's SHA-256 must equal the `a=fingerprint` from its SDP
/// (RFC 8122 §5), compared in constant time; otherwise the transport fails and no keys come out.
///
/// @unchecked Sendable: owned by one media worker thread.
public final class DTLSTransport: @unchecked Sendable {
    public enum Role: Sendable { case client, server }

    public enum State: Equatable, Sendable { case handshaking, connected, failed(String), closed }

    /// SRTP master keys from the handshake (RFC 5764 §4.2): protect outbound packets with
    /// `local*`, unprotect inbound ones with `remote*`.
    public struct SRTPKeys: Equatable, Sendable {
        public var profile: SRTPProfile
        public var localKey: [UInt8]
        public var localSalt: [UInt8]
        public var remoteKey: [UInt8]
        public var remoteSalt: [UInt8]

        public init(profile: SRTPProfile, localKey: [UInt8], localSalt: [UInt8], remoteKey: [UInt8], remoteSalt: [UInt8]) {
            self.profile = profile
            self.localKey = localKey
            self.localSalt = localSalt
            self.remoteKey = remoteKey
            self.remoteSalt = remoteSalt
        }
    }

    public enum Event: Equatable, Sendable {
        case send([UInt8])
        case connected(SRTPKeys)
        case failed(String)
        case closed
    }

    public let role: Role
    public private(set) var state: State = .handshaking
    /// When `tick` must next be called (monotonic ns), while handshaking.
    public private(set) var nextTimeout: UInt64? = nil
    /// Nil once released (`releaseAssociation`); the BIOs belong to it.
    private var ssl: OpaquePointer?
    private let readBIO: OpaquePointer
    private let writeBIO: OpaquePointer
    /// Checked once, at the handshake's end; dropped with the association (a chunk per viewer).
    private var remoteFingerprint: [UInt8]
    private let mtu: Int
    private var started = false
    /// The datagrams of our last flight (a server's ChangeCipherSpec and Finished), kept after the
    /// association is released: a peer that lost them retransmits its own last flight (RFC 6347
    /// §4.2.4), and we answer by sending these again, as OpenSSL would have.
    private var finalFlight: [[UInt8]] = []
    /// Replays left: a peer gets our final flight again a bounded number of times.
    private var replaysLeft = 8

    /// `remoteFingerprint` is the SHA-256 digest from the peer's `a=fingerprint:sha-256`.
    public init(context: DTLSContext, role: Role, remoteFingerprint: [UInt8], mtu: Int = 1200) {
        self.role = role
        self.remoteFingerprint = remoteFingerprint
        self.mtu = mtu
        let ssl = SSL_new(context.ctx)!
        self.ssl = ssl
        readBIO = BIO_new(BIO_s_mem())!
        writeBIO = BIO_new(BIO_s_mem())!
        _ = shihui_BIO_set_mem_eof_return(readBIO, -1)  // an empty read BIO means "want read", not EOF
        SSL_set_bio(ssl, readBIO, writeBIO)
        _ = shihui_DTLS_set_link_mtu(ssl, mtu)
        _ = shihui_SSL_set_mtu(ssl, mtu - 28)
        // Retransmit after 250 ms, doubling to at most 4 s (OpenSSL's default starts at 1 s).
        DTLS_set_timer_cb(ssl) { _, previous in previous == 0 ? 250_000 : min(previous * 2, 4_000_000) }
        if role == .client { SSL_set_connect_state(ssl) } else { SSL_set_accept_state(ssl) }
    }

    deinit { if let ssl { SSL_free(ssl) } }  // frees both BIOs

    /// The (EC)DHE group the handshake agreed on, as OpenSSL names it ("X25519", "prime256v1"),
    /// while the association is held (nil before the key exchange and after the release).
    public var negotiatedGroup: String? {
        guard let ssl else { return nil }
        let nid = shihui_SSL_get_negotiated_group(ssl)
        guard nid > 0, let name = OBJ_nid2sn(nid) else { return nil }
        return String(cString: name)
    }

    /// Whether the OpenSSL association was released after the handshake.
    public var isReleased: Bool { ssl == nil }

    /// Frees the OpenSSL association of a connected transport (≈ 50 KiB: record buffers, session,
    /// peer certificate), keeping the exported SRTP keys elsewhere and our final flight. From
    /// then on DTLS records are not decrypted: a handshake record (a peer retransmitting because
    /// it lost our final flight) is answered with that flight again (at most 8 times), anything
    /// else is ignored, so a close_notify is no longer noticed (consent freshness and RTCP BYE
    /// still end the transport).
    public func releaseAssociation() {
        guard state == .connected, let ssl else { return }
        SSL_free(ssl)
        self.ssl = nil
        nextTimeout = nil
        remoteFingerprint = []
    }

    /// Drops the kept final flight (once the peer has been quiet long enough to have
    /// retransmitted if it needed to).
    public func forgetFinalFlight() { finalFlight = [] }

    /// Whether a released association still holds its final flight.
    public var holdsFinalFlight: Bool { !finalFlight.isEmpty }

    /// Starts the handshake (the client sends its ClientHello; the server waits).
    public func start(now: UInt64) -> [Event] {
        guard !started else { return [] }
        started = true
        return pump(now: now)
    }

    /// A DTLS datagram (RFC 7983 first byte 20–63) from the peer.
    public func receive(_ datagram: UnsafeRawBufferPointer, now: UInt64) -> [Event] {
        guard state == .handshaking || state == .connected, datagram.count > 0 else { return [] }
        guard ssl != nil else {
            // Released: content type 22 (handshake, RFC 6347 §4.1) means the peer lost our last flight.
            guard datagram[0] == 22, replaysLeft > 0, !finalFlight.isEmpty else { return [] }
            replaysLeft -= 1
            return finalFlight.map { .send($0) }
        }
        started = true
        _ = BIO_write(readBIO, datagram.baseAddress, Int32(datagram.count))
        return pump(now: now)
    }

    public func receive(_ datagram: [UInt8], now: UInt64) -> [Event] { datagram.withUnsafeBytes { receive($0, now: now) } }

    /// Retransmits a lost flight when its timer expired.
    public func tick(now: UInt64) -> [Event] {
        guard state == .handshaking, let ssl, let deadline = nextTimeout, now >= deadline else { return [] }
        // OpenSSL checks its own clock; if it disagrees (manual clocks in tests), just re-arm.
        _ = shihui_DTLSv1_handle_timeout(ssl)
        let events = flush()
        armTimer(now: now)
        if nextTimeout == deadline { nextTimeout = now + 50_000_000 }
        return events
    }

    /// Sends close_notify and closes.
    public func close() -> [Event] {
        guard state == .connected || state == .handshaking else { return [] }
        state = .closed
        guard let ssl else { return [.closed] }
        SSL_shutdown(ssl)
        nextTimeout = nil
        return flush() + [.closed]
    }

    private func pump(now: UInt64) -> [Event] {
        guard let ssl else { return [] }
        var events: [Event] = []
        if state == .handshaking {
            let r = SSL_do_handshake(ssl)
            if r == 1 {
                let flight = flush()
                finalFlight = flight.compactMap { if case .send(let d) = $0 { d } else { nil } }
                events += flight
                events.append(finishHandshake())
                return events
            }
            let error = SSL_get_error(ssl, r)
            events += flush()
            if error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE {
                return events + fail("DTLS handshake failed: \(Self.openSSLError())")
            }
            armTimer(now: now)
        } else if state == .connected {
            // No application data is expected on DTLS-SRTP without data channels: drain records
            // (retransmitted handshake messages are answered by OpenSSL) and notice close_notify.
            var scratch = [UInt8](repeating: 0, count: 2048)
            while true {
                let n = scratch.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
                if n > 0 { continue }
                let error = SSL_get_error(ssl, n)
                if error == SSL_ERROR_ZERO_RETURN {
                    state = .closed
                    events += flush()
                    events.append(.closed)
                    return events
                }
                break
            }
            events += flush()
        }
        return events
    }

    private func finishHandshake() -> Event {
        guard let peer = SSL_get1_peer_certificate(ssl) else { return fail("peer sent no certificate")[0] }
        defer { X509_free(peer) }
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        guard X509_digest(peer, EVP_sha256(), &digest, &length) == 1,
              ConstantTime.equal(digest, remoteFingerprint) else {
            return fail("peer certificate does not match the SDP fingerprint")[0]
        }
        guard let selected = SSL_get_selected_srtp_profile(ssl), let profile = SRTPProfile(dtlsValue: UInt16(selected.pointee.id)) else {
            return fail("no SRTP profile negotiated")[0]
        }
        let keyLength = profile.masterKeyLength, saltLength = profile.masterSaltLength
        var material = [UInt8](repeating: 0, count: 2 * (keyLength + saltLength))
        let label = "EXTRACTOR-dtls_srtp"
        guard SSL_export_keying_material(ssl, &material, material.count, label, label.utf8.count, nil, 0, 0) == 1 else {
            return fail("keying material export failed")[0]
        }
        // RFC 5764 §4.2: client key | server key | client salt | server salt.
        let clientKey = Array(material[0..<keyLength]), serverKey = Array(material[keyLength..<(2 * keyLength)])
        let clientSalt = Array(material[(2 * keyLength)..<(2 * keyLength + saltLength)])
        let serverSalt = Array(material[(2 * keyLength + saltLength)...])
        state = .connected
        nextTimeout = nil
        return .connected(role == .client
            ? SRTPKeys(profile: profile, localKey: clientKey, localSalt: clientSalt, remoteKey: serverKey, remoteSalt: serverSalt)
            : SRTPKeys(profile: profile, localKey: serverKey, localSalt: serverSalt, remoteKey: clientKey, remoteSalt: clientSalt))
    }

    private func fail(_ reason: String) -> [Event] {
        state = .failed(reason)
        nextTimeout = nil
        return [.failed(reason)]
    }

    private func armTimer(now: UInt64) {
        var microseconds: Int64 = 0
        if shihui_DTLSv1_get_timeout_us(ssl, &microseconds) == 1 {
            nextTimeout = now + UInt64(max(microseconds, 0)) * 1000
        } else {
            nextTimeout = nil
        }
    }

    /// Everything OpenSSL wrote, split at record boundaries and packed into datagrams ≤ MTU.
    private func flush() -> [Event] {
        let pending = Int(shihui_BIO_pending(writeBIO))
        guard pending > 0 else { return [] }
        var stream = [UInt8](repeating: 0, count: pending)
        let n = stream.withUnsafeMutableBytes { BIO_read(writeBIO, $0.baseAddress, Int32(pending)) }
        guard n > 0 else { return [] }
        return Self.packRecords(Array(stream[..<Int(n)]), mtu: mtu).map { .send($0) }
    }

    /// Splits a stream of DTLS records (13-byte header: type, version, epoch, sequence, length;
    /// RFC 6347 §4.1) and packs consecutive records into datagrams of at most `mtu` bytes.
    static func packRecords(_ stream: [UInt8], mtu: Int) -> [[UInt8]] {
        var datagrams: [[UInt8]] = []
        var current: [UInt8] = []
        var i = 0
        while i + 13 <= stream.count {
            let length = Int(stream[i + 11]) << 8 | Int(stream[i + 12])
            let end = min(i + 13 + length, stream.count)
            if !current.isEmpty && current.count + (end - i) > mtu {
                datagrams.append(current)
                current = []
            }
            current += stream[i..<end]
            i = end
        }
        if !current.isEmpty { datagrams.append(current) }
        return datagrams
    }

    static func openSSLError() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return "unknown" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        while ERR_get_error() != 0 {}
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
