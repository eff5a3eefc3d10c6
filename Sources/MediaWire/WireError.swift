/// The one error every MediaWire parser throws (typed throws, so nothing is boxed or allocated):
/// which wire format, what is wrong, and the byte offset (or SDP line number) where it was found.
public struct WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The format whose parser refused the input.
    public enum Format: String, Sendable {
        case rtp, rtpHeaderExtension, rtcp, stun, sdp, vp8, opus, h264
    }

    /// What is wrong. Cases are shared across formats so tests can check the exact error.
    public enum Reason: Equatable, Sendable {
        /// Fewer bytes than the structure needs at `offset`.
        case truncated(needed: Int, available: Int)
        /// RTP/RTCP version field is not 2 (RFC 3550 §5.1).
        case badVersion(UInt8)
        /// Padding count is zero or exceeds the bytes available for it (RFC 3550 §5.1).
        case badPadding(UInt8)
        /// A length field disagrees with the bytes present.
        case badLength(declared: Int, available: Int)
        /// A field holds a value the specification forbids.
        case invalidField(String)
        /// STUN magic cookie is not 0x2112A442 (RFC 8489 §5).
        case badMagicCookie(UInt32)
        /// More elements than a parser accepts (bounded work and memory for hostile input).
        case tooMany(String, limit: Int)
        /// A required SDP line or attribute is absent.
        case missing(String)
        /// An SDP line could not be parsed; the string names the line type or attribute.
        case malformedLine(String)
    }

    public let format: Format
    public let reason: Reason
    /// Byte offset into the input (SDP: 1-based line number).
    public let offset: Int

    public init(_ format: Format, _ reason: Reason, at offset: Int) {
        self.format = format
        self.reason = reason
        self.offset = offset
    }

    public var description: String {
        let place = format == .sdp ? "line \(offset)" : "offset \(offset)"
        return "\(format.rawValue): \(reason) at \(place)"
    }

    /// The error as a sentence for people (HTTP and signaling replies), without Swift's names:
    /// "SDP line 3: a=fingerprint is missing".
    public var sentence: String {
        let place = format == .sdp ? "SDP line \(offset)" : "\(format.title) at byte \(offset)"
        let what: String
        switch reason {
        case .truncated(let needed, let available): what = "\(needed) bytes needed, \(available) present"
        case .badVersion(let v): what = "version \(v), expected 2"
        case .badPadding(let n): what = "padding count \(n) is invalid"
        case .badLength(let declared, let available): what = "length \(declared) declared, \(available) bytes present"
        case .invalidField(let field): what = "invalid \(field)"
        case .badMagicCookie(let c): what = "magic cookie 0x\(String(c, radix: 16)) is not 0x2112a442"
        case .tooMany(let things, let limit): what = "more \(things) than the limit of \(limit)"
        case .missing(let thing): what = "\(thing) is missing"
        case .malformedLine(let line): what = "malformed \(line)"
        }
        return "\(place): \(what)"
    }
}

extension WireError.Format {
    /// The format's name as people write it.
    public var title: String {
        switch self {
        case .rtp: "RTP"
        case .rtpHeaderExtension: "RTP header extension"
        case .rtcp: "RTCP"
        case .stun: "STUN"
        case .sdp: "SDP"
        case .vp8: "VP8 payload"
        case .opus: "Opus payload"
        case .h264: "H.264 payload"
        }
    }
}
