/// SDP session descriptions (RFC 8866) as JSEP (RFC 8829) endpoints exchange them.
///
///     v=0
///     o=- 4611731400430051336 2 IN IP4 127.0.0.1
///     s=-
///     t=0 0
///     a=group:BUNDLE 0 1
///     m=audio 9 UDP/TLS/RTP/SAVPF 111
///     c=IN IP4 0.0.0.0
///     a=mid:0
///     ...
///
/// The model keeps every line in order (so parse → serialise reproduces the input exactly, CRLF
/// line ends) and exposes typed views of the attributes JSEP uses (see `SDPAttributes.swift`).
/// Errors carry the 1-based line number: `.malformedLine`, `.missing`, `.tooMany`, `.invalidField`.
public struct SessionDescription: Equatable, Sendable, SDPLineContainer {
    /// Input bounds: a browser offer with 20 m-sections and simulcast is ~30 KiB.
    public static let maximumBytes = 256 * 1024
    public static let maximumLines = 8192
    public static let maximumMediaSections = 512

    /// Session-level lines, `v=` first.
    public var lines: [SDPLine]
    public var media: [MediaDescription]

    public init(lines: [SDPLine], media: [MediaDescription] = []) {
        self.lines = lines
        self.media = media
    }

    /// A minimal session: `v=0`, an origin, `s=-`, `t=0 0`.
    public init(sessionID: UInt64, sessionVersion: UInt64 = 2, address: String = "127.0.0.1") {
        self.init(lines: [
            SDPLine("v", "0"),
            SDPLine("o", "- \(sessionID) \(sessionVersion) IN \(address.contains(":") ? "IP6" : "IP4") \(address)"),
            SDPLine("s", "-"),
            SDPLine("t", "0 0"),
        ])
    }

    /// Parses an SDP text. Accepts CRLF or LF line ends; a final line end is optional.
    public static func parse(_ text: String) throws(WireError) -> SessionDescription {
        guard text.utf8.count <= maximumBytes else {
            throw WireError(.sdp, .tooMany("bytes", limit: maximumBytes), at: 1)
        }
        var session: [SDPLine] = []
        var media: [MediaDescription] = []
        var lineNumber = 0
        var rawLines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if let last = rawLines.last, last.isEmpty { rawLines.removeLast() }
        guard rawLines.count <= maximumLines else { throw WireError(.sdp, .tooMany("lines", limit: maximumLines), at: 1) }
        for raw in rawLines {
            lineNumber += 1
            var bytes = raw[...]
            if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
            // RFC 8866 §5: `<type>=<value>`, type one lowercase letter, no space around "=".
            guard bytes.count >= 2, let first = bytes.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first),
                  bytes[bytes.index(after: bytes.startIndex)] == UInt8(ascii: "=") else {
                throw WireError(.sdp, .malformedLine("expected <letter>=<value>"), at: lineNumber)
            }
            guard let value = String(validating: bytes.dropFirst(2), as: UTF8.self) else {
                throw WireError(.sdp, .malformedLine("not UTF-8"), at: lineNumber)
            }
            guard !value.utf8.contains(13) && !value.utf8.contains(0) else {  // bytes: Foundation's contains(String) is CFString-slow
                throw WireError(.sdp, .malformedLine("control character in value"), at: lineNumber)
            }
            let line = SDPLine(Character(UnicodeScalar(first)), value, lineNumber: lineNumber)
            if lineNumber == 1 {
                guard line.type == "v" else { throw WireError(.sdp, .missing("v= as the first line"), at: 1) }
                guard value == "0" else { throw WireError(.sdp, .malformedLine("v= must be 0"), at: 1) }
            }
            try validate(line)
            if line.type == "m" {
                guard media.count < maximumMediaSections else {
                    throw WireError(.sdp, .tooMany("media sections", limit: maximumMediaSections), at: lineNumber)
                }
                media.append(try MediaDescription(mLine: value, lineNumber: lineNumber))
            } else if media.isEmpty {
                session.append(line)
            } else {
                media[media.count - 1].lines.append(line)
            }
        }
        guard lineNumber > 0 else { throw WireError(.sdp, .missing("v= line"), at: 1) }
        for required in ["o", "s", "t"] as [Character] where !session.contains(where: { $0.type == required }) {
            throw WireError(.sdp, .missing("\(required)= line"), at: lineNumber)
        }
        return SessionDescription(lines: session, media: media)
    }

    /// Checks the syntax of the line types whose form RFC 8866 fixes (§5.2, §5.7, §5.8, §5.9).
    private static func validate(_ line: SDPLine) throws(WireError) {
        let fields = line.value.split(separator: " ", omittingEmptySubsequences: false)
        switch line.type {
        case "o":
            guard fields.count == 6, UInt64(fields[1]) != nil, UInt64(fields[2]) != nil, fields[3] == "IN" else {
                throw WireError(.sdp, .malformedLine("o="), at: line.lineNumber)
            }
        case "c":
            guard fields.count == 3, fields[0] == "IN", fields[1] == "IP4" || fields[1] == "IP6" else {
                throw WireError(.sdp, .malformedLine("c="), at: line.lineNumber)
            }
        case "t":
            guard fields.count == 2, UInt64(fields[0]) != nil, UInt64(fields[1]) != nil else {
                throw WireError(.sdp, .malformedLine("t="), at: line.lineNumber)
            }
        case "b":
            let parts = line.value.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, UInt64(parts[1]) != nil else {
                throw WireError(.sdp, .malformedLine("b="), at: line.lineNumber)
            }
        case "a":
            guard !line.value.isEmpty, !line.value.hasPrefix(":") else {
                throw WireError(.sdp, .malformedLine("a= without a name"), at: line.lineNumber)
            }
        default:
            break
        }
    }

    /// The text with CRLF line ends (RFC 8866 §5).
    public func serialized() -> String {
        var out = ""
        out.reserveCapacity(2048)
        for line in lines { line.append(to: &out) }
        for m in media { m.append(to: &out) }
        return out
    }

    /// a=group:BUNDLE mids (RFC 9143 §7): the first BUNDLE group's mids, if any.
    public var bundleMids: [String]? {
        for value in attributeValues("group") {
            let parts = value.split(separator: " ")
            if parts.first == "BUNDLE" { return parts.dropFirst().map(String.init) }
        }
        return nil
    }

    public var isICELite: Bool { hasAttribute("ice-lite") }
}

