import Foundation
import HTTP
import Testing
import TestSupport
@testable import Signaling

/// The one name rule for rooms and identities (issue 16, finding 4), display-name cleaning and
/// the hidden characters refused in metadata.
struct NameRuleTests {
    /// Names people use: Latin, Chinese, digits and the allowed punctuation.
    @Test(arguments: ["drone-7", "应急指挥部", "Li_Si", "li.si@unit:3", "a+b~c", "部门-2", "x", String(repeating: "r", count: 128),
                      String(repeating: "应", count: 42)])
    func admitted(name: String) throws {
        try NameRule.check(name)
    }

    /// What the abuse test slipped in through tokens, and the rest of what could split a path,
    /// hide text or pad it, each with its exact reason.
    @Test(arguments: [
        ("", NameRule.Violation.empty),
        ("a/b", .character("/", at: 1)),
        ("a\u{0}b", .character("\u{0}", at: 1)),
        ("a\r\nb", .character("\r", at: 1)),
        ("a b", .character(" ", at: 1)),
        ("a%2Fb", .character("%", at: 1)),
        ("a\\b", .character("\\", at: 1)),
        ("x\u{202E}y", .character("\u{202E}", at: 1)),
        ("x\u{2066}y", .character("\u{2066}", at: 1)),
        ("\u{200B}", .character("\u{200B}", at: 0)),
        ("a\u{7F}", .character("\u{7F}", at: 1)),
        ("..", .leadingDot),
        (".a", .leadingDot),
        (String(repeating: "r", count: 129), .tooLong(bytes: 129)),
        (String(repeating: "应", count: 43), .tooLong(bytes: 129)),
        (String(repeating: "a", count: 2000), .tooLong(bytes: 2000)),
    ] as [(String, NameRule.Violation)])
    func refused(name: String, violation: NameRule.Violation) {
        #expect(throws: violation) { try NameRule.check(name) }
    }

    /// Property: over 20,000 random strings drawn from scripts, punctuation, controls, bidi and
    /// separators, the rule agrees with an oracle built on Foundation's `alphanumerics` (general
    /// categories L, M, N) and every admitted name crosses a URL path as one segment.
    @Test func agreesWithAnOracleOnRandomStrings() {
        var rng = SeededRandom(seed: 16)
        let pool: [Unicode.Scalar] = Array("aZ09-_.@:+~/\\% ?#&=\t\n\r".unicodeScalars) + [
            "\u{0}", "\u{1B}", "\u{7F}", "\u{85}", "\u{A0}", "\u{200B}", "\u{200D}", "\u{200E}", "\u{202A}", "\u{202E}", "\u{2028}", "\u{2066}", "\u{3000}",
            "\u{FEFF}", "应", "急", "李", "é", "\u{301}", "ß", "Ж", "٣", "①", "😀", "\u{E000}",
        ]
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...12, using: &rng)
            var name = String.UnicodeScalarView()
            for _ in 0..<length { name.append(pool[Int.random(in: 0..<pool.count, using: &rng)]) }
            let text = String(name)
            let oracle = !text.isEmpty && text.utf8.count <= 128 && text.unicodeScalars.first != "."
                && text.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.@:+~".unicodeScalars.contains($0) }
            #expect(NameRule.isValid(text) == oracle, "\(text.unicodeScalars.map { String($0.value, radix: 16) })")
            if oracle {
                let target = "/whep/\(PercentEncoding.encode(text))/x"
                var parser = HTTPRequestParser()
                parser.append(Array("GET \(target) HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
                #expect((try? parser.next())??.pathSegments == ["whep", text, "x"])
            }
        }
    }

    /// Display names lose controls, line breaks and bidi overrides, are trimmed and bounded.
    @Test func displayNamesAreCleaned() {
        #expect(NameRule.cleanDisplayName(" 李四\u{202E}\u{7}\n ") == "李四")
        #expect(NameRule.cleanDisplayName("Ana\u{2066}\u{2069} María") == "Ana María")
        #expect(NameRule.cleanDisplayName(String(repeating: "应", count: 100)).utf8.count == 255)
    }

    /// Metadata keeps tab and line breaks but names the first hidden character.
    @Test func metadataHiddenCharactersAreFound() {
        #expect(NameRule.firstHidden(in: "{\"a\":\n\t1}") == nil)
        #expect(NameRule.firstHidden(in: "ok\u{202E}txt.exe").map { [$0.0.value, UInt32($0.1)] } == [0x202E, 2])
    }
}

/// The per-session message budget (issue 16, finding 11), with a manual clock.
struct MessageRateLimiterTests {
    static func at(_ ms: UInt64) -> Instant { Instant(monotonicNanos: ms * 1_000_000, unixSeconds: 0) }

    /// A burst passes, the next message trips it for good; a client at the rate never trips.
    @Test func aBurstThenTheRate() {
        var b = MessageRateLimiter(burst: 10, now: Self.at(0))
        var first: [Bool] = []
        for _ in 0..<11 { first.append(b.admit(now: Self.at(0), rate: 5, burst: 10)) }
        #expect(first == Array(repeating: true, count: 10) + [false])
        let later = b.admit(now: Self.at(60_000), rate: 5, burst: 10)
        #expect(b.tripped && !later)
        var steady = MessageRateLimiter(burst: 10, now: Self.at(0))
        var admitted = 0
        for i in 1...1_000 where steady.admit(now: Self.at(UInt64(i) * 200), rate: 5, burst: 10) { admitted += 1 }
        #expect(admitted == 1_000)
        #expect(!steady.tripped)
    }

    /// The millisecond clock may wrap (it is 32 bits): the refill stays bounded by the burst.
    @Test func theClockWraps() {
        var b = MessageRateLimiter(burst: 3, now: Self.at(UInt64(UInt32.max) - 5))
        var results: [Bool] = []
        for _ in 0..<3 { results.append(b.admit(now: Self.at(UInt64(UInt32.max) - 5), rate: 1, burst: 3)) }
        results.append(b.admit(now: Self.at(UInt64(UInt32.max) + 1_000), rate: 1, burst: 3))
        results.append(b.admit(now: Self.at(UInt64(UInt32.max) + 1_000), rate: 1, burst: 3))
        #expect(results == [true, true, true, true, false])
    }
}
