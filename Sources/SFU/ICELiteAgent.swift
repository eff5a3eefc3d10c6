import MediaCrypto
import MediaWire

/// The ICE-lite side of one peer connection (RFC 8445 §2.5; SDP attributes RFC 8839): the server
/// only has host candidates, never sends checks, and answers the peer's Binding requests. A
/// state machine: `handle(request, from, now)` and `tick(now)` return events, no sockets.
///
/// - A request is accepted only with USERNAME "<our ufrag>:<peer ufrag>", a valid
///   MESSAGE-INTEGRITY under our password, and a valid FINGERPRINT; anything else is dropped and
///   counted (no answer, so spoofed sources get nothing reflected).
/// - The success response carries XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY and FINGERPRINT.
/// - USE-CANDIDATE nominates the source address: media goes there; a later nomination from another
///   address moves the session (network change, RFC 8445 §7.3.1.5).
/// - Consent freshness (RFC 7675 §5.1): no valid check from the selected address for 30 s expires
///   the session.
/// - Role: a lite agent is always controlled (RFC 8445 §6.1.1); role attributes are not
///   contested, since the full peer must be controlling.
public final class ICELiteAgent {
    public enum Event: Equatable, Sendable {
        case send([UInt8], to: TransportAddress)
        /// The nominated address changed (first nomination or network change).
        case selected(TransportAddress)
        case consentExpired
    }

    public static let defaultConsentTimeout: UInt64 = 30_000_000_000
    /// Addresses that passed a check (media from them is accepted), bounded.
    public static let maximumValidatedAddresses = 8

    // Stored in this order so that an agent is a 128-byte chunk, not 160 (a viewer has one).
    // Our password is not stored: the router gives it with each request (ICECredentialMinter).
    public let localUfrag: String
    public var remoteUfrag: String?
    private var lastConsent: UInt64? = nil
    private var expired = false
    private var dropped: UInt32 = 0
    public private(set) var selected: TransportAddress?
    private var validatedAddresses = AddressList()
    public var validated: [TransportAddress] { Array(validatedAddresses) }
    /// Requests refused (bad USERNAME, integrity or fingerprint).
    public var droppedRequests: Int { Int(dropped) }

    public init(localUfrag: String, remoteUfrag: String? = nil) {
        self.localUfrag = localUfrag
        self.remoteUfrag = remoteUfrag
    }

    /// The local ufrag in a STUN USERNAME ("<ours>:<theirs>"), for demultiplexing new 5-tuples.
    public static func localUfrag(fromUsername username: String) -> Substring? {
        guard let colon = username.firstIndex(of: ":") else { return nil }
        return username[..<colon]
    }

    /// Whether media from `address` is acceptable (it passed a connectivity check).
    public func isValidated(_ address: TransportAddress) -> Bool { validatedAddresses.contains(address) }

    /// A STUN datagram from `address`; `password` is our password (the short-term key, RFC 8489
    /// §9.2.1) that checks must be signed with and responses are signed with.
    public func handle(_ raw: UnsafeRawBufferPointer, from address: TransportAddress, now: UInt64, password: UnsafeRawBufferPointer) -> [Event] {
        guard !expired else { return [] }
        guard let request = try? STUNMessage.parse(raw), request.method == .binding, request.messageClass == .request,
              let username = request.username, Self.localUfrag(fromUsername: username) == Substring(localUfrag),
              remoteUfrag.map({ username == "\(localUfrag):\($0)" }) ?? true,
              STUNIntegrity.verifyMessageIntegrity(request, raw: raw, key: password),
              STUNIntegrity.verifyFingerprint(request, raw: raw) else {
            dropped &+= 1
            return []
        }
        if !request.unknownComprehensionRequired.isEmpty {
            // RFC 8489 §6.3.1.1: 420 listing what we do not understand.
            let response = STUNMessage(class: .errorResponse, transactionID: request.transactionID, attributes: [
                .errorCode(420, reason: "Unknown Attribute"), .unknownAttributes(request.unknownComprehensionRequired),
            ]).encoded(integrityKey: Array(password), fingerprint: true)
            return [.send(response, to: address)]
        }
        if !validatedAddresses.contains(address) {
            if validatedAddresses.count >= Self.maximumValidatedAddresses { validatedAddresses.removeFirst() }
            validatedAddresses.append(address)
        }
        let response = STUNMessage(class: .successResponse, transactionID: request.transactionID, attributes: [
            .xorMappedAddress(address, transactionID: request.transactionID),
        ]).encoded(integrityKey: Array(password), fingerprint: true)
        var events: [Event] = [.send(response, to: address)]
        if request.useCandidate && selected != address {
            selected = address
            events.append(.selected(address))
        }
        if address == selected { lastConsent = now }
        return events
    }

    public func handle(_ raw: [UInt8], from address: TransportAddress, now: UInt64, password: String) -> [Event] {
        var password = password
        return password.withUTF8 { p in raw.withUnsafeBytes { handle($0, from: address, now: now, password: UnsafeRawBufferPointer(p)) } }
    }

    /// Treats `address` as checked and nominated (benchmarks; see `MediaRouter.connectWithoutHandshake`).
    func assumeSelected(_ address: TransportAddress) {
        if !validatedAddresses.contains(address) { validatedAddresses.append(address) }
        selected = address
    }

    /// Expires consent when the selected address has been silent for `consentTimeout` (RFC 7675:
    /// 30 s; the router passes its own, the same for all its agents).
    public func tick(now: UInt64, consentTimeout: UInt64 = ICELiteAgent.defaultConsentTimeout) -> [Event] {
        guard !expired, selected != nil, let last = lastConsent, elapsed(now, since: last) > consentTimeout else { return [] }
        expired = true
        return [.consentExpired]
    }
}
