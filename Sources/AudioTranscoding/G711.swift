/// ITU-T G.711 decoding (µ-law, A-law) to linear 16-bit PCM: what IP cameras send as audio.
/// Pure: 256-entry tables built once.
public enum G711: String, Sendable, CaseIterable {
    case muLaw = "PCMU"
    case aLaw = "PCMA"

    /// RFC 3551 §6 static payload types.
    public var staticPayloadType: UInt8 { self == .muLaw ? 0 : 8 }

    public func decode(_ byte: UInt8) -> Int16 { self == .muLaw ? Self.muTable[Int(byte)] : Self.aTable[Int(byte)] }

    static let muTable: [Int16] = (0..<256).map { muDecode(UInt8($0)) }
    static let aTable: [Int16] = (0..<256).map { aDecode(UInt8($0)) }

    /// G.711 §3.2 µ-law: complement, sign, 3-bit exponent, 4-bit mantissa, bias 0x84.
    static func muDecode(_ code: UInt8) -> Int16 {
        let u = ~code
        let exponent = Int((u >> 4) & 0x07), mantissa = Int(u & 0x0F)
        let magnitude = ((mantissa << 3) + 0x84) << exponent
        return Int16(u & 0x80 != 0 ? 0x84 - magnitude : magnitude - 0x84)
    }

    /// G.711 §3.3 A-law: even bits inverted (0x55), sign, exponent, mantissa.
    static func aDecode(_ code: UInt8) -> Int16 {
        let a = code ^ 0x55
        let exponent = Int((a >> 4) & 0x07), mantissa = Int(a & 0x0F)
        var magnitude = (mantissa << 4) + 8
        if exponent != 0 { magnitude = (magnitude + 0x100) << (exponent - 1) }
        return Int16(a & 0x80 != 0 ? magnitude : -magnitude)
    }
}
