/// Byte literals for tests: `hex("00 01 ab")` (whitespace and `//` comments ignored per line).
public func hex(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let code = line.range(of: "//").map { line[..<$0.lowerBound] } ?? line[...]
        let digits = code.filter { !$0.isWhitespace && $0 != "," }
            .replacingOccurrences(of: "0x", with: "")
        precondition(digits.count % 2 == 0, "odd number of hex digits in: \(line)")
        var i = digits.startIndex
        while i < digits.endIndex {
            let j = digits.index(i, offsetBy: 2)
            out.append(UInt8(digits[i..<j], radix: 16)!)
            i = j
        }
    }
    return out
}

extension Substring {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        String(self).split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// Lower-case hex text of bytes, for readable assertion messages.
public func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}
