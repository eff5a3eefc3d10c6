/// The one rule for room names and identities, wherever one enters: tokens (WebSocket, WHIP,
/// WHEP, REST), URL paths, REST bodies and `shihui-server token` (docs/signaling.md, "Names").
///
/// A name is 1 to 128 bytes of UTF-8 made of letters, marks and digits of any script (so
/// Chinese names are fine) and `- _ . @ : + ~`, not starting with a dot. Nothing that can
/// split a path (`/`, `\`, `%`), hide text (control, format and bidi characters) or pad it
/// (spaces) gets in, so a name means the same in a URL, a log line and a JSON message.
public enum NameRule {
    public static let maximumBytes = 128
    /// Display names: longer free text, cleaned rather than refused.
    public static let maximumDisplayNameBytes = 256

    /// What is wrong with a name, and where (a scalar index).
    public enum Violation: Error, Equatable, Sendable, CustomStringConvertible {
        case empty
        case tooLong(bytes: Int)
        case character(Unicode.Scalar, at: Int)
        case leadingDot

        public var description: String {
            switch self {
            case .empty: "is empty"
            case .tooLong(let n): "is \(n) bytes long (at most \(NameRule.maximumBytes) bytes of UTF-8)"
            case .character(let c, let i): "has \(NameRule.describe(c)) at character \(i + 1) (letters, digits and - _ . @ : + ~ only)"
            case .leadingDot: "starts with a dot"
            }
        }
    }

    static let punctuation: Set<Unicode.Scalar> = ["-", "_", ".", "@", ":", "+", "~"]

    /// Whether `c` may appear in a name.
    public static func isAllowed(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII {
            let v = c.value
            return (0x30...0x39).contains(v) || (0x41...0x5A).contains(v) || (0x61...0x7A).contains(v) || punctuation.contains(c)
        }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    /// Checks a room name or identity.
    public static func check(_ name: String) throws(Violation) {
        let bytes = name.utf8.count
        guard bytes > 0 else { throw .empty }
        guard bytes <= maximumBytes else { throw .tooLong(bytes: bytes) }
        for (i, c) in name.unicodeScalars.enumerated() where !isAllowed(c) { throw .character(c, at: i) }
        guard name.unicodeScalars.first != "." else { throw .leadingDot }
    }

    public static func isValid(_ name: String) -> Bool {
        do throws(Violation) { try check(name); return true } catch { return false }
    }

    /// Characters that have no place in text shown to others: C0/C1 controls, line and paragraph
    /// separators, and the bidi embeddings, overrides, isolates and marks that reorder what
    /// follows (Unicode TR #9; the "Trojan Source" trick). Tab, LF and CR are free text's own.
    public static func isHidden(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09, 0x0A, 0x0D: false
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0x2028, 0x2029: true
        default: false
        }
    }

    /// A display name as others see it: hidden characters and line breaks dropped, whitespace
    /// trimmed, cut to `maximumDisplayNameBytes` at a character boundary.
    public static func cleanDisplayName(_ name: String) -> String {
        var out = String.UnicodeScalarView()
        var bytes = 0
        for c in name.unicodeScalars where !isHidden(c) && c != "\n" && c != "\r" && c != "\t" {
            let n = String(c).utf8.count
            guard bytes + n <= maximumDisplayNameBytes else { break }
            out.append(c)
            bytes += n
        }
        return String(out).trimmingWhitespace()
    }

    /// Free text (metadata): the first hidden character, if any, with its scalar index.
    public static func firstHidden(in text: String) -> (Unicode.Scalar, Int)? {
        for (i, c) in text.unicodeScalars.enumerated() where isHidden(c) { return (c, i) }
        return nil
    }

    static func describe(_ c: Unicode.Scalar) -> String {
        let hex = String(c.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        return isHidden(c) || c.properties.generalCategory == .format || c.properties.generalCategory == .spaceSeparator ? code : "\"\(c)\" (\(code))"
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
