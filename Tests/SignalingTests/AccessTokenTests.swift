import Foundation
import Testing
import TestSupport
@testable import HTTP
@testable import Signaling

/// JWT HS256 tokens (RFC 7519, RFC 7515 compact serialisation, RFC 7518 §3.2).
struct AccessTokenTests {
    static let secret = Array("a-very-secret-test-key-0123456789".utf8)
    static let verifier = TokenVerifier(secret: secret, leeway: 5)

    static func token(room: String = "r1", nbf: Int64 = 1000, exp: Int64 = 2000, grants: Grants = Grants(publish: true, subscribe: true)) -> AccessToken {
        AccessToken(identity: "alice", name: "Alice", room: room, grants: grants, notBefore: nbf, expires: exp)
    }

    /// A signed token verifies and yields its claims.
    @Test func signAndVerify() throws {
        let jwt = Self.token().signed(secret: Self.secret)
        #expect(jwt.split(separator: ".").count == 3)
        #expect(try Self.verifier.verify(jwt, now: 1500) == Self.token())
    }

    /// RFC7519Section7_2 failures, each with its own reason.
    @Test func refusals() {
        let jwt = Self.token().signed(secret: Self.secret)
        #expect(throws: TokenError.expired) { try Self.verifier.verify(jwt, now: 2005) }
        #expect(throws: TokenError.notYetValid) { try Self.verifier.verify(jwt, now: 994) }
        #expect(throws: TokenError.badSignature) { try TokenVerifier(secret: Array("other".utf8)).verify(jwt, now: 1500) }
        var parts = jwt.split(separator: ".").map(String.init)
        parts[1] = Base64.encodeURL(Array(#"{"sub":"mallory","room":"r1","exp":2000,"grants":{"admin":true}}"#.utf8))
        #expect(throws: TokenError.badSignature) { try Self.verifier.verify(parts.joined(separator: "."), now: 1500) }
        #expect(throws: TokenError.malformed("expected three dot-separated parts")) { try Self.verifier.verify("a.b", now: 0) }
        #expect(throws: TokenError.malformed("invalid base64url")) { try Self.verifier.verify("a.b.c!", now: 0) }
        // alg "none" (RFC 7519 §6) is never accepted, with or without a signature.
        let none = Base64.encodeURL(Array(#"{"alg":"none"}"#.utf8)) + "." + parts[1] + "."
        #expect(throws: TokenError.unsupportedAlgorithm("none")) { try Self.verifier.verify(none, now: 1500) }
        let huge = String(repeating: "a", count: 9000)
        #expect(throws: TokenError.malformed("longer than 8192 bytes")) { try Self.verifier.verify(huge, now: 0) }
    }

    /// Claims with the wrong JSON types are refused (a number is not a grant, a boolean is not a date).
    @Test func claimTypes() throws {
        func sign(_ claims: String) -> String {
            let input = Base64.encodeURL(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)) + "." + Base64.encodeURL(Array(claims.utf8))
            return input + "." + Base64.encodeURL(MediaCryptoBridge.hmac(Self.secret, input))
        }
        #expect(throws: TokenError.malformed("exp must be a NumericDate")) { try Self.verifier.verify(sign(#"{"sub":"a","exp":true}"#), now: 0) }
        #expect(throws: TokenError.malformed("sub must be a non-empty string")) { try Self.verifier.verify(sign(#"{"sub":"","exp":10}"#), now: 0) }
        let numericGrant = try Self.verifier.verify(sign(#"{"sub":"a","exp":10,"grants":{"admin":1}}"#), now: 0)
        #expect(numericGrant.grants.admin == false)
    }
}

import MediaCrypto
enum MediaCryptoBridge {
    static func hmac(_ key: [UInt8], _ input: String) -> [UInt8] { HMAC.authenticate(.sha256, key: key, message: Array(input.utf8)) }
}
