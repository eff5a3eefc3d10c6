import AudioTranscoding
import MediaWire
import SFU
import Signaling

/// A `POST /api/v1/rooms/{room}/ingress` body, checked (docs/api.md, "Ingress"): a plain-RTP
/// source's identity, display name, kind, free metadata and what it sends on its one port,
/// each medium by payload type. Pure: parsing and validation only.
public struct IngressRequest: Equatable, Sendable {
    /// What the source is, as the room lists it.
    public enum Kind: String, Sendable, CaseIterable { case drone, camera, encoder }

    /// One medium the sender puts on the port.
    public struct Medium: Equatable, Sendable {
        /// What the track is forwarded in (Opus for G.711 audio, which is transcoded).
        public var codec: MediaCodec
        public var payloadType: UInt8
        /// G.711 audio as it arrives: decoded and encoded to Opus off the media thread.
        public var g711: G711? = nil
        /// H.264's `profile-level-id` (RFC 6184 §8.1) as offered to viewers.
        public var profileLevelID: String?
    }

    public var identity: String
    public var name: String
    public var kind: Kind
    /// The `metadata` object, as JSON text (the participant's metadata).
    public var metadata: String
    public var video: Medium?
    public var audio: Medium?
    /// The sender protects its packets with SRTP (RFC 3711, AES_CM_128_HMAC_SHA1_80) under a
    /// key the server makes and answers, SDES style (RFC 4568 §6.1 `inline:` key).
    public var srtp = false

    /// Why a body was refused: a stable code and a sentence (400 unless `status` says otherwise).
    public struct Invalid: Error, Equatable, Sendable {
        public let code: String
        public let message: String
        init(_ code: String, _ message: String) {
            self.code = code
            self.message = message
        }
    }

    /// Metadata larger than this is refused (it is pushed to everyone in the room).
    public static let maximumMetadataBytes = 16 * 1024

    public static func parse(_ body: [UInt8]) throws(Invalid) -> IngressRequest {
        let parsed: JSONValue
        do throws(JSONReader.Error) { parsed = try JSONValue.parse(body) } catch {
            throw Invalid("invalid_json", "body is not JSON: \(error)")
        }
        guard let object = parsed.object else { throw Invalid("invalid_json", "body is not a JSON object") }
        let known: Set<String> = ["identity", "name", "kind", "metadata", "video", "audio", "srtp"]
        if object["url"] != nil { throw Invalid("unsupported", "url: pulling RTSP is not supported yet; push plain RTP to the port this returns") }
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) { throw Invalid("invalid_request", "unknown field \(unknown)") }
        guard let identity = object["identity"]?.string else { throw Invalid("invalid_request", "identity must be a string") }
        do throws(NameRule.Violation) { try NameRule.check(identity) } catch { throw Invalid("invalid_name", "the identity \(error)") }
        var name = identity
        if let v = object["name"] {
            guard let s = v.string, s.utf8.count <= 256 else { throw Invalid("invalid_request", "name must be a string of at most 256 bytes") }
            name = NameRule.cleanDisplayName(s)
            if name.isEmpty { name = identity }
        }
        guard let kindText = object["kind"]?.string, let kind = Kind(rawValue: kindText) else {
            throw Invalid("invalid_request", "kind must be one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var metadata = ""
        if let v = object["metadata"], !v.isNull {
            guard v.object != nil else { throw Invalid("invalid_request", "metadata must be a JSON object") }
            metadata = JSONWriter.encode(v)
            guard metadata.utf8.count <= maximumMetadataBytes else { throw Invalid("invalid_request", "metadata over \(maximumMetadataBytes) bytes") }
        }
        let video = try medium(object["video"], "video", allowed: [.vp8, .h264])
        let audio = try medium(object["audio"], "audio", allowed: [.opus], g711: true)
        guard video != nil || audio != nil else { throw Invalid("invalid_request", "give video, audio or both") }
        if let v = video, let a = audio, v.payloadType == a.payloadType {
            throw Invalid("payload_type_clash", "video and audio both use payload type \(v.payloadType); the port tells them apart by it")
        }
        var srtp = false
        if let v = object["srtp"] {
            guard let b = v.bool else { throw Invalid("invalid_request", "srtp must be a boolean") }
            srtp = b
        }
        return IngressRequest(identity: identity, name: name, kind: kind, metadata: metadata, video: video, audio: audio, srtp: srtp)
    }

    static func medium(_ value: JSONValue?, _ field: String, allowed: [MediaCodec], g711 allowG711: Bool = false) throws(Invalid) -> Medium? {
        guard let value, !value.isNull else { return nil }
        guard let object = value.object else { throw Invalid("invalid_request", "\(field) must be an object with codec and payloadType") }
        guard let name = object["codec"]?.string else { throw Invalid("invalid_request", "\(field).codec must be a string") }
        let law = allowG711 ? G711.allCases.first { $0.rawValue.lowercased() == name.lowercased() } : nil
        let codec = law != nil ? MediaCodec.opus : allowed.first { $0.encodingName.lowercased() == name.lowercased() }
        guard let codec else {
            let names = allowed.map(\.encodingName) + (allowG711 ? G711.allCases.map(\.rawValue) : [])
            throw Invalid("unsupported_codec", "\(field).codec \(name) is not one of \(names.joined(separator: ", "))")
        }
        // RFC 3551 §6: 96–127 are the dynamic types a sender is told (G.711 may also keep its
        // static 0 or 8); RTCP's 64–95 would be mistaken for RTCP on an rtcp-mux port (RFC 5761 §4).
        guard let pt = object["payloadType"]?.integer, (96...127).contains(pt) || (law.map { Int($0.staticPayloadType) == pt } ?? false) else {
            throw Invalid("invalid_request", "\(field).payloadType must be an integer from 96 to 127\(law.map { " or \($0.staticPayloadType) for \($0.rawValue)" } ?? "")")
        }
        var profile: String? = nil
        if let v = object["profileLevelId"] {
            guard codec == .h264, let s = v.string, H264ProfileLevelID(s) != nil else {
                throw Invalid("invalid_request", "\(field).profileLevelId must be a known profile-level-id (six hex digits), for H.264 only")
            }
            profile = s.lowercased()
        }
        if let unknown = object.keys.sorted().first(where: { !["codec", "payloadType", "profileLevelId"].contains($0) }) {
            throw Invalid("invalid_request", "unknown field \(field).\(unknown)")
        }
        return Medium(codec: codec, payloadType: UInt8(pt), g711: law, profileLevelID: profile)
    }
}
