import Testing
import TestSupport
@testable import MediaWire

/// STUN (RFC 8489) for ICE, checked against the RFC 5769 test vectors byte for byte.
struct STUNTests {
    static let shortTermPassword = "VOkJxbRl1RmTxUk/WvJxBt"
    static let transactionID = STUNTransactionID(bytes: hex("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"))

    /// RFC 5769 §2.1 sample request.
    static let request = hex("""
        00 01 00 58     // Request type and message length
        21 12 a4 42     // Magic cookie
        b7 e7 a7 01 bc 34 d6 86 fa 87 df ae  // Transaction ID
        80 22 00 10     // SOFTWARE attribute header
        53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74  // "STUN test client"
        00 24 00 04     // PRIORITY attribute header
        6e 00 01 ff     // ICE priority value
        80 29 00 08     // ICE-CONTROLLED attribute header
        93 2f f9 b1 51 26 3b 36  // tie breaker
        00 06 00 09     // USERNAME attribute header
        65 76 74 6a 3a 68 36 76 59 20 20 20  // "evtj:h6vY" and padding (3 bytes)
        00 08 00 14     // MESSAGE-INTEGRITY attribute header
        9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2  // HMAC-SHA1
        80 28 00 04     // FINGERPRINT attribute header
        e5 7a 3b cf     // CRC32 fingerprint
        """)

    /// RFC 5769 §2.2 sample IPv4 response (192.0.2.1:32853).
    static let ipv4Response = hex("""
        01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20  // SOFTWARE "test vector" + padding
        00 20 00 08 00 01 a1 47 e1 12 a6 43              // XOR-MAPPED-ADDRESS
        00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
        80 28 00 04 c0 7d 4c 96
        """)

    /// RFC 5769 §2.3 sample IPv6 response (2001:db8:1234:5678:11:2233:4455:6677 port 32853).
    static let ipv6Response = hex("""
        01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
        00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
        00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
        80 28 00 04 c8 fb 0b 4c
        """)

    /// RFC 5769 §2.4 sample request with long-term authentication.
    static let longTermRequest = hex("""
        00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
        00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00  // USERNAME "マトリックス"
        00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41  // NONCE
        00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00  // REALM "example.org"
        00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66
        """)

    /// RFC5769Section2_1: the request parses, its integrity and fingerprint verify, and encoding its
    /// attributes with the password reproduces every byte.
    @Test func rfc5769SampleRequest() throws {
        let m = try STUNMessage.parse(Self.request)
        #expect(m.method == .binding && m.messageClass == .request && m.transactionID == Self.transactionID)
        #expect(m.username == "evtj:h6vY" && m.priority == 0x6E00_01FF && m.iceControlled == 0x932F_F9B1_5126_3B36)
        #expect(m.attribute(STUNAttributeType.software) == Array("STUN test client".utf8))
        let key = STUNIntegrity.shortTermKey(password: Self.shortTermPassword)
        #expect(STUNIntegrity.verifyMessageIntegrity(m, raw: Self.request, key: key))
        #expect(!STUNIntegrity.verifyMessageIntegrity(m, raw: Self.request, key: Array("wrong".utf8)))
        #expect(STUNIntegrity.verifyFingerprint(m, raw: Self.request))
        let rebuilt = STUNMessage(class: .request, transactionID: Self.transactionID, attributes: [
            .software("STUN test client"), .priority(0x6E00_01FF), .iceControlled(0x932F_F9B1_5126_3B36), .username("evtj:h6vY"),
        ]).encoded(integrityKey: key, fingerprint: true, paddingByte: 0x20)
        #expect(rebuilt == Self.request, "\(hexString(rebuilt))")
    }

    /// RFC5769Section2_2: IPv4 XOR-MAPPED-ADDRESS decodes to 192.0.2.1:32853 and re-encodes.
    @Test func rfc5769IPv4Response() throws {
        let m = try STUNMessage.parse(Self.ipv4Response)
        let mapped = TransportAddress(ip: IPAddress("192.0.2.1")!, port: 32853)
        #expect(m.messageClass == .successResponse && m.xorMappedAddress == mapped)
        let key = STUNIntegrity.shortTermKey(password: Self.shortTermPassword)
        #expect(STUNIntegrity.verifyMessageIntegrity(m, raw: Self.ipv4Response, key: key))
        #expect(STUNIntegrity.verifyFingerprint(m, raw: Self.ipv4Response))
        let rebuilt = STUNMessage(class: .successResponse, transactionID: Self.transactionID, attributes: [
            .software("test vector"), .xorMappedAddress(mapped, transactionID: Self.transactionID),
        ]).encoded(integrityKey: key, fingerprint: true, paddingByte: 0x20)
        #expect(rebuilt == Self.ipv4Response)
    }

