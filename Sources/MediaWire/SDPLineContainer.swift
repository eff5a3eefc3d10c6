/// Attribute look-up shared by the session level and m-sections of an SDP (RFC 8866 §5.13),
/// plus typed decoding of attribute values that reports the offending line number.
public protocol SDPLineContainer {
    var lines: [SDPLine] { get set }
}

/// A typed SDP attribute value: parses the text after `a=<name>:` and prints it back.
public protocol SDPAttributeValue: CustomStringConvertible, Equatable, Sendable {
    static var attributeName: String { get }
    /// Parses `value`; `line` is used in errors.
    init(parsing value: Substring, line: Int) throws(WireError)
}

extension SDPLineContainer {
    /// Values of every `a=name:value` line (an empty string for a flag `a=name`).
    public func attributeValues(_ name: String) -> [String] {
        lines.compactMap { line in
            guard let a = line.attribute, a.name == name else { return nil }
            return a.value.map(String.init) ?? ""
        }
    }

    /// The first value of attribute `name`, or nil.
    public func attribute(_ name: String) -> String? { attributeValues(name).first }

    public func hasAttribute(_ name: String) -> Bool {
        lines.contains { $0.attribute?.name == name[...] }
    }

    /// Every value of attribute `T`, decoded; throws at the first malformed one.
    public func values<T: SDPAttributeValue>(_ type: T.Type) throws(WireError) -> [T] {
        var out: [T] = []
        for line in lines {
            guard let a = line.attribute, a.name == T.attributeName[...] else { continue }
            out.append(try T(parsing: a.value ?? "", line: line.lineNumber))
        }
        return out
    }

    public func value<T: SDPAttributeValue>(_ type: T.Type) throws(WireError) -> T? { try values(type).first }

    public mutating func appendAttribute(_ name: String, _ value: String? = nil) {
        lines.append(.attribute(name, value))
    }

    public mutating func appendAttribute<T: SDPAttributeValue>(_ value: T) {
        lines.append(.attribute(T.attributeName, value.description))
    }

    public mutating func removeAttributes(_ name: String) {
        lines.removeAll { $0.attribute?.name == name[...] }
    }

    // Plain attributes of RFC 8839 (ICE), RFC 8843/9143 (BUNDLE), RFC 8866.
    public var iceUfrag: String? { attribute("ice-ufrag") }
    public var icePwd: String? { attribute("ice-pwd") }
    /// ice-options tokens (RFC 8839 §5.6), e.g. "trickle", "ice2".
    public var iceOptions: [String] { attributeValues("ice-options").flatMap { $0.split(separator: " ").map(String.init) } }
    public var mid: String? { attribute("mid") }
    public var rtcpMux: Bool { hasAttribute("rtcp-mux") }
    public var rtcpReducedSize: Bool { hasAttribute("rtcp-rsize") }
    public var endOfCandidates: Bool { hasAttribute("end-of-candidates") }

    /// The media direction attribute (RFC 8866 §6.7); nil when none is present (default sendrecv).
    public var direction: SDPDirection? {
        for line in lines {
            if let a = line.attribute, a.value == nil, let d = SDPDirection(rawValue: String(a.name)) { return d }
        }
        return nil
    }
}

/// a=sendrecv / sendonly / recvonly / inactive (RFC 8866 §6.7).
public enum SDPDirection: String, Sendable, CaseIterable {
    case sendrecv, sendonly, recvonly, inactive

    /// The direction the other side should use in an answer (RFC 8829 §5.3.1).
    public var reversed: SDPDirection {
        switch self {
        case .sendonly: .recvonly
        case .recvonly: .sendonly
        default: self
        }
    }
}

/// Helpers for typed attribute parsers.
enum SDPText {
    /// Splits on single spaces (SDP fields); empty fields are errors.
    static func fields(_ s: Substring, min: Int, _ what: String, line: Int) throws(WireError) -> [Substring] {
        let f = s.split(separator: " ", omittingEmptySubsequences: false)
        guard f.count >= min, !f.contains(where: \.isEmpty) else {
            throw WireError(.sdp, .malformedLine(what), at: line)
        }
        return f
    }

    static func integer<T: FixedWidthInteger>(_ s: Substring, _ what: String, line: Int) throws(WireError) -> T {
        guard s.allSatisfy({ $0.isASCII && $0.isNumber }), let v = T(s) else {
            throw WireError(.sdp, .malformedLine(what), at: line)
        }
        return v
    }

    static func payloadType(_ s: Substring, _ what: String, line: Int) throws(WireError) -> UInt8 {
        let v: UInt8 = try integer(s, what, line: line)
        guard v < 128 else { throw WireError(.sdp, .invalidField("\(what): payload type above 127"), at: line) }
        return v
    }
}
