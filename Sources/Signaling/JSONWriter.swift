import Foundation

/// Serialises the `[String: Any]` trees the signaling layer builds into JSON text (RFC 8259),
/// object keys sorted by their UTF-8 bytes so output is deterministic.
///
/// It replaces `JSONSerialization` with `.sortedKeys` for what the server sends: that sorts keys
/// with a locale-aware string compare and bridges every value through `NSDictionary`, and a
/// 1,000-participant join storm spent 65 % of the signaling thread there (every `joined` message
/// lists the room's participants). Accepted values: String, Bool, the integer types, Double and
/// Float (non-finite ones become `null`, which JSON has no number for), NSNumber (as decoded by
/// JSONSerialization: a boolean when its type code says so), NSNull, `JSONValue`s (as
/// `JSONReader` reads them), `Fragment`s, arrays and
/// string-keyed dictionaries of these; anything else is written as its description, a string.
public enum JSONWriter {
    /// JSON text already serialised by this writer, inserted as it is.
    public struct Fragment: Equatable, Sendable {
        public let text: String
        public init(_ text: String) { self.text = text }
    }

    public static func encode(_ value: Any) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func write(_ value: Any, into out: inout [UInt8]) {
        switch value {
        case let s as String: writeString(s, into: &out)
        case let f as Fragment: out += f.text.utf8
        case let object as [String: Any]:
            out.append(UInt8(ascii: "{"))
            var first = true
            for key in object.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(object[key]!, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case let array as [Any]:
            out.append(UInt8(ascii: "["))
            for (i, element) in array.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case is NSNull: out += Array("null".utf8)
        case let v as JSONValue: write(v, into: &out)
        default: writeScalar(value, into: &out)
        }
    }

    /// A value as `JSONReader` read it (objects with sorted keys, as everything here).
    static func write(_ v: JSONValue, into out: inout [UInt8]) {
        switch v {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .number(let d): writeDouble(d, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let elements): write(elements.map { $0 as Any }, into: &out)
        case .object(let members): write(members.mapValues { $0 as Any }, into: &out)
        }
    }

    /// Numbers and booleans, matched on the exact dynamic type (on Linux an Int in `Any` also
    /// casts to Bool and NSNumber).
    private static func writeScalar(_ value: Any, into out: inout [UInt8]) {
        let type = Swift.type(of: value)
        if type == Bool.self, let b = value as? Bool { out += Array((b ? "true" : "false").utf8); return }
        if type == Int.self, let n = value as? Int { out += Array(String(n).utf8); return }
        if type == Int64.self, let n = value as? Int64 { out += Array(String(n).utf8); return }
        if type == Int32.self, let n = value as? Int32 { out += Array(String(n).utf8); return }
        if type == UInt64.self, let n = value as? UInt64 { out += Array(String(n).utf8); return }
        if type == UInt32.self, let n = value as? UInt32 { out += Array(String(n).utf8); return }
        if type == UInt16.self, let n = value as? UInt16 { out += Array(String(n).utf8); return }
        if type == UInt8.self, let n = value as? UInt8 { out += Array(String(n).utf8); return }
        if type == Double.self, let d = value as? Double { writeDouble(d, into: &out); return }
        if type == Float.self, let f = value as? Float { writeDouble(Double(f), into: &out); return }
        if let n = value as? NSNumber {
            if String(cString: n.objCType) == "c" { out += Array((n.boolValue ? "true" : "false").utf8); return }
            writeDouble(n.doubleValue, into: &out)
            return
        }
        writeString(String(describing: value), into: &out)
    }

    /// Integral values within ±2^53 without a fraction (as JSONSerialization writes them).
    private static func writeDouble(_ d: Double, into out: inout [UInt8]) {
        guard d.isFinite else { out += Array("null".utf8); return }
        if d == d.rounded(), abs(d) < 9_007_199_254_740_992 { out += Array(String(Int64(d)).utf8) } else { out += Array("\(d)".utf8) }
    }

    /// RFC 8259 §7: quotation mark, reverse solidus and control characters escaped; everything
    /// else (including "/" and non-ASCII) as UTF-8.
    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
