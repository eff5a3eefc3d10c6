import MediaCrypto

/// STUN message framing (RFC 8489 §5, §14) as used by ICE (RFC 8445 §7).
///
///      0                   1                   2                   3
///      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |0 0|     STUN Message Type     |         Message Length        |
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |                         Magic Cookie                          |
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |                     Transaction ID (96 bits)                  |
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |         Type                  |            Length             |  (attributes,
///     |                         Value (variable)                ....     padded to 4)
///
/// `STUNMessage.parse` copies attribute values (STUN is control traffic, a few packets per second
/// per peer) and records where MESSAGE-INTEGRITY and FINGERPRINT start so they can be verified
/// against the raw bytes. Errors: `.truncated`, `.invalidField` (top bits, attribute order),
/// `.badMagicCookie`, `.badLength`, `.tooMany`.
public struct STUNMessage: Equatable, Sendable {
    public static let headerSize = 20
    public static let magicCookie: UInt32 = 0x2112_A442
    /// Attribute count limit per message (a 1500-byte datagram holds at most ~375 empty ones).
    public static let maximumAttributes = 64

    public var method: STUNMethod
    public var messageClass: STUNClass
    public var transactionID: STUNTransactionID
    public var attributes: [STUNAttribute]
    /// Offset of the MESSAGE-INTEGRITY attribute in the parsed bytes, if present.
    public private(set) var integrityOffset: Int? = nil
    /// Offset of the FINGERPRINT attribute in the parsed bytes, if present.
    public private(set) var fingerprintOffset: Int? = nil
    /// Comprehension-required attribute types (0x0000–0x7FFF) this implementation does not know
    /// (RFC 8489 §7.3.1: a request carrying any gets a 420 response listing them).
    public private(set) var unknownComprehensionRequired: [UInt16] = []

    public init(method: STUNMethod = .binding, class messageClass: STUNClass, transactionID: STUNTransactionID,
                attributes: [STUNAttribute] = []) {
        self.method = method
        self.messageClass = messageClass
        self.transactionID = transactionID
        self.attributes = attributes
    }

    /// Parses one STUN message that fills the whole datagram.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> STUNMessage {
        guard bytes.count >= headerSize else {
            throw WireError(.stun, .truncated(needed: headerSize, available: bytes.count), at: 0)
        }
        let type = bytes.readU16(0)
        guard type & 0xC000 == 0 else { throw WireError(.stun, .invalidField("top two bits of message type are not zero"), at: 0) }
        let length = Int(bytes.readU16(2))
        guard length % 4 == 0 else { throw WireError(.stun, .invalidField("message length not a multiple of 4"), at: 2) }
        let cookie = bytes.readU32(4)
        guard cookie == magicCookie else { throw WireError(.stun, .badMagicCookie(cookie), at: 4) }
        guard headerSize + length == bytes.count else {
            throw WireError(.stun, .badLength(declared: length, available: bytes.count - headerSize), at: 2)
        }
        var message = STUNMessage(method: STUNMethod(messageType: type), class: STUNClass(messageType: type),
                                  transactionID: STUNTransactionID(bytes, at: 8))
        var r = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[headerSize...]), format: .stun, baseOffset: headerSize)
        while !r.isAtEnd {
            let start = r.absoluteOffset
            guard message.attributes.count < maximumAttributes else {
                throw WireError(.stun, .tooMany("attributes", limit: maximumAttributes), at: start)
            }
            let attributeType = try r.u16()
            let valueLength = Int(try r.u16())
            let value = try r.copyBytes(valueLength)
            try r.skip((4 - valueLength % 4) % 4)
            // RFC 8489 §14.7: FINGERPRINT is last; §14.5: after MESSAGE-INTEGRITY only
            // MESSAGE-INTEGRITY-SHA256 and FINGERPRINT may follow (others are ignored).
            if message.fingerprintOffset != nil {
                throw WireError(.stun, .invalidField("attribute after FINGERPRINT"), at: start)
            }
            switch attributeType {
            case STUNAttributeType.messageIntegrity:
                guard valueLength == 20 else { throw WireError(.stun, .badLength(declared: valueLength, available: 20), at: start + 2) }
                if message.integrityOffset == nil { message.integrityOffset = start }
            case STUNAttributeType.fingerprint:
                guard valueLength == 4 else { throw WireError(.stun, .badLength(declared: valueLength, available: 4), at: start + 2) }
                message.fingerprintOffset = start
            default:
                if message.integrityOffset != nil && attributeType != STUNAttributeType.messageIntegritySHA256 { continue }
                if attributeType < 0x8000 && !STUNAttributeType.comprehensionRequiredKnown.contains(attributeType) {
                    message.unknownComprehensionRequired.append(attributeType)
                }
            }
            message.attributes.append(STUNAttribute(type: attributeType, value: value))
        }
        return message
    }

    public static func parse(_ bytes: [UInt8]) throws(WireError) -> STUNMessage {
        try bytes.withWireBytes { b throws(WireError) in try parse(b) }
    }

    /// Quick check (RFC 7983 and RFC 8489 §6.3) that a datagram looks like STUN: first two bits 0,
    /// magic cookie, length a multiple of 4 consistent with the datagram.
    public static func looksLikeSTUN(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= headerSize && bytes[0] & 0xC0 == 0 && bytes.readU32(4) == magicCookie
            && Int(bytes.readU16(2)) + headerSize == bytes.count && bytes.readU16(2) % 4 == 0
    }

    // MARK: Encoding

    /// Serialises the message. With `integrityKey`, appends MESSAGE-INTEGRITY (RFC 8489 §14.5);
    /// with `fingerprint`, appends FINGERPRINT (§14.7). `paddingByte` fills attribute padding
    /// (RFC 8489 lets senders choose it; RFC 5769's vectors use 0x20).
    public func encoded(integrityKey: [UInt8]? = nil, fingerprint: Bool = false, paddingByte: UInt8 = 0) -> [UInt8] {
        var size = Self.headerSize
        for a in attributes { size += 4 + (a.value.count + 3) & ~3 }
        let integrityAt = size
        if integrityKey != nil { size += 24 }
        let fingerprintAt = size
        if fingerprint { size += 8 }
        var out = [UInt8](repeating: 0, count: size)
        out.withUnsafeMutableBytes { buffer in
            var w = ByteWriter(buffer)
            w.u16(method.typeBits | messageClass.typeBits)
            w.u16(0)  // length, patched below
            w.u32(Self.magicCookie)
            transactionID.write(&w)
            for a in attributes {
                precondition(a.value.count <= 0xFFFF)
                w.u16(a.type)
                w.u16(UInt16(a.value.count))
                w.bytes(a.value)
                for _ in 0..<((4 - a.value.count % 4) % 4) { w.u8(paddingByte) }
            }
            if let key = integrityKey {
                buffer.writeU16(UInt16(integrityAt + 24 - Self.headerSize), at: 2)
                w.u16(STUNAttributeType.messageIntegrity)
                w.u16(20)
                key.withUnsafeBytes { k in
                    HMAC.authenticate(.sha1, key: k, message: UnsafeRawBufferPointer(rebasing: buffer[0..<integrityAt]),
                                      into: UnsafeMutableRawBufferPointer(rebasing: buffer[w.position..<(w.position + 20)]))
                }
                w.advance(20)
            }
            if fingerprint {
                buffer.writeU16(UInt16(fingerprintAt + 8 - Self.headerSize), at: 2)
                let crc = CRC32.checksum(UnsafeRawBufferPointer(rebasing: buffer[0..<fingerprintAt])) ^ STUNIntegrity.fingerprintXOR
                w.u16(STUNAttributeType.fingerprint)
                w.u16(4)
                w.u32(crc)
            }
            buffer.writeU16(UInt16(size - Self.headerSize), at: 2)
        }
        return out
    }
}

