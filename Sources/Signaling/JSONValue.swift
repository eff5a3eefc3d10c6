/// A JSON value (RFC 8259 §3) as the signaling layer reads it: what clients send (messages,
/// REST bodies), token claims and the config file. Numbers are Doubles (§6: interoperable
/// numbers are IEEE 754 binary64); booleans are not numbers.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The member `key` of an object; nil for other values or a missing key.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// An integral number without a fraction whose magnitude is below 9·10^15 (exact as a Double).
    public var integer: Int? {
        guard case .number(let d) = self, d.isFinite, d == d.rounded(), abs(d) < 9e15 else { return nil }
        return Int(d)
    }

    public var object: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// Parses JSON text: `JSONReader.parse`.
    public static func parse(_ text: String) throws(JSONReader.Error) -> JSONValue {
        var text = text
        return try text.withUTF8 { bytes in Result { () throws(JSONReader.Error) in try JSONReader.parse(UnsafeRawBufferPointer(bytes)) } }.get()
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONReader.Error) -> JSONValue {
        try bytes.withUnsafeBytes { raw in Result { () throws(JSONReader.Error) in try JSONReader.parse(raw) } }.get()
    }
}
