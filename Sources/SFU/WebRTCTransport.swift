import MediaCrypto
import MediaWire

/// One peer connection's transport on the shared UDP port: ICE-lite agent, DTLS association and,
/// once DTLS is up, the SRTP contexts (inbound with the peer's keys, outbound with ours).
public final class WebRTCTransport {
    public typealias ID = Int

    public let id: ID
    public let ice: ICELiteAgent
    /// Its DTLS association; nil once DTLS has nothing left to do: the association released and
    /// its kept final flight dropped (`MediaRouter.releaseAssociations`). The released object
    /// kept 128 bytes per viewer for as long as it watched (massif, 1 → 300).
    public private(set) var dtls: DTLSTransport?
    public internal(set) var media: [MediaSection]
    public private(set) var inbound: SRTPContext?
    public private(set) var outbound: SRTPContext?
    /// The tracks this transport publishes (MediaRouter.publish), found by payload type per packet.
    var publishedTracks: [MediaRouter.Track] = []
    /// The streams this transport receives as a viewer (MediaRouter.Subscription).
    var subscriptions = SubscriptionList()
    /// Its subscriptions as plain objects, for memory probes (sfu-bench --layout).
    public var subscriptionObjects: [AnyObject] { subscriptions.map { $0 } }
    /// Addresses the router routes to this transport (MediaRouter.route), for its removal.
    var mappedAddresses = AddressList()
    /// When DTLS completed (for dropping the kept final flight and releasing publishers'
    /// associations, MediaRouter.releaseAssociations).
    var connectedAt: UInt64? = nil
    /// The peer's RTCP BYE for all it publishes was seen (reported once). Declared here, in
    /// `connectedAt`'s padding: the transport is a 160-byte chunk, not 176.
    var saidGoodbye = false
    /// When the peer last sent a DTLS datagram (the same).
    var lastDTLSAt: UInt64 = 0

    init(id: ID, ice: ICELiteAgent, dtls: DTLSTransport, media: [MediaSection]) {
        self.id = id
        self.ice = ice
        self.dtls = dtls
        self.media = media
    }

    public var isConnected: Bool { inbound != nil }
    public var destination: TransportAddress? { ice.selected }

    /// SRTP contexts from the handshake's keys, taking turns in the router's cipher contexts.
    func dtlsConnected(_ keys: DTLSTransport.SRTPKeys, sharing shared: SRTPCipherContexts) {
        inbound = SRTPContext(profile: keys.profile, masterKey: keys.remoteKey, masterSalt: keys.remoteSalt, sharing: shared)
        outbound = SRTPContext(profile: keys.profile, masterKey: keys.localKey, masterSalt: keys.localSalt, sharing: shared)
    }

    /// DTLS is over for good (released, final flight no longer needed): drop what is left of it.
    func dtlsFinished() { dtls = nil }

    /// The track whose stream `ssrc` is (`MediaRouter.bindStream` binds a new one).
    @inline(__always)
    func publishedTrack(ssrc: UInt32) -> MediaRouter.Track? {
        for t in publishedTracks where t.ssrc == ssrc { return t }
        return nil
    }

    /// The negotiated section for an incoming payload type.
    func media(forPayloadType pt: UInt8) -> MediaSection? { media.first { $0.payloadType == pt } }
}
