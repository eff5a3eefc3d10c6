import Foundation
import HTTP
import MediaCrypto

/// The `Authorization` an RTSP client sends after a 401 (RFC 2326 §D.2 defers to HTTP
/// authentication): Basic (RFC 7617) or Digest (RFC 2617 §3.2.2, MD5, with or without
/// `qop=auth`), from the server's `WWW-Authenticate` challenge. Pure: the caller gives the
/// client nonce and count.
public enum RTSPAuthentication {
    public struct Challenge: Equatable, Sendable {
        public enum Scheme: Equatable, Sendable { case basic, digest }
        public var scheme: Scheme
        public var realm: String
        public var nonce: String
        public var qop: String?
        public var opaque: String?
    }

    /// Reads a `WWW-Authenticate` value; nil for a scheme or algorithm we do not speak.
    public static func challenge(_ header: String) -> Challenge? {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(of: " ") else { return nil }
        let scheme = trimmed[..<space].lowercased()
        var params: [String: String] = [:]
        var rest = Substring(trimmed[trimmed.index(after: space)...])
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let eq = rest.firstIndex(of: "=") else { break }
            let key = rest[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: eq)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                guard let close = rest.firstIndex(of: "\"") else { return nil }
                value = String(rest[..<close])
                rest = rest[rest.index(after: close)...]
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            params[key] = value
        }
        switch scheme {
        case "basic":
            return Challenge(scheme: .basic, realm: params["realm"] ?? "", nonce: "", qop: nil, opaque: nil)
        case "digest":
            guard let realm = params["realm"], let nonce = params["nonce"], (params["algorithm"] ?? "MD5").uppercased() == "MD5" else { return nil }
            let qop = params["qop"].flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.contains("auth") ? "auth" : nil }
            return Challenge(scheme: .digest, realm: realm, nonce: nonce, qop: qop, opaque: params["opaque"])
        default:
            return nil
        }
    }

    static func md5Hex(_ text: String) -> String { HexText.lowercase(Digest.hash(.md5, Array(text.utf8))) }

    /// The Digest `response` value (RFC 2617 §3.2.2.1).
    public static func digestResponse(user: String, password: String, realm: String, nonce: String, method: String, uri: String,
                                      qop: String?, nonceCount: String, clientNonce: String) -> String {
        let ha1 = md5Hex("\(user):\(realm):\(password)"), ha2 = md5Hex("\(method):\(uri)")
        if let qop { return md5Hex("\(ha1):\(nonce):\(nonceCount):\(clientNonce):\(qop):\(ha2)") }
        return md5Hex("\(ha1):\(nonce):\(ha2)")
    }

    /// The `Authorization` header value answering `challenge` for one request.
    public static func authorization(_ challenge: Challenge, user: String, password: String, method: String, uri: String,
                                     nonceCount: Int, clientNonce: String) -> String {
        switch challenge.scheme {
        case .basic:
            return "Basic " + Base64.encode(Array("\(user):\(password)".utf8))
        case .digest:
            let nc = String(repeating: "0", count: max(0, 8 - String(nonceCount, radix: 16).count)) + String(nonceCount, radix: 16)
            let response = digestResponse(user: user, password: password, realm: challenge.realm, nonce: challenge.nonce, method: method,
                                          uri: uri, qop: challenge.qop, nonceCount: nc, clientNonce: clientNonce)
            var v = "Digest username=\"\(user)\", realm=\"\(challenge.realm)\", nonce=\"\(challenge.nonce)\", uri=\"\(uri)\", response=\"\(response)\""
            if let qop = challenge.qop { v += ", qop=\(qop), nc=\(nc), cnonce=\"\(clientNonce)\"" }
            if let opaque = challenge.opaque { v += ", opaque=\"\(opaque)\"" }
            return v
        }
    }
}