/// STUN method (RFC 8489 §5): 12 bits spread around the two class bits of the message type.
public struct STUNMethod: Hashable, Sendable {
    /// The method's bits within a message type, class bits zero.
    public let typeBits: UInt16
    public static let binding = STUNMethod(number: 0x001)

    public init(number: UInt16) {
        let m = number & 0x0FFF
        typeBits = (m & 0x000F) | (m & 0x0070) << 1 | (m & 0x0F80) << 2
    }

    init(messageType t: UInt16) { typeBits = t & 0x3EEF }

    /// The 12-bit method number.
    public var number: UInt16 { (typeBits & 0x000F) | (typeBits >> 1) & 0x0070 | (typeBits >> 2) & 0x0F80 }
}

/// STUN message class (RFC 8489 §5): the C1 and C0 bits of the message type.
public enum STUNClass: UInt8, Sendable {
    case request = 0, indication = 1, successResponse = 2, errorResponse = 3

    init(messageType t: UInt16) {
        self = STUNClass(rawValue: UInt8((t >> 4) & 1 | (t >> 7) & 2))!
    }

    var typeBits: UInt16 { UInt16(rawValue & 1) << 4 | UInt16(rawValue & 2) << 7 }
}

/// The 96-bit transaction ID (RFC 8489 §5), stored as three words so it hashes without allocation.
public struct STUNTransactionID: Hashable, Sendable {
    public var words: (UInt32, UInt32, UInt32)

    public init(_ a: UInt32, _ b: UInt32, _ c: UInt32) { words = (a, b, c) }

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 12)
        self = bytes.withUnsafeBytes { STUNTransactionID($0, at: 0) }
    }

    init(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        words = (bytes.readU32(offset), bytes.readU32(offset + 4), bytes.readU32(offset + 8))
    }

    public static func random() -> STUNTransactionID {
        var id = STUNTransactionID(0, 0, 0)
        withUnsafeMutableBytes(of: &id.words) { SecureRandom.fill($0) }
        return id
    }

    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 12)
        out.withUnsafeMutableBytes { var w = ByteWriter($0); write(&w) }
        return out
    }

    func write(_ w: inout ByteWriter) {
        w.u32(words.0)
        w.u32(words.1)
        w.u32(words.2)
    }

    public static func == (l: Self, r: Self) -> Bool { l.words == r.words }
    public func hash(into h: inout Hasher) {
        h.combine(words.0)
        h.combine(words.1)
        h.combine(words.2)
    }
}
