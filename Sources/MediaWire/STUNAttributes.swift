/// STUN attribute registry entries that ICE uses (RFC 8489 §18.3, RFC 8445 §16.1) and typed
/// accessors over a message's attribute list.
public enum STUNAttributeType {
    public static let mappedAddress: UInt16 = 0x0001
    public static let username: UInt16 = 0x0006
    public static let messageIntegrity: UInt16 = 0x0008
    public static let errorCode: UInt16 = 0x0009
    public static let unknownAttributes: UInt16 = 0x000A
    public static let realm: UInt16 = 0x0014
    public static let nonce: UInt16 = 0x0015
    public static let messageIntegritySHA256: UInt16 = 0x001C
    public static let passwordAlgorithm: UInt16 = 0x001D
    public static let userhash: UInt16 = 0x001E
    public static let xorMappedAddress: UInt16 = 0x0020
    public static let priority: UInt16 = 0x0024
    public static let useCandidate: UInt16 = 0x0025
    public static let passwordAlgorithms: UInt16 = 0x8002
    public static let alternateDomain: UInt16 = 0x8003
    public static let software: UInt16 = 0x8022
    public static let alternateServer: UInt16 = 0x8023
    public static let fingerprint: UInt16 = 0x8028
    public static let iceControlled: UInt16 = 0x8029
    public static let iceControlling: UInt16 = 0x802A

    /// Comprehension-required types this implementation understands (RFC 8489 §14).
    public static let comprehensionRequiredKnown: Set<UInt16> = [
        mappedAddress, username, messageIntegrity, errorCode, unknownAttributes, realm, nonce,
        messageIntegritySHA256, passwordAlgorithm, userhash, xorMappedAddress, priority, useCandidate,
    ]
}

public struct STUNAttribute: Equatable, Sendable {
    public var type: UInt16
    public var value: [UInt8]
    public init(type: UInt16, value: [UInt8]) {
        self.type = type
        self.value = value
    }

    public static func username(_ name: String) -> STUNAttribute { .init(type: STUNAttributeType.username, value: Array(name.utf8)) }
    public static func software(_ name: String) -> STUNAttribute { .init(type: STUNAttributeType.software, value: Array(name.utf8)) }
    public static func priority(_ p: UInt32) -> STUNAttribute { .init(type: STUNAttributeType.priority, value: bigEndianBytes(p)) }
    public static let useCandidate = STUNAttribute(type: STUNAttributeType.useCandidate, value: [])
    public static func iceControlling(_ tieBreaker: UInt64) -> STUNAttribute {
        .init(type: STUNAttributeType.iceControlling, value: bigEndianBytes(tieBreaker))
    }
    public static func iceControlled(_ tieBreaker: UInt64) -> STUNAttribute {
        .init(type: STUNAttributeType.iceControlled, value: bigEndianBytes(tieBreaker))
    }

    /// ERROR-CODE (RFC 8489 §14.8): class (hundreds) and number, then a UTF-8 reason phrase.
    public static func errorCode(_ code: Int, reason: String) -> STUNAttribute {
        precondition((300...699).contains(code))
        var v: [UInt8] = [0, 0, UInt8(code / 100), UInt8(code % 100)]
        v.append(contentsOf: reason.utf8.prefix(763))
        return .init(type: STUNAttributeType.errorCode, value: v)
    }

    /// UNKNOWN-ATTRIBUTES (RFC 8489 §14.9).
    public static func unknownAttributes(_ types: [UInt16]) -> STUNAttribute {
        .init(type: STUNAttributeType.unknownAttributes, value: types.flatMap { bigEndianBytes($0) })
    }

    /// XOR-MAPPED-ADDRESS (RFC 8489 §14.2): port XOR the cookie's top 16 bits; IPv4 XOR the
    /// cookie; IPv6 XOR the cookie followed by the transaction ID.
    public static func xorMappedAddress(_ address: TransportAddress, transactionID: STUNTransactionID) -> STUNAttribute {
        .init(type: STUNAttributeType.xorMappedAddress, value: xorAddressValue(address, transactionID: transactionID))
    }

