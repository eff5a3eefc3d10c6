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
        #expect(throws: TokenError.malformed("exp must be a NumericDate")) { try Self.verifier.verify(sign(#"{"sub":"a","room":"r","exp":true}"#), now: 0) }
        #expect(throws: TokenError.invalidName(claim: "sub", .empty)) { try Self.verifier.verify(sign(#"{"sub":"","room":"r","exp":10}"#), now: 0) }
        #expect(throws: TokenError.malformed("sub must be a string")) { try Self.verifier.verify(sign(#"{"sub":7,"room":"r","exp":10}"#), now: 0) }
        let numericGrant = try Self.verifier.verify(sign(#"{"sub":"a","room":"r","exp":10,"grants":{"admin":1}}"#), now: 0)
        #expect(numericGrant.grants.admin == false)
    }

    static func sign(_ claims: String) -> String {
        let input = Base64.encodeURL(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)) + "." + Base64.encodeURL(Array(claims.utf8))
        return input + "." + Base64.encodeURL(MediaCryptoBridge.hmac(Self.secret, input))
    }

    /// An admin token without a `room` claim is refused: every-room tokens say `"room": ""`
    /// (issue 16, finding 7), and such a token still verifies.
    @Test func theRoomClaimIsRequired() throws {
        #expect(throws: TokenError.malformed(#"room must be a string ("" for every room, admin tokens only)"#)) {
            try Self.verifier.verify(Self.sign(#"{"sub":"ops","exp":100,"grants":{"admin":true}}"#), now: 0)
        }
        let everyRoom = try Self.verifier.verify(Self.sign(#"{"sub":"ops","room":"","exp":100,"grants":{"admin":true}}"#), now: 0)
        #expect(everyRoom.room == "" && everyRoom.grants.admin)
    }

    /// A lifetime (exp − nbf, or exp − now without nbf) past the cap is refused, however far
    /// off `exp` is (issue 16, finding 8: `exp` 9.9e14 was accepted); up to the cap is fine.
    @Test func lifetimesAreCapped() throws {
        let verifier = TokenVerifier(secret: Self.secret, maximumLifetime: 3600)
        #expect(throws: TokenError.lifetimeTooLong(seconds: 990_000_000_000_000 - 1000, limit: 3600)) {
            try verifier.verify(Self.sign(#"{"sub":"a","room":"r","nbf":1000,"exp":990000000000000}"#), now: 1000)
        }
        #expect(throws: TokenError.lifetimeTooLong(seconds: 3601, limit: 3600)) {
            try verifier.verify(Self.sign(#"{"sub":"a","room":"r","exp":4601}"#), now: 1000)
        }
        #expect(try verifier.verify(Self.sign(#"{"sub":"a","room":"r","nbf":1000,"exp":4600}"#), now: 1000).expires == 4600)
        #expect(TokenVerifier.defaultMaximumLifetime == 7 * 86_400)
    }

    /// Room and identity claims follow the name rule (issue 16, finding 4); display names lose
    /// their control and bidi characters.
    @Test(arguments: [
        (#"{"sub":"b/c","room":"a","exp":10}"#, TokenError.invalidName(claim: "sub", .character("/", at: 1))),
        (#"{"sub":"c","room":"a/b","exp":10}"#, TokenError.invalidName(claim: "room", .character("/", at: 1))),
        (#"{"sub":"c","room":"a\u0000b","exp":10}"#, TokenError.invalidName(claim: "room", .character("\u{0}", at: 1))),
        (#"{"sub":"c","room":"a\r\nb","exp":10}"#, TokenError.invalidName(claim: "room", .character("\r", at: 1))),
        (#"{"sub":"x\u202Ey","room":"a","exp":10}"#, TokenError.invalidName(claim: "sub", .character("\u{202E}", at: 1))),
        (#"{"sub":"c","room":""# + String(repeating: "r", count: 2000) + #"","exp":10}"#, TokenError.invalidName(claim: "room", .tooLong(bytes: 2000))),
    ] as [(String, TokenError)])
    func namesFollowTheRule(claims: String, error: TokenError) {
        #expect(throws: error) { try Self.verifier.verify(Self.sign(claims), now: 0) }
    }

    @Test func displayNamesAreCleaned() throws {
        let t = try Self.verifier.verify(Self.sign(#"{"sub":"li","room":"应急","name":" 李\u202E四\u0007\n ","exp":10}"#), now: 0)
        #expect(t.name == "李四" && t.room == "应急")
    }
}

import MediaCrypto
enum MediaCryptoBridge {
    static func hmac(_ key: [UInt8], _ input: String) -> [UInt8] { HMAC.authenticate(.sha256, key: key, message: Array(input.utf8)) }
}
