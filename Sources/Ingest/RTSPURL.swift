import HTTP

/// `rtsp://[user[:password]@]host[:port][/path]` (RFC 2326 §3.2), credentials taken out of what
/// is sent on the wire and shown in listings.
public struct RTSPURL: Equatable, Sendable {
    public var host: String
    public var port: UInt16
    /// From the first `/` on ("/" when absent), as requested.
    public var path: String
    public var user: String?
    public var password: String?

    /// The URL requests name (no credentials).
    public var requestURL: String { "rtsp://\(host.contains(":") ? "[\(host)]" : host):\(port)\(path)" }

    public init?(_ text: String) {
        guard text.lowercased().hasPrefix("rtsp://"), text.utf8.count <= 2048 else { return nil }
        var rest = Substring(text.dropFirst(7))
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        rest = rest[authorityEnd...]
        path = rest.isEmpty ? "/" : String(rest)
        guard !path.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" }) else { return nil }
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            authority = authority[authority.index(after: at)...]
            let parts = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            user = PercentEncoding.decode(parts[0], plusIsSpace: false) ?? String(parts[0])
            password = parts.count > 1 ? (PercentEncoding.decode(parts[1], plusIsSpace: false) ?? String(parts[1])) : nil
        }
        var hostPart = authority
        var portText: Substring? = nil
        if hostPart.first == "[" {  // IPv6 literal
            guard let close = hostPart.firstIndex(of: "]") else { return nil }
            let after = hostPart[hostPart.index(after: close)...]
            if after.first == ":" { portText = after.dropFirst() } else if !after.isEmpty { return nil }
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            portText = hostPart[hostPart.index(after: colon)...]
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty, hostPart.allSatisfy({ $0.isLetter || $0.isNumber || ".-:".contains($0) }) else { return nil }
        host = String(hostPart)
        if let portText {
            guard let p = UInt16(portText), p > 0 else { return nil }
            port = p
        } else {
            port = 554
        }
    }
}