    /// RFC5769Section2_3: IPv6 XOR-MAPPED-ADDRESS (XORed with cookie and transaction ID).
    @Test func rfc5769IPv6Response() throws {
        let m = try STUNMessage.parse(Self.ipv6Response)
        let mapped = TransportAddress(ip: IPAddress("2001:db8:1234:5678:11:2233:4455:6677")!, port: 32853)
        #expect(m.xorMappedAddress == mapped)
        #expect(m.xorMappedAddress?.description == "[2001:db8:1234:5678:11:2233:4455:6677]:32853")
        let key = STUNIntegrity.shortTermKey(password: Self.shortTermPassword)
        #expect(STUNIntegrity.verifyMessageIntegrity(m, raw: Self.ipv6Response, key: key))
        #expect(STUNIntegrity.verifyFingerprint(m, raw: Self.ipv6Response))
        let rebuilt = STUNMessage(class: .successResponse, transactionID: Self.transactionID, attributes: [
            .software("test vector"), .xorMappedAddress(mapped, transactionID: Self.transactionID),
        ]).encoded(integrityKey: key, fingerprint: true, paddingByte: 0x20)
        #expect(rebuilt == Self.ipv6Response)
    }

    /// RFC5769Section2_4: long-term credentials; SASLprep turns "TheM\u{AA}tr\u{2168}" with a soft
    /// hyphen into "TheMatrIX"; the key MD5(user:realm:password) verifies and re-encodes the vector.
    @Test func rfc5769LongTermRequest() throws {
        let m = try STUNMessage.parse(Self.longTermRequest)
        #expect(m.username == "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}")
        #expect(m.attribute(STUNAttributeType.nonce) == Array("f//499k954d6OL34oL9FSTvy64sA".utf8))
        #expect(m.attribute(STUNAttributeType.realm) == Array("example.org".utf8))
        #expect(m.fingerprintOffset == nil)
        let password = STUNPrep.saslPrep("The\u{00AD}M\u{00AA}tr\u{2168}")
        #expect(password == "TheMatrIX")
        let key = STUNIntegrity.longTermKey(username: m.username!, realm: "example.org", password: password)
        #expect(STUNIntegrity.verifyMessageIntegrity(m, raw: Self.longTermRequest, key: key))
        let rebuilt = STUNMessage(class: .request, transactionID: m.transactionID, attributes: [
            .username(m.username!), STUNAttribute(type: STUNAttributeType.nonce, value: Array("f//499k954d6OL34oL9FSTvy64sA".utf8)),
            STUNAttribute(type: STUNAttributeType.realm, value: Array("example.org".utf8)),
        ]).encoded(integrityKey: key)
        #expect(rebuilt == Self.longTermRequest)
    }

    /// A flipped bit anywhere before MESSAGE-INTEGRITY breaks it; anywhere before FINGERPRINT breaks that.
    @Test func tamperingDetected() throws {
        let key = STUNIntegrity.shortTermKey(password: Self.shortTermPassword)
        for i in [20, 30, 47, 60, 75] {
            var b = Self.request
            b[i] ^= 0x01
            let m = try STUNMessage.parse(b)
            #expect(!STUNIntegrity.verifyMessageIntegrity(m, raw: b, key: key))
            #expect(!STUNIntegrity.verifyFingerprint(m, raw: b))
        }
    }

    /// RFC8489Section5: method and class bits interleave in the message type.
    @Test func messageTypeBits() throws {
        let id = STUNTransactionID.random()
        for cls in [STUNClass.request, .indication, .successResponse, .errorResponse] {
            for method in [STUNMethod.binding, STUNMethod(number: 0x003), STUNMethod(number: 0xFFF)] {
                let m = try STUNMessage.parse(STUNMessage(method: method, class: cls, transactionID: id).encoded(fingerprint: true))
                #expect(m.messageClass == cls && m.method == method && m.method.number == method.number)
            }
        }
        #expect(STUNMessage(class: .errorResponse, transactionID: id).encoded()[0...1] == [0x01, 0x11])
        #expect(STUNMessage(class: .successResponse, transactionID: id).encoded()[0...1] == [0x01, 0x01])
    }