    static func xorAddressValue(_ address: TransportAddress, transactionID: STUNTransactionID) -> [UInt8] {
        let port = address.port ^ UInt16(STUNMessage.magicCookie >> 16)
        switch address.ip {
        case .v4(let a):
            return [0, 0x01] + bigEndianBytes(port) + bigEndianBytes(a ^ STUNMessage.magicCookie)
        case .v6(let hi, let lo):
            let t = transactionID.words
            let maskHi = UInt64(STUNMessage.magicCookie) << 32 | UInt64(t.0)
            let maskLo = UInt64(t.1) << 32 | UInt64(t.2)
            return [0, 0x02] + bigEndianBytes(port) + bigEndianBytes(hi ^ maskHi) + bigEndianBytes(lo ^ maskLo)
        }
    }
}

func bigEndianBytes<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
    (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: v >> (T.bitWidth - 8 - 8 * $0)) }
}

extension STUNMessage {
    /// The value of the first attribute of `type`.
    public func attribute(_ type: UInt16) -> [UInt8]? { attributes.first { $0.type == type }?.value }

    /// USERNAME as UTF-8 text (nil when absent or not valid UTF-8).
    public var username: String? {
        guard let v = attribute(STUNAttributeType.username) else { return nil }
        return String(validating: v, as: UTF8.self)
    }

    public var priority: UInt32? {
        guard let v = attribute(STUNAttributeType.priority), v.count == 4 else { return nil }
        return v.withUnsafeBytes { $0.readU32(0) }
    }

    public var useCandidate: Bool { attribute(STUNAttributeType.useCandidate) != nil }

    public var iceControlling: UInt64? { tieBreaker(STUNAttributeType.iceControlling) }
    public var iceControlled: UInt64? { tieBreaker(STUNAttributeType.iceControlled) }

    private func tieBreaker(_ type: UInt16) -> UInt64? {
        guard let v = attribute(type), v.count == 8 else { return nil }
        return v.withUnsafeBytes { UInt64($0.readU32(0)) << 32 | UInt64($0.readU32(4)) }
    }

    /// ERROR-CODE as (code, reason); nil when absent or malformed.
    public var errorCode: (code: Int, reason: String)? {
        guard let v = attribute(STUNAttributeType.errorCode), v.count >= 4 else { return nil }
        let hundreds = Int(v[2] & 0x07), number = Int(v[3])
        guard (3...6).contains(hundreds), number < 100 else { return nil }
        return (hundreds * 100 + number, String(decoding: v[4...], as: UTF8.self))
    }

    /// XOR-MAPPED-ADDRESS decoded; nil when absent or malformed.
    public var xorMappedAddress: TransportAddress? {
        guard let v = attribute(STUNAttributeType.xorMappedAddress), v.count >= 8 else { return nil }
        return v.withUnsafeBytes { b -> TransportAddress? in
            let port = b.readU16(2) ^ UInt16(STUNMessage.magicCookie >> 16)
            switch b[1] {
            case 0x01 where b.count == 8:
                return TransportAddress(ip: .v4(b.readU32(4) ^ STUNMessage.magicCookie), port: port)
            case 0x02 where b.count == 20:
                let t = transactionID.words
                let hi = (UInt64(b.readU32(4)) << 32 | UInt64(b.readU32(8))) ^ (UInt64(STUNMessage.magicCookie) << 32 | UInt64(t.0))
                let lo = (UInt64(b.readU32(12)) << 32 | UInt64(b.readU32(16))) ^ (UInt64(t.1) << 32 | UInt64(t.2))
                return TransportAddress(ip: .v6(hi, lo), port: port)
            default:
                return nil
            }
        }
    }
}
