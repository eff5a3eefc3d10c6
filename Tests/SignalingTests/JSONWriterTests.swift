import Foundation
import Testing
@testable import Signaling

/// JSONWriter (RFC 8259) against exact expected text, and round trips through Foundation's
/// parser, which is the judge of validity here.
struct JSONWriterTests {
    nonisolated(unsafe) static let table: [([String: Any], String)] = [
        (["b": 1, "a": true, "c": "x"] as [String: Any], #"{"a":true,"b":1,"c":"x"}"#),
        (["n": NSNull(), "list": [1, 2.5, "s", false] as [Any]], #"{"list":[1,2.5,"s",false],"n":null}"#),
        (["nested": ["z": [String: Any](), "y": [Any]()] as [String: Any]], #"{"nested":{"y":[],"z":{}}}"#),
        (["q": "say \"hi\"\\ now\n\t/\u{01}"], #"{"q":"say \"hi\"\\ now\n\t/\u0001"}"#),
        (["ü": "日本", "B": 0, "a": 0], #"{"B":0,"a":0,"ü":"日本"}"#),  // keys by UTF-8 bytes
        (["inf": Double.infinity, "nan": Double.nan, "whole": 3.0, "big": Int64.max, "neg": -7], #"{"big":9223372036854775807,"inf":null,"nan":null,"neg":-7,"whole":3}"#),
    ]

    @Test func exactText() {
        for (object, expected) in Self.table { #expect(JSONWriter.encode(object) == expected) }
    }

    /// Values decoded by JSONSerialization (NSNumber booleans and numbers) keep their types.
    @Test func reEncodesWhatFoundationDecoded() throws {
        let text = #"{"flag":true,"count":12,"ratio":0.25,"off":false,"items":[{"id":"a"},null]}"#
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(JSONWriter.encode(decoded) == #"{"count":12,"flag":true,"items":[{"id":"a"},null],"off":false,"ratio":0.25}"#)
    }

    /// Every control character and a spread of scalars survive a round trip through the parser.
    @Test func roundTripsEveryControlCharacter() throws {
        let s = String((0..<0x20).map { Character(Unicode.Scalar($0)!) }) + "\u{7F}é𝄞\"\\/"
        let text = JSONWriter.encode(["s": s])
        let back = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(back["s"] as? String == s)
    }
}