/// One line of SDP: its type letter and the text after "=".
public struct SDPLine: Equatable, Sendable {
    public var type: Character
    public var value: String
    /// Where the line was in the parsed text (1-based); 0 for lines built in code. Not compared.
    public var lineNumber: Int

    public init(_ type: Character, _ value: String, lineNumber: Int = 0) {
        self.type = type
        self.value = value
        self.lineNumber = lineNumber
    }

    public static func == (l: SDPLine, r: SDPLine) -> Bool { l.type == r.type && l.value == r.value }

    /// An `a=` line: `a=name` or `a=name:value`.
    public static func attribute(_ name: String, _ value: String? = nil) -> SDPLine {
        SDPLine("a", value.map { "\(name):\($0)" } ?? name)
    }

    /// For `a=` lines: the attribute name and value (nil for a flag attribute).
    public var attribute: (name: Substring, value: Substring?)? {
        guard type == "a" else { return nil }
        if let colon = value.firstIndex(of: ":") {
            return (value[..<colon], value[value.index(after: colon)...])
        }
        return (value[...], nil)
    }

    func append(to out: inout String) {
        out.append(type)
        out.append("=")
        out.append(value)
        out.append("\r\n")
    }
}

/// One m-section (RFC 8866 §5.14): `m=<media> <port>[/<count>] <proto> <fmt> ...` and its lines.
public struct MediaDescription: Equatable, Sendable, SDPLineContainer {
    public var kind: String
    public var port: UInt16
    public var portCount: Int?
    public var proto: String
    public var formats: [String]
    /// Lines after the m= line, in order.
    public var lines: [SDPLine]

    public init(kind: String, port: UInt16, proto: String, formats: [String], lines: [SDPLine] = []) {
        self.kind = kind
        self.port = port
        self.proto = proto
        self.formats = formats
        self.lines = lines
    }

    init(mLine: String, lineNumber: Int) throws(WireError) {
        let fields = mLine.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count >= 4, !fields[0].isEmpty, !fields[2].isEmpty else {
            throw WireError(.sdp, .malformedLine("m= needs media, port, proto and formats"), at: lineNumber)
        }
        let portParts = fields[1].split(separator: "/", omittingEmptySubsequences: false)
        guard portParts.count <= 2, let port = UInt16(portParts[0]) else {
            throw WireError(.sdp, .malformedLine("m= port"), at: lineNumber)
        }
        var count: Int? = nil
        if portParts.count == 2 {
            guard let c = Int(portParts[1]), c > 0 else { throw WireError(.sdp, .malformedLine("m= port count"), at: lineNumber) }
            count = c
        }
        guard fields[3...].allSatisfy({ !$0.isEmpty }) else {
            throw WireError(.sdp, .malformedLine("m= empty format"), at: lineNumber)
        }
        self.init(kind: String(fields[0]), port: port, proto: String(fields[2]), formats: fields[3...].map(String.init))
        self.portCount = count
    }

    public var mLine: String {
        let portText = portCount.map { "\(port)/\($0)" } ?? "\(port)"
        return ([kind, portText, proto] + formats).joined(separator: " ")
    }

    func append(to out: inout String) {
        SDPLine("m", mLine).append(to: &out)
        for line in lines { line.append(to: &out) }
    }

    /// Payload types listed in the m= line that are numbers (RTP profiles).
    public var payloadTypes: [UInt8] { formats.compactMap { UInt8($0) }.filter { $0 < 128 } }
}
