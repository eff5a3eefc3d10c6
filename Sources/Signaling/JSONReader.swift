/// Reads JSON text (RFC 8259) into `JSONValue`s. Input is hostile (client messages, REST
/// bodies, token claims): every error says what is wrong and at which byte, nesting is bounded,
/// and the tree is at most proportional to the input, whose size the caller bounds.
///
/// Strict where RFC 8259 is: no comments, no trailing commas, no leading zeros or `+`, no
/// unescaped control characters in strings (§7), UTF-8 only (§8.1, no byte-order mark), and a
/// `\u` escape of a lone surrogate is refused rather than turned into U+FFFD. Duplicate object
/// keys keep the last value (§4 leaves it open). Numbers past binary64's range are refused.
///
/// It replaces Foundation's `JSONSerialization` on the signaling thread: that one bridged every
/// value through NSDictionary/NSNumber (booleans and numbers told apart by Objective-C type
/// codes) and was 3 % of the server's join-storm profile; its errors said neither what nor where.
public enum JSONReader {
    public struct Error: Swift.Error, Equatable, Sendable, CustomStringConvertible {
        public let reason: String
        /// Byte offset into the input where the problem was found.
        public let offset: Int
        public var description: String { "\(reason) at byte \(offset)" }
    }

    /// Objects and arrays nest at most this deep (a hostile `[[[[…` would otherwise recurse
    /// until the stack ends).
    public static let maximumDepth = 64

    public static func parse(_ input: UnsafeRawBufferPointer) throws(Error) -> JSONValue {
        var parser = Parser(bytes: input)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == input.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        func error(_ reason: String) -> Error { Error(reason: reason, offset: position) }

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while let b = current, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { position += 1 }
        }

        mutating func value(depth: Int) throws(Error) -> JSONValue {
            guard let b = current else { throw error("a value was expected, the input ended") }
            switch b {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw error(b == 0xEF ? "a byte-order mark is not allowed" : "a value was expected")
            }
        }

        mutating func literal(_ word: String) throws(Error) {
            for expected in word.utf8 {
                guard current == expected else { throw error("invalid literal (true, false or null expected)") }
                position += 1
            }
        }

        mutating func object(depth: Int) throws(Error) -> JSONValue {
            guard depth <= JSONReader.maximumDepth else { throw error("nested deeper than \(JSONReader.maximumDepth)") }
            position += 1  // {
            var members: [String: JSONValue] = [:]
            skipWhitespace()
            if current == UInt8(ascii: "}") { position += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw error("an object key (a string) was expected") }
                let key = try string()
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw error("':' was expected after an object key") }
                position += 1
                skipWhitespace()
                members[key] = try value(depth: depth)
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "}"): position += 1; return .object(members)
                case nil: throw error("the object is not closed")
                default: throw error("',' or '}' was expected in an object")
                }
            }
        }

        mutating func array(depth: Int) throws(Error) -> JSONValue {
            guard depth <= JSONReader.maximumDepth else { throw error("nested deeper than \(JSONReader.maximumDepth)") }
            position += 1  // [
            var elements: [JSONValue] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") { position += 1; return .array(elements) }
            while true {
                skipWhitespace()
                elements.append(try value(depth: depth))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "]"): position += 1; return .array(elements)
                case nil: throw error("the array is not closed")
                default: throw error("',' or ']' was expected in an array")
                }
            }
        }

        /// RFC 8259 §7. A string without escapes is made from its bytes directly.
        mutating func string() throws(Error) -> String {
            position += 1  // "
            let start = position
            var decoded: [UInt8]? = nil  // only once an escape is seen
            while true {
                guard let b = current else { throw Error(reason: "the string is not closed", offset: start - 1) }
                switch b {
                case UInt8(ascii: "\""):
                    let text: String?
                    if let d = decoded {
                        text = String(validating: d, as: UTF8.self)
                    } else {
                        text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
                    }
                    guard let text else { throw Error(reason: "the string is not valid UTF-8", offset: start - 1) }
                    position += 1
                    return text
                case UInt8(ascii: "\\"):
                    if decoded == nil { decoded = Array(bytes[start..<position]) }
                    try escape(into: &decoded!)
                case 0x00..<0x20:
                    throw error("a control character must be escaped in a string")
                default:
                    decoded?.append(b)
                    position += 1
                }
            }
        }

        /// One escape sequence (the backslash at `position`), appended as UTF-8.
        mutating func escape(into out: inout [UInt8]) throws(Error) {
            position += 1
            guard let e = current else { throw error("the string ends inside an escape") }
            position += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low one (§7).
                    guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                        throw error("a \\u escape of a high surrogate is not followed by a low one")
                    }
                    position += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("a \\u escape of a high surrogate is not followed by a low one") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw error("a \\u escape of a lone low surrogate")
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
            default:
                position -= 1
                throw error("invalid escape in a string")
            }
        }

        mutating func hex4() throws(Error) -> UInt32 {
            guard position + 4 <= bytes.count else { throw error("a \\u escape needs four hex digits") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[position]
                let d: UInt8
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
                default: throw error("a \\u escape needs four hex digits")
                }
                v = v << 4 | UInt32(d)
                position += 1
            }
            return v
        }

        /// RFC 8259 §6: -? int frac? exp?, checked, then converted by the C library.
        mutating func number() throws(Error) -> Double {
            let start = position
            if current == UInt8(ascii: "-") { position += 1 }
            func digits(_ p: inout Parser) -> Int {
                let s = p.position
                while let b = p.current, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { p.position += 1 }
                return p.position - s
            }
            if current == UInt8(ascii: "0") {
                position += 1
                if let b = current, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { throw error("a number may not have a leading zero") }
            } else if digits(&self) == 0 {
                throw error("a digit was expected in a number")
            }
            if current == UInt8(ascii: ".") {
                position += 1
                guard digits(&self) > 0 else { throw error("a digit was expected after the decimal point") }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                position += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
                guard digits(&self) > 0 else { throw error("a digit was expected in the exponent") }
            }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            guard let d = Double(text), d.isFinite else { throw Error(reason: "the number is out of range", offset: start) }
            return d
        }
    }
}
