import MediaCrypto
import MediaWire

/// One WebRTC peer connection as a browser runs it, without sockets: a full ICE agent in the
/// controlling role with one host candidate pair (RFC 8445 §7.2.4: Binding requests with
/// USE-CANDIDATE, PRIORITY, ICE-CONTROLLING, MESSAGE-INTEGRITY and FINGERPRINT; it also answers
/// the peer's checks, which a full-ICE server such as Janus sends), the DTLS handshake in the
/// role the SDP exchange gave it, and then SRTP/SRTCP contexts from the exported keys.
///
/// `handle(datagram, now)` and `tick(now)` return the datagrams to send to `remote`.
final class ClientPeer {
    enum State: Equatable { case checking, handshaking, connected, failed(String) }

    let remote: TransportAddress
    let localUfrag: String
    let localPassword: String
    let remoteUfrag: String
    private let remoteKey: [UInt8]
    private let localKey: [UInt8]
    let dtls: DTLSTransport
    private(set) var state: State = .checking
    private(set) var inbound: SRTPContext?
    private(set) var outbound: SRTPContext?
    private var transaction = STUNTransactionID.random()
    private var nextCheckAt: UInt64 = 0
    private let tieBreaker = UInt64.random(in: 1...UInt64.max)
    /// When checking started and when DTLS completed, for join figures.
    private(set) var startedAt: UInt64 = 0
    private(set) var connectedAt: UInt64? = nil

    /// Consent freshness (RFC 7675 §5.1): a check about every 2.5 s once connected, each interval
    /// drawn from 0.8–1.2 × that (§5.1 randomises too), so that peers connected together do not
    /// check together.
    static let consentInterval: UInt64 = 2_500_000_000
    static func nextConsentInterval() -> UInt64 { UInt64.random(in: consentInterval * 4 / 5 ... consentInterval * 6 / 5) }
    static let checkRetransmit: UInt64 = 50_000_000

    /// `local` are the credentials our SDP carried; the rest comes from the peer's SDP.
    init(local: (ufrag: String, password: String), remote: TransportAddress, remoteUfrag: String, remotePassword: String,
         remoteFingerprint: [UInt8], dtlsRole: DTLSTransport.Role, context: DTLSContext) {
        self.remote = remote
        self.remoteUfrag = remoteUfrag
        localUfrag = local.ufrag
        localPassword = local.password
        remoteKey = STUNIntegrity.shortTermKey(password: remotePassword)
        localKey = STUNIntegrity.shortTermKey(password: localPassword)
        dtls = DTLSTransport(context: context, role: dtlsRole, remoteFingerprint: remoteFingerprint)
    }

    /// Random credentials: ufrag of 8 and password of 24 ice-chars (RFC 8839 §5.4).
    static func randomCredentials() -> (ufrag: String, password: String) {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        func make(_ n: Int) -> String { String(SecureRandom.bytes(n).map { alphabet[Int($0) & 63] }) }
        return (make(8), make(24))
    }

    func start(now: UInt64) -> [[UInt8]] {
        startedAt = now
        nextCheckAt = now
        return tick(now: now)
    }

    /// The connectivity check (or consent check) we send (RFC 8445 §7.2.4, §7.1.1).
    private func check() -> [UInt8] {
        transaction = STUNTransactionID.random()
        return STUNMessage(class: .request, transactionID: transaction, attributes: [
            .username("\(remoteUfrag):\(localUfrag)"),
            .priority(0x7E00_00FF),
            .iceControlling(tieBreaker),
            .useCandidate,
        ]).encoded(integrityKey: remoteKey, fingerprint: true)
    }

    func tick(now: UInt64) -> [[UInt8]] {
        var out: [[UInt8]] = []
        if case .failed = state { return [] }
        if now >= nextCheckAt {
            out.append(check())
            nextCheckAt = now &+ (state == .checking ? Self.checkRetransmit : Self.nextConsentInterval())
        }
        if state == .handshaking { out += sends(dtls.tick(now: now), now: now) }
        return out
    }

    func handle(_ datagram: UnsafeRawBufferPointer, now: UInt64) -> [[UInt8]] {
        switch PacketDemultiplexer.classify(datagram) {
        case .stun: return handleSTUN(datagram, now: now)
        case .dtls: return sends(dtls.receive(datagram, now: now), now: now)
        default: return []
        }
    }

    private func handleSTUN(_ datagram: UnsafeRawBufferPointer, now: UInt64) -> [[UInt8]] {
        guard let m = try? STUNMessage.parse(datagram) else { return [] }
        if m.messageClass == .request {
            // The peer's own check (full-ICE servers): answer it (RFC 8445 §7.3).
            guard localKey.withUnsafeBytes({ STUNIntegrity.verifyMessageIntegrity(m, raw: datagram, key: $0) }) else { return [] }
            return [STUNMessage(class: .successResponse, transactionID: m.transactionID, attributes: [
                .xorMappedAddress(remote, transactionID: m.transactionID),
            ]).encoded(integrityKey: localKey, fingerprint: true)]
        }
        guard m.messageClass == .successResponse, m.transactionID == transaction,
              remoteKey.withUnsafeBytes({ STUNIntegrity.verifyMessageIntegrity(m, raw: datagram, key: $0) }) else { return [] }
        guard state == .checking else { return [] }
        state = .handshaking
        nextCheckAt = now &+ Self.nextConsentInterval()
        return dtls.role == .client ? sends(dtls.start(now: now), now: now) : []
    }

    private func sends(_ events: [DTLSTransport.Event], now: UInt64) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for e in events {
            switch e {
            case .send(let d): out.append(d)
            case .connected(let keys):
                inbound = SRTPContext(profile: keys.profile, masterKey: keys.remoteKey, masterSalt: keys.remoteSalt)
                outbound = SRTPContext(profile: keys.profile, masterKey: keys.localKey, masterSalt: keys.localSalt)
                state = .connected
                connectedAt = now
            case .failed(let reason): state = .failed(reason)
            case .closed: state = .failed("closed")
            }
        }
        return out
    }
}
