import Testing
import TestSupport
@testable import Signaling

/// JSONReader against RFC 8259: the grammar's values, exact errors with their byte offsets for
/// malformed input, bounded nesting, and round trips through JSONWriter.
struct JSONReaderTests {
    /// RFC8259Section13: the spec's example object (abridged) and its scalar texts.
    @Test func rfc8259Examples() throws {
        let text = """
            {"Image": {"Width": 800, "Height": 600, "Title": "View from 15th Floor",
              "Thumbnail": {"Url": "http://www.example.com/image/481989943", "Height": 125, "Width": 100},
              "Animated": false, "IDs": [116, 943, 234, 38793]}}
            """
        let v = try JSONValue.parse(text)
        #expect(v["Image"]?["Width"]?.integer == 800)
        #expect(v["Image"]?["Thumbnail"]?["Url"]?.string == "http://www.example.com/image/481989943")
        #expect(v["Image"]?["Animated"] == .bool(false))
        #expect(v["Image"]?["IDs"] == .array([.number(116), .number(943), .number(234), .number(38793)]))
        #expect(try JSONValue.parse(#""Hello world!""#) == .string("Hello world!"))
        #expect(try JSONValue.parse("42") == .number(42))
        #expect(try JSONValue.parse(" true ") == .bool(true))
        #expect(try JSONValue.parse("null") == .null)
    }

    /// Numbers (§6) and strings with every escape (§7), surrogate pairs included.
    @Test(arguments: [
        ("-0", JSONValue.number(-0.0)), ("0.5", .number(0.5)), ("-12.25e2", .number(-1225)), ("1E-2", .number(0.01)), ("1e+2", .number(100)),
        (#""\"\\\/\b\f\n\r\t""#, .string("\"\\/\u{08}\u{0C}\n\r\t")),
        (#""\u00e9\u20AC\ud83d\ude00""#, .string("é€😀")), (#""\u0000""#, .string("\u{0}")),
        ("\"é€😀\"", .string("é€😀")), ("[]", .array([])), ("{}", .object([:])),
        (#"{"a":1,"a":2}"#, .object(["a": .number(2)])),  // §4: the last of duplicate keys
    ])
    func values(text: String, expected: JSONValue) throws {
        #expect(try JSONValue.parse(text) == expected)
    }

    /// Malformed input: what is wrong and at which byte.
    @Test(arguments: [(String, String, Int)]([
        ("", "a value was expected, the input ended", 0),
        ("  ", "a value was expected, the input ended", 2),
        ("{", "an object key (a string) was expected", 1),
        (#"{"a" 1}"#, "':' was expected after an object key", 5),
        (#"{"a":1,}"#, "an object key (a string) was expected", 7),
        (#"{"a":1"#, "the object is not closed", 6),
        (#"{"a":1 "b":2}"#, "',' or '}' was expected in an object", 7),
        ("[1,]", "a value was expected", 3),
        ("[1", "the array is not closed", 2),
        ("[1 2]", "',' or ']' was expected in an array", 3),
        ("tru", "invalid literal (true, false or null expected)", 3),
        ("nul", "invalid literal (true, false or null expected)", 3),
        ("01", "a number may not have a leading zero", 1),
        ("-", "a digit was expected in a number", 1),
        ("+1", "a value was expected", 0),
        ("1.", "a digit was expected after the decimal point", 2),
        ("1e", "a digit was expected in the exponent", 2),
        ("1e999", "the number is out of range", 0),
        (".5", "a value was expected", 0),
        ("\"abc", "the string is not closed", 0),
        ("\"a\u{01}b\"", "a control character must be escaped in a string", 2),
        (#""\x""#, "invalid escape in a string", 2),
        (#""\u12""#, "a \\u escape needs four hex digits", 3),
        (#""\u12G4""#, "a \\u escape needs four hex digits", 5),
        (#""\ud800""#, "a \\u escape of a high surrogate is not followed by a low one", 7),
        (#""\ud800\u0041""#, "a \\u escape of a high surrogate is not followed by a low one", 13),
        (#""\udc00""#, "a \\u escape of a lone low surrogate", 7),
        ("1 2", "unexpected text after the JSON value", 2),
        ("{} x", "unexpected text after the JSON value", 3),
        ("// c\n1", "a value was expected", 0),
        ("'a'", "a value was expected", 0),
        ("\u{FEFF}1", "a byte-order mark is not allowed", 0),
    ]))
    func malformed(text: String, reason: String, offset: Int) {
        #expect(throws: JSONReader.Error(reason: reason, offset: offset)) { try JSONValue.parse(text) }
    }

    /// Bytes that are not UTF-8 inside a string are refused, at the string's start.
    @Test func invalidUTF8() {
        #expect(throws: JSONReader.Error(reason: "the string is not valid UTF-8", offset: 1)) { try JSONValue.parse([0x5B, 0x22, 0xC3, 0x28, 0x22, 0x5D]) }
        #expect(throws: JSONReader.Error(reason: "the string is not valid UTF-8", offset: 0)) { try JSONValue.parse([0x22, 0x5C, 0x6E, 0xFF, 0x22]) }
        #expect(throws: JSONReader.Error(reason: "a value was expected", offset: 0)) { try JSONValue.parse([0xFF]) }
    }

    /// Nesting is bounded: 64 levels parse, 65 do not, and 100,000 do not exhaust the stack.
    @Test func nestingIsBounded() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try JSONValue.parse(ok) }
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONReader.Error(reason: "nested deeper than 64", offset: 64)) { try JSONValue.parse(deep) }
        #expect(throws: JSONReader.Error(reason: "nested deeper than 64", offset: 320)) { try JSONValue.parse(String(repeating: #"{"a":"#, count: 100_000)) }
    }

    /// Random trees written by JSONWriter read back equal, whatever their strings hold.
    @Test func roundTripsThroughTheWriter() throws {
        var rng = SeededRandom(seed: 8259)
        func string() -> String {
            let pieces = ["a", "é", "😀", "\"", "\\", "\n", "\u{1}", "/", " ", "\u{7F}", "€"]
            return (0..<Int.random(in: 0...6, using: &rng)).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &rng)] }.joined()
        }
        func tree(_ depth: Int) -> JSONValue {
            switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &rng) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &rng))
            case 2: return .number([0, -1, 0.25, 1e21, -3.5e-7, 9_007_199_254_740_991][Int.random(in: 0..<6, using: &rng)])
            case 3: return .string(string())
            case 4: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in tree(depth + 1) })
            default: return .object(Dictionary((0..<Int.random(in: 0...4, using: &rng)).map { _ in (string(), tree(depth + 1)) }, uniquingKeysWith: { a, _ in a }))
            }
        }
        for _ in 0..<500 {
            let v = tree(0)
            #expect(try JSONValue.parse(JSONWriter.encode(v)) == v)
        }
    }

    /// Accessors give a value only for its own kind; integers are exact ones.
    @Test func accessors() throws {
        let v = try JSONValue.parse(#"{"s":"x","b":true,"n":3,"f":2.5,"big":1e16,"z":null}"#)
        #expect(v["s"]?.string == "x" && v["s"]?.bool == nil && v["b"]?.bool == true && v["b"]?.integer == nil)
        #expect(v["n"]?.integer == 3 && v["f"]?.integer == nil && v["big"]?.integer == nil && v["z"]?.isNull == true)
        #expect(v["missing"] == nil && v["s"]?["x"] == nil && JSONValue.array([])["a"] == nil)
    }
}
