/// A participant's published track as the room state shows it (the media plane fills these in).
public struct TrackInfo: Equatable, Sendable {
    public var sid: String
    public var kind: String
    /// `camera`, `microphone`, `screen` or `screen_audio`.
    public var source: String
    /// As `a=rtpmap` names it: `opus`, `VP8`, `H264`.
    public var codec: String
    public var muted: Bool

    public init(sid: String, kind: String, source: String, codec: String, muted: Bool = false) {
        self.sid = sid
        self.kind = kind
        self.source = source
        self.codec = codec
        self.muted = muted
    }

    public var json: [String: Any] { ["sid": sid, "kind": kind, "source": source, "codec": codec, "muted": muted] }
}

/// One participant of a room. `session` is the signaling connection it is bound to.
///
/// Its JSON (`encoded`) is kept up to date as fields change, because every `joined` message
/// lists the whole room: re-encoding each participant on each join made a 1,000-viewer join
/// storm quadratic in JSON work.
public struct Participant: Equatable, Sendable {
    public var sid: String { didSet { encode() } }
    public var identity: String { didSet { encode() } }
    public var name: String { didSet { encode() } }
    public var metadata: String { didSet { encode() } }
    public var grants: Grants { didSet { encode() } }
    /// Unix seconds.
    public var joinedAt: Int64 { didSet { encode() } }
    public var tracks: [TrackInfo] { didSet { encode() } }
    /// What joined: `standard` (a WebSocket client), `whip` (a WHIP publisher), or an
    /// ingested source's kind (`drone`, `camera`, `encoder`).
    public var kind: String { didSet { encode() } }
    public var session: SessionID
    /// `json`, serialised: kept for the stage, whose entries go into every `joined` list; an
    /// audience member's is written when asked for (it is listed to the stage only, once per
    /// stage join), and keeping it was ~220 bytes per viewer (massif, 1 → 300).
    private var cachedEncoding: JSONWriter.Fragment? = nil
    public var encoded: JSONWriter.Fragment { cachedEncoding ?? JSONWriter.Fragment(JSONWriter.encode(json)) }

    init(sid: String, identity: String, name: String, metadata: String, grants: Grants, joinedAt: Int64, tracks: [TrackInfo], session: SessionID,
         kind: String = "standard") {
        self.sid = sid
        self.kind = kind
        self.identity = identity
        self.name = name
        self.metadata = metadata
        self.grants = grants
        self.joinedAt = joinedAt
        self.tracks = tracks
        self.session = session
        encode()
    }

    var json: [String: Any] {
        ["sid": sid, "identity": identity, "name": name, "metadata": metadata, "joinedAt": joinedAt, "kind": kind,
         "permissions": ["publish": grants.publish, "subscribe": grants.subscribe, "admin": grants.admin, "record": grants.record],
         "tracks": tracks.map(\.json)]
    }

    private mutating func encode() { cachedEncoding = isOnStage ? JSONWriter.Fragment(JSONWriter.encode(json)) : nil }

    /// On the stage: may publish or administer the room. The stage is listed to, and hears about,
    /// everyone; the audience (everyone else) is listed to and announced to the stage only
    /// (docs/signaling.md §3, "Who sees whom").
    public var isOnStage: Bool { grants.publish || grants.admin }

    /// Whether this participant is told about `other`: its `joined` list names it, and it gets
    /// `other`'s joined, updated and left notices. Audience members do not see each other, as
    /// in LiveKit's livestream mode and Jitsi's visitors: in a 1,000-viewer briefing, listing
    /// every viewer to every viewer is a million notices.
    public func sees(_ other: Participant) -> Bool { isOnStage || other.isOnStage || other.session == session }
}

/// Identifies one signaling connection (assigned by the server loop).
public typealias SessionID = Int

/// A room: created on first join (or by the REST API), closed `emptyTimeout` seconds after its
/// last participant leaves.
public struct Room: Sendable {
    public var name: String
    public var sid: String
    public var createdAt: Int64
    public var maxParticipants: Int
    public var emptyTimeout: Int
    public var metadata: String
    /// In join order (identity → participant kept as an ordered list for stable room state).
    public var participants: [Participant] = []
    /// Monotonic time (ns) at which the room became empty.
    var emptySince: UInt64?
    /// Its metadata and its participants' together (RoomRegistry.Options.maxRoomMetadataBytes).
    var metadataBytes = 0

    public func participant(_ identity: String) -> Participant? { participants.first { $0.identity == identity } }

    var json: [String: Any] {
        ["name": name, "sid": sid, "createdAt": createdAt, "maxParticipants": maxParticipants, "emptyTimeout": emptyTimeout,
         "metadata": metadata, "numParticipants": participants.count]
    }
}
