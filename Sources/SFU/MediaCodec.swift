import MediaWire

/// What a track carries. An enum, not the SDP string: code switches on it (`MediaDescription`
/// keeps the string it read; `MediaKind(sdp:)` turns one into the other).
public enum MediaKind: String, Sendable, Hashable, CaseIterable {
    case audio, video

    /// The kind of an SDP m-line's media ("audio", "video"); nil for others ("application").
    public init?(sdp: String) { self.init(rawValue: sdp) }

    /// What a track of this kind is sent in when nothing else is said (WebRTC's mandatory codecs).
    public var defaultCodec: MediaCodec { self == .audio ? .opus : .vp8 }
}

/// The codecs the SFU forwards, and what the packet path needs of each: its kind, clock rate
/// and where a decoder can start (keyframe detection for new viewers, mute-resume and PLI all
/// go through here, not through the kind).
public enum MediaCodec: UInt8, Sendable, Hashable, CaseIterable {
    /// RFC 7587.
    case opus
    /// RFC 7741.
    case vp8
    /// RFC 6184, packetization-mode 1.
    case h264

    public var isVideo: Bool { self != .opus }
    public var kind: MediaKind { isVideo ? .video : .audio }
    public var clockRate: UInt32 { self == .opus ? 48000 : 90000 }
    /// As `a=rtpmap` names it.
    public var encodingName: String {
        switch self {
        case .opus: "opus"
        case .vp8: "VP8"
        case .h264: "H264"
        }
    }

    /// The codec an `a=rtpmap` names, if the SFU forwards it.
    public init?(encodingName: String, clockRate: UInt32) {
        switch (encodingName.lowercased(), clockRate) {
        case ("opus", 48000): self = .opus
        case ("vp8", 90000): self = .vp8
        case ("h264", 90000): self = .h264
        default: return nil
        }
    }

    /// Whether a payload of this codec starts a picture a decoder can begin with.
    @inline(__always)
    public func isKeyFrameStart(_ payload: UnsafeRawBufferPointer) -> Bool {
        switch self {
        case .opus: false
        case .vp8: VP8PayloadDescriptor.isKeyFrameStart(payload)
        case .h264: H264Payload.isKeyFrameStart(payload)
        }
    }

    /// Whether an offered format with these parameters can be forwarded: H.264 in
    /// packetization-mode 1 with a profile we know (RFC 6184 §8.1; what browsers send).
    public static func accepts(_ codec: MediaCodec, formatParameters: String) -> Bool {
        guard codec == .h264 else { return true }
        return H264ProfileLevelID.packetizationMode(fmtp: formatParameters) == 1 && H264ProfileLevelID.from(fmtp: formatParameters) != nil
    }

    /// Whether `offered` parameters can carry a stream sent with `sent` ones: for H.264 the same
    /// profile and packetization-mode 1 (RFC 6184 §8.2.2: the level may differ).
    public static func compatible(_ codec: MediaCodec, offered: String, sent: String) -> Bool {
        guard codec == .h264 else { return true }
        guard accepts(.h264, formatParameters: offered), let a = H264ProfileLevelID.from(fmtp: offered),
              let b = H264ProfileLevelID.from(fmtp: sent) else { return false }
        return a.matches(b)
    }
}
