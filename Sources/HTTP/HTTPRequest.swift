/// A parsed HTTP/1.1 request (RFC 9112 §3): request line, header fields and the decoded body.
public struct HTTPRequest: Equatable, Sendable {
    public var method: String
    /// The request-target as sent (origin-form: path and optional query).
    public var target: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(method: String, target: String, minorVersion: Int = 1, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.minorVersion = minorVersion
        self.headers = headers
        self.body = body
    }

    /// The path part of the target, percent-decoded (nil if the encoding is invalid).
    public var path: String? {
        let raw = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return PercentEncoding.decode(raw, plusIsSpace: false)
    }

    /// Path segments (decoded), e.g. "/api/v1/rooms/a%20b" → ["api", "v1", "rooms", "a b"].
    public var pathSegments: [String]? {
        let raw = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        var out: [String] = []
        for segment in raw.split(separator: "/") {
            guard let s = PercentEncoding.decode(segment, plusIsSpace: false) else { return nil }
            out.append(s)
        }
        return out
    }

    /// Query parameters (application/x-www-form-urlencoded rules: "+" is a space), in order.
    public var queryItems: [(name: String, value: String)] {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return [] }
        return parts[1].split(separator: "&").compactMap { item in
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = PercentEncoding.decode(kv[0], plusIsSpace: true) else { return nil }
            let value = kv.count == 2 ? PercentEncoding.decode(kv[1], plusIsSpace: true) : ""
            return value.map { (name, $0) }
        }
    }

    public func query(_ name: String) -> String? { queryItems.first { $0.name == name }?.value }

    /// Whether the connection stays open after this exchange (RFC 9112 §9.3).
    public var keepAlive: Bool {
        let connection = headers.tokens("Connection")
        if connection.contains("close") { return false }
        return minorVersion >= 1 || connection.contains("keep-alive")
    }
}

/// Percent-decoding of URI components (RFC 3986 §2.1).
public enum PercentEncoding {
    /// Decodes %XX escapes (and "+" when `plusIsSpace`); nil for a bad escape or invalid UTF-8.
    public static func decode(_ s: some StringProtocol, plusIsSpace: Bool) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        var it = s.utf8.makeIterator()
        while let b = it.next() {
            if b == UInt8(ascii: "%") {
                guard let h = it.next(), let l = it.next(), let hv = hexValue(h), let lv = hexValue(l) else { return nil }
                out.append(hv << 4 | lv)
            } else if plusIsSpace && b == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else {
                out.append(b)
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    /// Encodes everything but RFC 3986 unreserved characters.
    public static func encode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E {
                out.unicodeScalars.append(UnicodeScalar(b))
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 0xF)]], as: UTF8.self)
            }
        }
        return out
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }
}
