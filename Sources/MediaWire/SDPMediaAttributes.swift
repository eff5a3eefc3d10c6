/// Typed values of the codec and stream attributes JSEP m-sections carry.

/// a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>] (RFC 8866 §6.6).
public struct SDPRTPMap: SDPAttributeValue {
    public static let attributeName = "rtpmap"
    public var payloadType: UInt8
    public var encodingName: String
    public var clockRate: UInt32
    /// Channels for audio (e.g. 2 for opus/48000/2).
    public var encodingParameters: String?

    public init(payloadType: UInt8, encodingName: String, clockRate: UInt32, encodingParameters: String? = nil) {
        self.payloadType = payloadType
        self.encodingName = encodingName
        self.clockRate = clockRate
        self.encodingParameters = encodingParameters
    }

    public init(parsing value: Substring, line: Int) throws(WireError) {
        let f = try SDPText.fields(value, min: 2, "rtpmap", line: line)
        guard f.count == 2 else { throw WireError(.sdp, .malformedLine("rtpmap"), at: line) }
        let parts = f[1].split(separator: "/", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), !parts[0].isEmpty else { throw WireError(.sdp, .malformedLine("rtpmap encoding"), at: line) }
        self.init(payloadType: try SDPText.payloadType(f[0], "rtpmap", line: line), encodingName: String(parts[0]),
                  clockRate: try SDPText.integer(parts[1], "rtpmap clock rate", line: line),
                  encodingParameters: parts.count == 3 ? String(parts[2]) : nil)
    }

    public var description: String {
        "\(payloadType) \(encodingName)/\(clockRate)" + (encodingParameters.map { "/\($0)" } ?? "")
    }
}

/// a=fmtp:<format> <format specific parameters> (RFC 8866 §6.15). The parameter text is kept as
/// is for exact round trips; `parameters` splits the common `key=value;key=value` form.
public struct SDPFormatParameters: SDPAttributeValue {
    public static let attributeName = "fmtp"
    public var payloadType: UInt8
    public var text: String

    public init(payloadType: UInt8, text: String) {
        self.payloadType = payloadType
        self.text = text
    }

    public init(payloadType: UInt8, parameters: [(String, String)]) {
        self.init(payloadType: payloadType, text: parameters.map { "\($0.0)=\($0.1)" }.joined(separator: ";"))
    }

    public init(parsing value: Substring, line: Int) throws(WireError) {
        guard let space = value.firstIndex(of: " ") else { throw WireError(.sdp, .malformedLine("fmtp"), at: line) }
        let rest = value[value.index(after: space)...]
        guard !rest.isEmpty else { throw WireError(.sdp, .malformedLine("fmtp without parameters"), at: line) }
        self.init(payloadType: try SDPText.payloadType(value[..<space], "fmtp", line: line), text: String(rest))
    }

    /// `key=value` pairs separated by ";" (whitespace around items trimmed); a bare item has value "".
    public var parameters: [(key: String, value: String)] {
        text.split(separator: ";").map { item in
            let trimmed = item.drop { $0 == " " }
            if let eq = trimmed.firstIndex(of: "=") {
                return (String(trimmed[..<eq]), String(trimmed[trimmed.index(after: eq)...]))
            }
            return (String(trimmed), "")
        }
    }

    public func parameter(_ key: String) -> String? { parameters.first { $0.key == key }?.value }

    public var description: String { "\(payloadType) \(text)" }
}

/// a=rtcp-fb:<payload type|*> <type> [<parameter>] (RFC 4585 §4.2), e.g. "96 nack pli".
public struct SDPRTCPFeedback: SDPAttributeValue {
    public static let attributeName = "rtcp-fb"
    /// nil for "*" (all formats).
    public var payloadType: UInt8?
    public var type: String
    public var parameter: String?

    public init(payloadType: UInt8?, type: String, parameter: String? = nil) {
        self.payloadType = payloadType
        self.type = type
        self.parameter = parameter
    }

    public init(parsing value: Substring, line: Int) throws(WireError) {
        let f = try SDPText.fields(value, min: 2, "rtcp-fb", line: line)
        let pt: UInt8? = f[0] == "*" ? nil : try SDPText.payloadType(f[0], "rtcp-fb", line: line)
        self.init(payloadType: pt, type: String(f[1]), parameter: f.count > 2 ? f[2...].joined(separator: " ") : nil)
    }

    public var description: String {
        (payloadType.map(String.init) ?? "*") + " " + type + (parameter.map { " \($0)" } ?? "")
    }
}

/// a=extmap:<id>[/<direction>] <URI> [<attributes>] (RFC 8285 §5).
public struct SDPExtMap: SDPAttributeValue {
    public static let attributeName = "extmap"
    public var id: UInt16
    public var direction: SDPDirection?
    public var uri: String
    public var extensionAttributes: String?

    public init(id: UInt16, uri: String, direction: SDPDirection? = nil, extensionAttributes: String? = nil) {
        self.id = id
        self.uri = uri
        self.direction = direction
        self.extensionAttributes = extensionAttributes
    }

