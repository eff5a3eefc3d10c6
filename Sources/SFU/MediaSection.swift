import MediaCrypto

/// One negotiated media section of a peer connection, as the media graph needs it. No SDP: the
/// control plane turns SDP into these (as mediasoup's worker sees RtpParameters, never SDP).
public struct MediaSection: Sendable, Hashable {
    /// Which way media flows on it, seen from the server.
    public enum Direction: Sendable, Hashable {
        /// The peer sends, we receive (a publisher's section).
        case receiving
        /// We send, the peer receives (a viewer's section).
        case sending
        case inactive
    }

    /// The header extension carrying a section's BUNDLE mid (RFC 8843 §15).
    public static let midExtensionURI = "urn:ietf:params:rtp-hdrext:sdes:mid"

    public var mid: String
    public var codec: MediaCodec
    public var payloadType: UInt8
    /// Extension ID by URI, as the peer's offer numbered them.
    public var extensions: [String: UInt16]
    /// SSRCs the peer announced for what it sends, if any.
    public var remoteSSRCs: [UInt32]
    public var direction: Direction
    /// The format's parameters (H.264: profile-level-id, packetization-mode).
    public var formatParameters: String
    /// Sending: the SSRC of the outbound track this section carries.
    public var outboundSSRC: UInt32?

    public var kind: MediaKind { codec.kind }
    public var clockRate: UInt32 { codec.clockRate }

    public init(mid: String, codec: MediaCodec, payloadType: UInt8, extensions: [String: UInt16] = [:], remoteSSRCs: [UInt32] = [],
                direction: Direction, formatParameters: String = "", outboundSSRC: UInt32? = nil) {
        self.mid = mid
        self.codec = codec
        self.payloadType = payloadType
        self.extensions = extensions
        self.remoteSSRCs = remoteSSRCs
        self.direction = direction
        self.formatParameters = formatParameters
        self.outboundSSRC = outboundSSRC
    }
}

/// What a transport needs of a negotiated peer connection: the peer's ICE ufrag and certificate
/// fingerprint, our DTLS role, and its sections.
public struct TransportParameters: Sendable {
    public var remoteUfrag: String
    public var remoteFingerprint: [UInt8]
    public var dtlsRole: DTLSTransport.Role
    public var media: [MediaSection]

    public init(remoteUfrag: String, remoteFingerprint: [UInt8], dtlsRole: DTLSTransport.Role, media: [MediaSection]) {
        self.remoteUfrag = remoteUfrag
        self.remoteFingerprint = remoteFingerprint
        self.dtlsRole = dtlsRole
        self.media = media
    }
}