    /// RFC8489Section7_3_1: unknown comprehension-required attributes are reported; optional ones are not;
    /// ERROR-CODE and UNKNOWN-ATTRIBUTES encode as §14.8 and §14.9 say.
    @Test func unknownAttributesAndErrors() throws {
        let id = STUNTransactionID.random()
        let m = try STUNMessage.parse(STUNMessage(class: .request, transactionID: id, attributes: [
            STUNAttribute(type: 0x7777, value: [1]), STUNAttribute(type: 0xC057, value: [0, 1, 0, 0]), .useCandidate,
        ]).encoded())
        #expect(m.unknownComprehensionRequired == [0x7777])
        #expect(m.useCandidate)
        let error = try STUNMessage.parse(STUNMessage(class: .errorResponse, transactionID: id, attributes: [
            .errorCode(420, reason: "Unknown Attribute"), .unknownAttributes([0x7777]),
        ]).encoded())
        #expect(error.errorCode?.code == 420 && error.errorCode?.reason == "Unknown Attribute")
        #expect(error.attribute(STUNAttributeType.unknownAttributes) == [0x77, 0x77])
    }

    /// RFC8489Section14_5: attributes after MESSAGE-INTEGRITY other than FINGERPRINT are ignored.
    @Test func attributesAfterIntegrityIgnored() throws {
        var b = STUNMessage(class: .request, transactionID: .random(), attributes: [.username("a:b")]).encoded(integrityKey: [1, 2, 3])
        b += [0x00, 0x24, 0x00, 0x04, 1, 2, 3, 4]  // PRIORITY after MESSAGE-INTEGRITY
        b[3] = UInt8(b.count - 20)
        let m = try STUNMessage.parse(b)
        #expect(m.priority == nil)
        #expect(STUNIntegrity.verifyMessageIntegrity(m, raw: b, key: [1, 2, 3]))
    }

    /// Malformed input table.
    @Test(arguments: [
        (hex("00 01 00 00 21 12 a4 42 00 00 00 00 00 00 00 00 00 00 00"), WireError(.stun, .truncated(needed: 20, available: 19), at: 0)),
        (hex("80 01 00 00 21 12 a4 42 00 00 00 00 00 00 00 00 00 00 00 00"), WireError(.stun, .invalidField("top two bits of message type are not zero"), at: 0)),
        (hex("00 01 00 02 21 12 a4 42 00 00 00 00 00 00 00 00 00 00 00 00 00 00"), WireError(.stun, .invalidField("message length not a multiple of 4"), at: 2)),
        (hex("00 01 00 00 21 12 a4 43 00 00 00 00 00 00 00 00 00 00 00 00"), WireError(.stun, .badMagicCookie(0x2112A443), at: 4)),
        (hex("00 01 00 08 21 12 a4 42 00 00 00 00 00 00 00 00 00 00 00 00 00 06 00 04"), WireError(.stun, .badLength(declared: 8, available: 4), at: 2)),
        (hex("00 01 00 04 21 12 a4 42 00 00 00 00 00 00 00 00 00 00 00 00 00 06 00 05"), WireError(.stun, .truncated(needed: 5, available: 0), at: 24)),
        (hex("00 01 00 08 21 12 a4 42 00 00 00 00 00 00 00 00 00 00 00 00 00 08 00 04 00 00 00 00"), WireError(.stun, .badLength(declared: 4, available: 20), at: 22)),
        (hex("00 01 00 0c 21 12 a4 42 00 00 00 00 00 00 00 00 00 00 00 00 80 28 00 04 00 00 00 00 00 06 00 00"),
         WireError(.stun, .invalidField("attribute after FINGERPRINT"), at: 28)),
    ])
    func malformed(bytes: [UInt8], expected: WireError) {
        #expect(throws: expected) { try STUNMessage.parse(bytes) }
    }

    /// Every strict prefix of every RFC 5769 vector is rejected (the length field must match).
    @Test func everyTruncationRejected() {
        for vector in [Self.request, Self.ipv4Response, Self.ipv6Response, Self.longTermRequest] {
            for n in 0..<vector.count {
                #expect(throws: WireError.self) { try STUNMessage.parse(Array(vector[..<n])) }
            }
        }
    }

    /// IPv4/IPv6 text forms parse and print canonically (RFC 5952).
    @Test func addressText() {
        #expect(IPAddress("127.0.0.1") == .loopbackV4)
        #expect(IPAddress("::1") == .loopbackV6)
        #expect(IPAddress("2001:0db8:0:0:1:0:0:1")?.description == "2001:db8::1:0:0:1")
        #expect(IPAddress("::ffff:192.0.2.1")?.description == "::ffff:c000:201")
        #expect(TransportAddress("[::1]:7882")?.description == "[::1]:7882")
        #expect(TransportAddress("127.0.0.1:7882")?.port == 7882)
        for bad in ["256.1.1.1", "1.2.3", "1::2::3", "12345::", "", "a.b.c.d", "1:2:3:4:5:6:7:8:9"] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
    }
}