    public init(parsing value: Substring, line: Int) throws(WireError) {
        let f = try SDPText.fields(value, min: 2, "extmap", line: line)
        let idParts = f[0].split(separator: "/", omittingEmptySubsequences: false)
        guard idParts.count <= 2 else { throw WireError(.sdp, .malformedLine("extmap id"), at: line) }
        let id: UInt16 = try SDPText.integer(idParts[0], "extmap id", line: line)
        // RFC 8285 §5: 1-14 one-byte, 1-255 two-byte, 4096-4351 for local identifiers.
        guard (1...255).contains(id) || (4096...4351).contains(id) else {
            throw WireError(.sdp, .invalidField("extmap id \(id) out of range"), at: line)
        }
        var direction: SDPDirection? = nil
        if idParts.count == 2 {
            guard let d = SDPDirection(rawValue: String(idParts[1])) else { throw WireError(.sdp, .malformedLine("extmap direction"), at: line) }
            direction = d
        }
        self.init(id: id, uri: String(f[1]), direction: direction,
                  extensionAttributes: f.count > 2 ? f[2...].joined(separator: " ") : nil)
    }

    public var description: String {
        "\(id)" + (direction.map { "/\($0.rawValue)" } ?? "") + " " + uri + (extensionAttributes.map { " \($0)" } ?? "")
    }
}

/// a=ssrc:<ssrc-id> <attribute>[:<value>] (RFC 5576 §4.1), e.g. "1234 cname:abc".
public struct SDPSSRC: SDPAttributeValue {
    public static let attributeName = "ssrc"
    public var ssrc: UInt32
    public var attribute: String
    public var value: String?

    public init(ssrc: UInt32, attribute: String, value: String? = nil) {
        self.ssrc = ssrc
        self.attribute = attribute
        self.value = value
    }

    public init(parsing value: Substring, line: Int) throws(WireError) {
        guard let space = value.firstIndex(of: " ") else { throw WireError(.sdp, .malformedLine("ssrc"), at: line) }
        let rest = value[value.index(after: space)...]
        guard !rest.isEmpty else { throw WireError(.sdp, .malformedLine("ssrc attribute"), at: line) }
        let ssrc: UInt32 = try SDPText.integer(value[..<space], "ssrc id", line: line)
        if let colon = rest.firstIndex(of: ":") {
            self.init(ssrc: ssrc, attribute: String(rest[..<colon]), value: String(rest[rest.index(after: colon)...]))
        } else {
            self.init(ssrc: ssrc, attribute: String(rest))
        }
    }

    public var description: String { "\(ssrc) \(attribute)" + (value.map { ":\($0)" } ?? "") }
}

/// a=ssrc-group:<semantics> <ssrc-id>... (RFC 5576 §4.2), e.g. "FID 1 2" (RTX pairing).
public struct SDPSSRCGroup: SDPAttributeValue {
    public static let attributeName = "ssrc-group"
    public var semantics: String
    public var ssrcs: [UInt32]

    public init(semantics: String, ssrcs: [UInt32]) {
        self.semantics = semantics
        self.ssrcs = ssrcs
    }

    public init(parsing value: Substring, line: Int) throws(WireError) {
        let f = try SDPText.fields(value, min: 2, "ssrc-group", line: line)
        var ssrcs: [UInt32] = []
        for s in f.dropFirst() { ssrcs.append(try SDPText.integer(s, "ssrc-group id", line: line)) }
        self.init(semantics: String(f[0]), ssrcs: ssrcs)
    }

    public var description: String { ([semantics] + ssrcs.map(String.init)).joined(separator: " ") }
}

/// a=msid:<stream id> [<track id>] (RFC 8830 §2).
public struct SDPMediaStreamID: SDPAttributeValue {
    public static let attributeName = "msid"
    public var streamID: String
    public var trackID: String?

    public init(streamID: String, trackID: String? = nil) {
        self.streamID = streamID
        self.trackID = trackID
    }

    public init(parsing value: Substring, line: Int) throws(WireError) {
        let f = try SDPText.fields(value, min: 1, "msid", line: line)
        guard f.count <= 2 else { throw WireError(.sdp, .malformedLine("msid"), at: line) }
        self.init(streamID: String(f[0]), trackID: f.count == 2 ? String(f[1]) : nil)
    }

    public var description: String { streamID + (trackID.map { " \($0)" } ?? "") }
}

/// a=group:<semantics> <identification-tag>... (RFC 5888 §5), e.g. "BUNDLE 0 1".
public struct SDPGroup: SDPAttributeValue {
    public static let attributeName = "group"
    public var semantics: String
    public var mids: [String]

    public init(semantics: String, mids: [String]) {
        self.semantics = semantics
        self.mids = mids
    }

    public init(parsing value: Substring, line: Int) throws(WireError) {
        let f = try SDPText.fields(value, min: 1, "group", line: line)
        self.init(semantics: String(f[0]), mids: f.dropFirst().map(String.init))
    }

    public var description: String { ([semantics] + mids).joined(separator: " ") }
}
