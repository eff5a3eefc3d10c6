import Glibc
import MediaWire
import SocketAddress

/// A blocking HTTP/1.1 client for signaling (WHIP/WHEP, Janus's JSON API): one request per
/// connection (`Connection: close`), body read to EOF or Content-Length. Loopback only.
enum HTTPClient {
    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    static func request(_ method: String, _ address: TransportAddress, _ path: String, headers: [(String, String)] = [],
                        body: [UInt8] = [], timeoutSeconds: Int = 30) throws -> Response {
        let fd = try connect(address, timeoutSeconds: timeoutSeconds)
        defer { close(fd) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(address)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        try sendAll(fd, Array((head + "\r\n").utf8) + body)
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Int? = nil
        var contentLength: Int? = nil
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n < 0 { throw Failure(description: "recv: errno \(errno)") }
            if n == 0 { break }
            data += chunk[0..<n]
            if headerEnd == nil, let end = find(data, [13, 10, 13, 10]) {
                headerEnd = end + 4
                let text = String(decoding: data[..<end], as: UTF8.self)
                for line in text.split(separator: "\r\n").dropFirst() where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.split(separator: ":")[1].trimmingCharacters(in: " "))
                }
            }
            if let h = headerEnd, let c = contentLength, data.count >= h + c { break }
            guard data.count < 16 << 20 else { throw Failure(description: "response too large") }
        }
        guard let h = headerEnd else { throw Failure(description: "no HTTP response head") }
        let lines = String(decoding: data[..<(h - 4)], as: UTF8.self).split(separator: "\r\n")
        guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else {
            throw Failure(description: "bad status line")
        }
        let parsed = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: " "))
        }
        let bodyEnd = contentLength.map { min(data.count, h + $0) } ?? data.count
        var body = Array(data[h..<bodyEnd])
        if parsed.contains(where: { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased().contains("chunked") }) {
            body = try dechunk(body)
        }
        return Response(status: status, headers: parsed, body: body)
    }

    /// RFC 9112 §7.1 chunked transfer coding (until EOF: we send `Connection: close`).
    static func dechunk(_ raw: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < raw.count {
            guard let lineEnd = find(Array(raw[i...]), [13, 10]) else { throw Failure(description: "bad chunk header") }
            let sizeText = String(decoding: raw[i..<(i + lineEnd)], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: " "), radix: 16) else { throw Failure(description: "bad chunk size") }
            i += lineEnd + 2
            if size == 0 { break }
            guard i + size <= raw.count else { throw Failure(description: "truncated chunk") }
            out += raw[i..<(i + size)]
            i += size + 2
        }
        return out
    }

    /// A blocking TCP connection to `address` (TCP_NODELAY, receive timeout): the signaling
    /// clients' socket (this one and WebSocketClient).
    static func connect(_ address: TransportAddress, timeoutSeconds: Int) throws -> Int32 {
        let fd = socket(address.ip.isV4 ? AF_INET : AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno) (raise the open-file limit?)") }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, 4)
        let connected = SocketAddress.withSockaddr(address) { sa, len in Glibc.connect(fd, sa, len) }
        guard connected == 0 else {
            let e = errno
            close(fd)
            throw Failure(description: "connect \(address): errno \(e)")
        }
        return fd
    }

    /// Writes all of `bytes` (blocking socket).
    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
            sent += n
        }
    }

    /// Where `needle` first occurs in `data`.
    static func find(_ data: [UInt8], _ needle: [UInt8]) -> Int? { data.withUnsafeBufferPointer { find(needle, in: $0) } }

    /// Where `needle` first occurs in `bytes` (a plain scan: response heads and signaling messages).
    static func find(_ needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let first = needle.first, bytes.count >= needle.count else { return nil }
        var i = 0
        while i <= bytes.count - needle.count {
            if bytes[i] == first {
                var j = 1
                while j < needle.count && bytes[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
