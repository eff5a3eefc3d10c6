/// A request from a client over the signaling WebSocket (docs/signaling.md). Every message is a
/// JSON object with a `type` and an optional request `id` that the answer echoes.
public enum ClientMessage: Equatable, Sendable {
    case ping(id: String?)
    case updateMetadata(id: String?, metadata: String?, name: String?)
    case mute(id: String?, trackSid: String, muted: Bool)
    case leave(id: String?)
    case kick(id: String?, identity: String, reason: String?)
    /// SDP offer/answer and trickle for the publisher or subscriber peer connection (media issue).
    /// `sources`: what each publisher section (by mid) carries, `TrackSource`'s names.
    case offer(id: String?, target: PeerTarget, sdp: String, sources: [String: String] = [:])
    case answer(id: String?, target: PeerTarget, sdp: String)
    case trickle(id: String?, target: PeerTarget, candidate: String)

    public enum PeerTarget: String, Sendable { case publisher, subscriber }

    /// Largest message accepted (an SDP offer with simulcast is ~10 KiB).
    public static let maximumBytes = 256 * 1024
    static let maximumMetadataBytes = 64 * 1024
    /// The track sources an offer may name (the SFU's `TrackSource`), and how many at most.
    public static let trackSources: Set<String> = ["microphone", "camera", "screen", "screen_audio"]
    static let maximumSources = 16

    public var id: String? {
        switch self {
        case .ping(let id), .updateMetadata(let id, _, _), .mute(let id, _, _), .leave(let id), .kick(let id, _, _),
             .offer(let id, _, _, _), .answer(let id, _, _), .trickle(let id, _, _): id
        }
    }

    /// Decodes a message; errors say what is wrong (`code` is machine-readable).
    public static func decode(_ text: String) throws(SignalingError) -> ClientMessage {
        guard text.utf8.count <= maximumBytes else { throw SignalingError("message_too_large", "message over \(maximumBytes) bytes") }
        let parsed: JSONValue
        do throws(JSONReader.Error) { parsed = try JSONValue.parse(text) } catch {
            throw SignalingError("invalid_json", "message is not JSON: \(error)")
        }
        guard let object = parsed.object else { throw SignalingError("invalid_json", "message is not a JSON object") }
        var id: String? = nil
        if let rawID = object["id"] {
            guard let s = rawID.string, s.utf8.count <= 64 else { throw SignalingError("invalid_message", "id must be a string of at most 64 bytes") }
            id = s
        }
        guard let type = object["type"]?.string else { throw SignalingError("invalid_message", "missing type", id: id) }
        func string(_ key: String, max: Int = 1024) throws(SignalingError) -> String {
            guard let v = object[key]?.string else { throw SignalingError("invalid_message", "\(type): \(key) must be a string", id: id) }
            guard v.utf8.count <= max else { throw SignalingError("invalid_message", "\(type): \(key) longer than \(max) bytes", id: id) }
            return v
        }
        func optionalString(_ key: String, max: Int) throws(SignalingError) -> String? {
            guard let v = object[key], !v.isNull else { return nil }
            return try string(key, max: max)
        }
        func target() throws(SignalingError) -> PeerTarget {
            guard let t = PeerTarget(rawValue: try string("target")) else {
                throw SignalingError("invalid_message", "\(type): target must be publisher or subscriber", id: id)
            }
            return t
        }
        switch type {
        case "ping": return .ping(id: id)
        case "update_metadata":
            let metadata = try optionalString("metadata", max: maximumMetadataBytes)
            let name = try optionalString("name", max: 256)
            guard metadata != nil || name != nil else { throw SignalingError("invalid_message", "update_metadata needs metadata or name", id: id) }
            return .updateMetadata(id: id, metadata: metadata, name: name)
        case "mute":
            guard let muted = object["muted"]?.bool else { throw SignalingError("invalid_message", "mute: muted must be a boolean", id: id) }
            return .mute(id: id, trackSid: try string("track", max: 64), muted: muted)
        case "leave": return .leave(id: id)
        case "kick": return .kick(id: id, identity: try string("identity", max: 256), reason: try optionalString("reason", max: 256))
        case "offer":
            var sources: [String: String] = [:]
            if let raw = object["sources"], !raw.isNull {
                guard let entries = raw.object, entries.count <= maximumSources else {
                    throw SignalingError("invalid_message", "offer: sources must be an object of at most \(maximumSources) mids", id: id)
                }
                for (mid, value) in entries {
                    guard mid.utf8.count <= 64, let source = value.string, trackSources.contains(source) else {
                        throw SignalingError("invalid_message", "offer: sources maps a mid to one of \(trackSources.sorted().joined(separator: ", "))", id: id)
                    }
                    sources[mid] = source
                }
            }
            return .offer(id: id, target: try target(), sdp: try string("sdp", max: maximumBytes), sources: sources)
        case "answer": return .answer(id: id, target: try target(), sdp: try string("sdp", max: maximumBytes))
        case "trickle": return .trickle(id: id, target: try target(), candidate: try string("candidate", max: 1024))
        default: throw SignalingError("unknown_type", "unknown message type \(type)", id: id)
        }
    }
}

/// An error answered to a client: `{"type":"error","id":...,"code":...,"message":...}`.
public struct SignalingError: Error, Equatable, Sendable {
    public let code: String
    public let message: String
    public let id: String?

    public init(_ code: String, _ message: String, id: String? = nil) {
        self.code = code
        self.message = message
        self.id = id
    }

    public var json: String {
        var o: [String: Any] = ["type": "error", "code": code, "message": message]
        if let id { o["id"] = id }
        return JSONWriter.encode(o)
    }
}
