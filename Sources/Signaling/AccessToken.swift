import Foundation
import HTTP
import MediaCrypto

/// What a participant may do in its room (LiveKit-style video grants).
public struct Grants: Equatable, Sendable, Codable {
    public var publish: Bool
    public var subscribe: Bool
    public var admin: Bool
    public var record: Bool

    public init(publish: Bool = false, subscribe: Bool = false, admin: Bool = false, record: Bool = false) {
        self.publish = publish
        self.subscribe = subscribe
        self.admin = admin
        self.record = record
    }
}

/// The claims of a Shihui access token: a JWT (RFC 7519) signed with HS256 (RFC 7518 §3.2).
///
/// `sub` is the participant identity, `room` the room it may join (empty for server-wide admin
/// tokens used by the REST API), `exp`/`nbf` NumericDates (seconds since the epoch).
public struct AccessToken: Equatable, Sendable {
    public var identity: String
    public var name: String
    public var room: String
    public var grants: Grants
    public var notBefore: Int64
    public var expires: Int64

    public init(identity: String, name: String = "", room: String, grants: Grants, notBefore: Int64, expires: Int64) {
        self.identity = identity
        self.name = name
        self.room = room
        self.grants = grants
        self.notBefore = notBefore
        self.expires = expires
    }

    /// Compact JWS: base64url(header) "." base64url(claims) "." base64url(HMAC-SHA256).
    public func signed(secret: [UInt8]) -> String {
        let header = #"{"alg":"HS256","typ":"JWT"}"#
        let claims: [String: Any] = [
            "sub": identity, "name": name, "room": room, "nbf": notBefore, "exp": expires,
            "grants": ["publish": grants.publish, "subscribe": grants.subscribe, "admin": grants.admin, "record": grants.record],
        ]
        let body = JSONWriter.encode(claims)
        let signingInput = Base64.encodeURL(Array(header.utf8)) + "." + Base64.encodeURL(Array(body.utf8))
        let mac = HMAC.authenticate(.sha256, key: secret, message: Array(signingInput.utf8))
        return signingInput + "." + Base64.encodeURL(mac)
    }
}

/// Why a token was refused; `code` is the machine-readable form sent to clients.
public enum TokenError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)
    case unsupportedAlgorithm(String)
    case badSignature
    case expired
    case notYetValid
    case wrongRoom(token: String, requested: String)
    case missingGrant(String)
    /// `sub` or `room` breaks the name rule (NameRule).
    case invalidName(claim: String, NameRule.Violation)
    /// `exp` lies further past `nbf` (or now) than the server allows.
    case lifetimeTooLong(seconds: Int64, limit: Int64)

    public var code: String {
        switch self {
        case .malformed: "token_malformed"
        case .unsupportedAlgorithm: "token_algorithm"
        case .badSignature: "token_signature"
        case .expired: "token_expired"
        case .notYetValid: "token_not_yet_valid"
        case .wrongRoom: "token_wrong_room"
        case .missingGrant: "permission_denied"
        case .invalidName: "token_invalid_name"
        case .lifetimeTooLong: "token_lifetime"
        }
    }

    public var description: String {
        switch self {
        case .malformed(let why): "malformed token: \(why)"
        case .unsupportedAlgorithm(let alg): "unsupported token algorithm \(alg) (only HS256)"
        case .badSignature: "token signature does not verify"
        case .expired: "token expired"
        case .notYetValid: "token not valid yet (nbf in the future)"
        case .wrongRoom(let token, let requested): "token is for room \"\(token)\", not \"\(requested)\""
        case .missingGrant(let grant): "token lacks the \(grant) grant"
        case .invalidName(let claim, let why): "the token's \(claim) \(why)"
        case .lifetimeTooLong(let seconds, let limit): "the token is valid for \(seconds) s; this server accepts at most \(limit) s"
        }
    }
}

/// Verifies tokens (RFC 7519 §7.2 with RFC 7515 §5.2): structure, `alg` = HS256 only (never
/// "none"), signature compared in constant time, then `nbf` ≤ now < `exp`, a lifetime within
/// the server's cap, and `sub` and `room` by the name rule (`room` is required: `""` names
/// every room, for server-wide admin tokens, and must be written out).
public struct TokenVerifier: Sendable {
    public static let maximumTokenBytes = 8192
    /// Default cap on `exp` − `nbf` (or − now without `nbf`): a week.
    public static let defaultMaximumLifetime: Int64 = 7 * 86_400
    public let secret: [UInt8]
    /// Tolerated clock difference for `nbf` and `exp`, in seconds.
    public let leeway: Int64
    public let maximumLifetime: Int64

    public init(secret: [UInt8], leeway: Int64 = 5, maximumLifetime: Int64 = TokenVerifier.defaultMaximumLifetime) {
        self.secret = secret
        self.leeway = leeway
        self.maximumLifetime = maximumLifetime
    }

    /// `now` is the wall clock in seconds since the epoch (injected for tests).
    public func verify(_ token: String, now: Int64) throws(TokenError) -> AccessToken {
        guard token.utf8.count <= Self.maximumTokenBytes else { throw .malformed("longer than \(Self.maximumTokenBytes) bytes") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("expected three dot-separated parts") }
        guard let headerBytes = Base64.decodeURL(parts[0]), let claimBytes = Base64.decodeURL(parts[1]),
              let signature = Base64.decodeURL(parts[2]) else { throw .malformed("invalid base64url") }
        guard let header = (try? JSONValue.parse(headerBytes))?.object else { throw .malformed("header is not a JSON object") }
        guard let alg = header["alg"]?.string else { throw .malformed("header has no alg") }
        guard alg == "HS256" else { throw .unsupportedAlgorithm(alg) }
        let expected = HMAC.authenticate(.sha256, key: secret, message: Array((parts[0] + "." + parts[1]).utf8))
        guard ConstantTime.equal(expected, signature) else { throw .badSignature }
        guard let claims = (try? JSONValue.parse(claimBytes))?.object else { throw .malformed("claims are not a JSON object") }
        guard let sub = claims["sub"]?.string else { throw .malformed("sub must be a string") }
        guard let room = claims["room"]?.string else { throw .malformed("room must be a string (\"\" for every room, admin tokens only)") }
        guard let exp = Self.numericDate(claims["exp"]) else { throw .malformed("exp must be a NumericDate") }
        let nbf = Self.numericDate(claims["nbf"]) ?? 0
        guard now < exp + leeway else { throw .expired }
        guard now + leeway >= nbf else { throw .notYetValid }
        let lifetime = exp - (nbf > 0 ? nbf : now)
        guard lifetime <= maximumLifetime else { throw .lifetimeTooLong(seconds: lifetime, limit: maximumLifetime) }
        do throws(NameRule.Violation) { try NameRule.check(sub) } catch { throw .invalidName(claim: "sub", error) }
        if !room.isEmpty {
            do throws(NameRule.Violation) { try NameRule.check(room) } catch { throw .invalidName(claim: "room", error) }
        }
        let g = claims["grants"]?.object ?? [:]
        func flag(_ k: String) -> Bool { g[k]?.bool ?? false }
        return AccessToken(identity: sub, name: NameRule.cleanDisplayName(claims["name"]?.string ?? ""), room: room,
                           grants: Grants(publish: flag("publish"), subscribe: flag("subscribe"), admin: flag("admin"), record: flag("record")),
                           notBefore: nbf, expires: exp)
    }

    private static func numericDate(_ v: JSONValue?) -> Int64? {
        guard case .number(let d)? = v, d.isFinite, d >= 0, d < 1e15 else { return nil }
        return Int64(d)
    }
}
