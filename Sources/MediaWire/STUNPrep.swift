import Foundation

/// SASLprep (RFC 4013) for STUN long-term credentials as RFC 5389 and RFC 5769 §2.4 use it:
/// characters "commonly mapped to nothing" (RFC 3454 B.1) are removed, non-ASCII spaces (C.1.2)
/// become U+0020, then NFKC. Not on any packet path (Foundation is used for NFKC only).
public enum STUNPrep {
    private static let mappedToNothing: Set<UInt32> = [
        0x00AD, 0x034F, 0x1806, 0x180B, 0x180C, 0x180D, 0x200B, 0x200C, 0x200D, 0x2060,
        0xFE00, 0xFE01, 0xFE02, 0xFE03, 0xFE04, 0xFE05, 0xFE06, 0xFE07, 0xFE08, 0xFE09,
        0xFE0A, 0xFE0B, 0xFE0C, 0xFE0D, 0xFE0E, 0xFE0F, 0xFEFF,
    ]
    private static let nonASCIISpaces: Set<UInt32> = [
        0x00A0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007,
        0x2008, 0x2009, 0x200A, 0x200B, 0x202F, 0x205F, 0x3000,
    ]

    public static func saslPrep(_ s: String) -> String {
        var mapped = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            if mappedToNothing.contains(scalar.value) { continue }
            mapped.append(nonASCIISpaces.contains(scalar.value) ? " " : scalar)
        }
        return String(mapped).precomposedStringWithCompatibilityMapping
    }
}
