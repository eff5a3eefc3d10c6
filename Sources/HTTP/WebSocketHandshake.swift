import MediaCrypto

/// The opening handshake, server side (RFC 6455 §4.2).
public enum WebSocketHandshake {
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// Sec-WebSocket-Accept for a client key: base64(SHA-1(key + GUID)) (§4.2.2 step 5.4).
    public static func acceptValue(forKey key: String) -> String {
        Base64.encode(Digest.hash(.sha1, Array((key + guid).utf8)))
    }

    /// Whether the request asks for a WebSocket upgrade at all (Upgrade: websocket).
    public static func isUpgradeRequest(_ request: HTTPRequest) -> Bool {
        request.headers.tokens("Upgrade").contains("websocket")
    }

    /// Validates an upgrade request (§4.2.1) and returns the 101 response, or the error response
    /// to send instead (400, or 426 with the supported version for a wrong version).
    public static func response(to request: HTTPRequest) -> Result<HTTPResponse, HTTPError> {
        guard request.method == "GET", request.minorVersion >= 1 else { return .failure(.badRequest("WebSocket upgrade must be GET over HTTP/1.1")) }
        guard isUpgradeRequest(request) else { return .failure(.badRequest("missing Upgrade: websocket")) }
        guard request.headers.tokens("Connection").contains("upgrade") else { return .failure(.badRequest("missing Connection: Upgrade")) }
        guard request.headers["Sec-WebSocket-Version"]?.trimmingSpaces == "13" else {
            return .failure(HTTPError(426, "unsupported WebSocket version (supported: 13)"))
        }
        guard let key = request.headers["Sec-WebSocket-Key"]?.trimmingSpaces, Base64.decode(key)?.count == 16 else {
            return .failure(.badRequest("Sec-WebSocket-Key must be 16 bytes in base64"))
        }
        return .success(HTTPResponse(status: 101, headers: HTTPHeaders([
            ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", acceptValue(forKey: key)),
        ])))
    }
}
