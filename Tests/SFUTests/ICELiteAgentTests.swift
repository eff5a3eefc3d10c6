import Testing
import TestSupport
import MediaWire
@testable import SFU

/// ICE-lite connectivity checks, nomination, network change and consent, with a manual clock.
struct ICELiteAgentTests {
    /// The router's minter in router-level tests, so that checks can be signed (`check`).
    static let credentials = ICECredentialMinter(key: Array("ice-key-for-tests".utf8))
    static let password = credentials.password(for: "srvU")
    static let peer = TransportAddress(ip: .loopbackV4, port: 50_000)
    static let moved = TransportAddress(ip: .loopbackV6, port: 50_002)

    static func agent() -> ICELiteAgent { ICELiteAgent(localUfrag: "srvU", remoteUfrag: "cliU") }

    /// A check signed with `password`, by default the password `credentials` mints for the
    /// ufrag in `username`.
    static func check(username: String = "srvU:cliU", password: String? = nil, useCandidate: Bool = false,
                      extra: [STUNAttribute] = [], fingerprint: Bool = true) -> (STUNTransactionID, [UInt8]) {
        let password = password ?? credentials.password(for: String(ICELiteAgent.localUfrag(fromUsername: username) ?? ""))
        let id = STUNTransactionID.random()
        var attributes: [STUNAttribute] = [.username(username), .priority(1_853_817_087), .iceControlling(42)] + extra
        if useCandidate { attributes.append(.useCandidate) }
        return (id, STUNMessage(class: .request, transactionID: id, attributes: attributes)
            .encoded(integrityKey: Array(password.utf8), fingerprint: fingerprint))
    }

    static let second: UInt64 = 1_000_000_000

    /// RFC8445Section7_3: a valid check gets a success response with integrity, fingerprint and the
    /// source as XOR-MAPPED-ADDRESS; the address becomes valid for media but is not yet selected.
    @Test func answersValidCheck() throws {
        let a = Self.agent()
        let (id, request) = Self.check()
        let events = a.handle(request, from: Self.peer, now: 0, password: Self.password)
        guard case .send(let bytes, let to) = events.first, events.count == 1 else { Issue.record("\(events)"); return }
        #expect(to == Self.peer)
        let response = try STUNMessage.parse(bytes)
        #expect(response.messageClass == .successResponse && response.transactionID == id)
        #expect(response.xorMappedAddress == Self.peer)
        #expect(STUNIntegrity.verifyMessageIntegrity(response, raw: bytes, key: Array(Self.password.utf8)))
        #expect(STUNIntegrity.verifyFingerprint(response, raw: bytes))
        #expect(a.isValidated(Self.peer) && a.selected == nil)
    }

    /// USE-CANDIDATE selects the pair; a nomination from a new address moves it (network change).
    @Test func nominationAndNetworkChange() {
        let a = Self.agent()
        #expect(a.handle(Self.check(useCandidate: true).1, from: Self.peer, now: 0, password: Self.password).contains(.selected(Self.peer)))
        #expect(!a.handle(Self.check(useCandidate: true).1, from: Self.peer, now: 1, password: Self.password).contains(.selected(Self.peer)))
        #expect(a.handle(Self.check(useCandidate: true).1, from: Self.moved, now: 2, password: Self.password).contains(.selected(Self.moved)))
        #expect(a.selected == Self.moved)
    }

    /// Wrong password, wrong ufrag, missing fingerprint, or not STUN at all: dropped without an answer.
    @Test func invalidChecksDropped() {
        let a = Self.agent()
        #expect(a.handle(Self.check(password: "wrong-password-0123456789").1, from: Self.peer, now: 0, password: Self.password).isEmpty)
        #expect(a.handle(Self.check(username: "other:cliU").1, from: Self.peer, now: 0, password: Self.password).isEmpty)
        #expect(a.handle(Self.check(username: "srvU:someoneElse").1, from: Self.peer, now: 0, password: Self.password).isEmpty)
        #expect(a.handle(Self.check(fingerprint: false).1, from: Self.peer, now: 0, password: Self.password).isEmpty)
        #expect(a.handle([0x16, 0xFE, 0xFD, 0, 0], from: Self.peer, now: 0, password: Self.password).isEmpty)
        #expect(a.droppedRequests == 5 && !a.isValidated(Self.peer))
    }

    /// RFC8489Section6_3_1_1: an unknown comprehension-required attribute gets 420 with the list.
    @Test func unknownAttribute() throws {
        let a = Self.agent()
        let events = a.handle(Self.check(extra: [STUNAttribute(type: 0x7FFE, value: [1])]).1, from: Self.peer, now: 0, password: Self.password)
        guard case .send(let bytes, _) = events.first else { Issue.record("no answer"); return }
        let response = try STUNMessage.parse(bytes)
        #expect(response.messageClass == .errorResponse && response.errorCode?.code == 420)
        #expect(response.attribute(STUNAttributeType.unknownAttributes) == [0x7F, 0xFE])
    }

    /// RFC7675Section5_1: consent expires 30 s after the last valid check from the selected address,
    /// and checks keep it alive.
    @Test func consentFreshness() {
        let a = Self.agent()
        _ = a.handle(Self.check(useCandidate: true).1, from: Self.peer, now: 0, password: Self.password)
        #expect(a.tick(now: 29 * Self.second).isEmpty)
        _ = a.handle(Self.check().1, from: Self.peer, now: 25 * Self.second, password: Self.password)
        #expect(a.tick(now: 54 * Self.second).isEmpty)
        #expect(a.tick(now: 56 * Self.second) == [.consentExpired])
        #expect(a.tick(now: 57 * Self.second).isEmpty)  // reported once
        #expect(a.handle(Self.check().1, from: Self.peer, now: 58 * Self.second, password: Self.password).isEmpty)
    }

    /// Minted credentials are ice-chars of RFC 8839 §5.4 lengths (ufrag random, password
    /// derived): the same ufrag gives the same password under one key and another under
    /// another key; USERNAME demux finds our ufrag.
    @Test func credentials() {
        let (u, p) = Self.credentials.mint()
        let iceChars = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        #expect(u.count == 10 && p.count == 24 && (u + p).allSatisfy(iceChars.contains))
        // No two ufrags of one minter are equal (its copies share the sequence).
        let copy = Self.credentials
        let many = (0..<20_000).map { i in (i % 2 == 0 ? copy : Self.credentials).mint().ufrag }
        #expect(Set(many).count == many.count && Set(many.map { $0.suffix(6) }).count == many.count)
        #expect(u != Self.credentials.mint().ufrag && p == Self.credentials.password(for: u))
        #expect(Self.credentials.withPassword(for: u) { Array($0) } == Array(p.utf8))
        #expect(ICECredentialMinter(key: [1, 2, 3]).password(for: u) != p && Self.credentials.password(for: u + "x") != p)
        // The passwords of many ufrags use the whole alphabet (every 6-bit group reaches it).
        let seen = Set((0..<200).flatMap { Self.credentials.password(for: "u\($0)") })
        #expect(seen == iceChars)
        // Pinned: computed apart with Python's hmac (HMAC-SHA256, 6-bit groups most significant first).
        #expect(Self.password == "SahOGT/fA3jUE5eZdxrk+c3Q")
        #expect(ICELiteAgent.localUfrag(fromUsername: "abcd:efgh") == "abcd")
        #expect(ICELiteAgent.localUfrag(fromUsername: "nocolon") == nil)
    }
}
