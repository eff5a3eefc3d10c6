/// Incremental HTTP/1.1 request parser (RFC 9112). The connection appends bytes as they arrive
/// and calls `next()`, which returns a complete request, nil ("need more data"), or throws the
/// `HTTPError` to answer with. Pipelined requests come out one per call; bytes after an upgrade
/// request stay buffered for the new protocol (`takeBuffered()`).
///
/// Hostile input is bounded: the head (request line + fields) may not exceed `maxHeadBytes`
/// (431), fields are at most `maxHeaderCount` (431), the body at most `maxBodyBytes` (413, checked
/// against Content-Length before any byte is read), chunk-size lines and trailers are bounded.
/// Requests with both Transfer-Encoding and Content-Length, or conflicting Content-Lengths, are
/// refused (RFC 9112 §6.3: request smuggling). A head is scanned once even if it arrives a byte at a time.
public struct HTTPRequestParser: Sendable {
    public struct Limits: Sendable {
        public var maxHeadBytes = 16 * 1024
        public var maxHeaderCount = 100
        public var maxTargetBytes = 8 * 1024
        public var maxBodyBytes = 1 << 20
        public init() {}
    }

    public let limits: Limits
    private var buffer: [UInt8] = []
    private var start = 0
    /// Where to resume looking for the end of the head.
    private var scanFrom = 0
    private var state: State = .head

    private enum State: Sendable {
        case head
        case fixedBody(HTTPRequest, remaining: Int)
        case chunked(HTTPRequest, ChunkState)
    }

    private enum ChunkState: Sendable {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailers(bytes: Int)
    }

    public init(limits: Limits = Limits()) { self.limits = limits }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            scanFrom -= start
            start = 0
        } else if start > 4096 && start > buffer.count / 2 {
            buffer.removeFirst(start)
            scanFrom -= start
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    /// Bytes received and not consumed by a request.
    public var bufferedCount: Int { buffer.count - start }

    /// Removes and returns the unconsumed bytes (after an upgrade, they belong to the new protocol).
    public mutating func takeBuffered() -> [UInt8] {
        defer { buffer.removeAll(); start = 0; scanFrom = 0 }
        return Array(buffer[start...])
    }

    /// True when a request has started arriving but is not complete (for the header-read timeout).
    public var isMidRequest: Bool {
        if case .head = state { return bufferedCount > 0 }
        return true
    }

    public mutating func next() throws(HTTPError) -> HTTPRequest? {
        while true {
            switch state {
            case .head:
                guard let headEnd = findHeadEnd() else {
                    if bufferedCount > limits.maxHeadBytes { throw HTTPError(431, "request header too large") }
                    return nil
                }
                guard headEnd - start <= limits.maxHeadBytes else { throw HTTPError(431, "request header too large") }
                let request = try parseHead(buffer[start..<headEnd])
                start = headEnd + 4
                scanFrom = start
                let framing = try bodyFraming(request)
                switch framing {
                case .none: return request
                case .length(let n):
                    if n == 0 { return request }
                    state = .fixedBody(request, remaining: n)
                case .chunked: state = .chunked(request, .size)
                }
            case .fixedBody(var request, let remaining):
                state = .head  // drop the enum's reference so appending does not copy the body
                let take = min(remaining, bufferedCount)
                request.body.append(contentsOf: buffer[start..<(start + take)])
                start += take
                if take == remaining {
                    state = .head
                    scanFrom = start
                    return request
                }
                state = .fixedBody(request, remaining: remaining - take)
                return nil
            case .chunked(var request, let chunk):
                state = .head  // drop the enum's reference so appending does not copy the body
                switch chunk {
                case .size:
                    guard let lineEnd = findCRLF(from: start) else {
                        if bufferedCount > 1024 { throw .badRequest("chunk size line too long") }
                        state = .chunked(request, chunk)
                        return nil
                    }
                    let line = buffer[start..<lineEnd]
                    let sizeText = line.prefix { $0 != UInt8(ascii: ";") }
                    guard !sizeText.isEmpty, sizeText.count <= 15,
                          let size = Int(String(decoding: sizeText, as: UTF8.self), radix: 16), size >= 0 else {
                        throw .badRequest("invalid chunk size")
                    }
                    start = lineEnd + 2
                    if size == 0 {
                        state = .chunked(request, .trailers(bytes: 0))
                    } else {
                        guard request.body.count + size <= limits.maxBodyBytes else { throw HTTPError(413, "request body too large") }
                        state = .chunked(request, .data(remaining: size))
                    }
                case .data(let remaining):
                    let take = min(remaining, bufferedCount)
                    request.body.append(contentsOf: buffer[start..<(start + take)])
                    start += take
                    state = .chunked(request, take == remaining ? .dataEnd : .data(remaining: remaining - take))
                    if take < remaining { return nil }
                case .dataEnd:
                    // Fail as soon as a byte proves the CRLF wrong; wait only while it could still be right.
                    if bufferedCount >= 1 && buffer[start] != 13 || bufferedCount >= 2 && buffer[start + 1] != 10 {
                        throw .badRequest("chunk data not followed by CRLF")
                    }
                    guard bufferedCount >= 2 else {
                        state = .chunked(request, chunk)
                        return nil
                    }
                    start += 2
                    state = .chunked(request, .size)
                case .trailers(let seen):
                    // Trailer fields are read and ignored (RFC 9112 §7.1.2), up to an empty line.
                    guard let lineEnd = findCRLF(from: start) else {
                        if seen + bufferedCount > 4096 { throw HTTPError(431, "trailer section too large") }
                        state = .chunked(request, chunk)
                        return nil
                    }
                    let length = lineEnd - start
                    start = lineEnd + 2
                    if length == 0 {
                        state = .head
                        scanFrom = start
                        return request
                    }
                    guard seen + length <= 4096 else { throw HTTPError(431, "trailer section too large") }
                    state = .chunked(request, .trailers(bytes: seen + length + 2))
                }
            }
        }
    }

    private enum BodyFraming { case none, length(Int), chunked }

    /// RFC 9112 §6.3: Transfer-Encoding (chunked only) or Content-Length, never both.
    private func bodyFraming(_ r: HTTPRequest) throws(HTTPError) -> BodyFraming {
        let te = r.headers.tokens("Transfer-Encoding")
        let lengths = r.headers.values("Content-Length")
        if !te.isEmpty {
            guard lengths.isEmpty else { throw .badRequest("both Transfer-Encoding and Content-Length") }
            guard r.minorVersion >= 1 else { throw .badRequest("Transfer-Encoding in an HTTP/1.0 request") }
            guard te.last == "chunked" else { throw .badRequest("final transfer coding is not chunked") }
            guard te == ["chunked"] else { throw HTTPError(501, "transfer coding not implemented") }
            return .chunked
        }
        guard !lengths.isEmpty else { return .none }
        // A list ("5, 5") or repeated fields must all agree (RFC 9110 §8.6).
        let items = lengths.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map { $0.trimmingSpaces }
        guard let first = items.first, items.allSatisfy({ $0 == first }),
              !first.isEmpty, first.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw .badRequest("invalid Content-Length")
        }
        guard first.utf8.count <= 12, let n = Int(first), n <= limits.maxBodyBytes else {
            throw HTTPError(413, "request body too large")
        }
        return .length(n)
    }

    private mutating func findHeadEnd() -> Int? {
        var i = max(scanFrom, start)
        let end = buffer.count
        while i + 3 < end {
            if buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 { return i }
            i += 1
        }
        scanFrom = max(start, end - 3)
        return nil
    }

    private func findCRLF(from: Int) -> Int? {
        var i = from
        while i + 1 < buffer.count {
            if buffer[i] == 13 && buffer[i + 1] == 10 { return i }
            i += 1
        }
        return nil
    }

    /// Request line and field lines (RFC 9112 §3, §5).
    private func parseHead(_ head: ArraySlice<UInt8>) throws(HTTPError) -> HTTPRequest {
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = head.startIndex
        var i = head.startIndex
        while i < head.endIndex {
            if head[i] == 13 {
                guard i + 1 < head.endIndex, head[i + 1] == 10 else { throw .badRequest("bare CR in request head") }
                lines.append(head[lineStart..<i])
                i += 2
                lineStart = i
                guard lines.count <= limits.maxHeaderCount + 1 else { throw HTTPError(431, "too many header fields") }
            } else if head[i] == 10 {
                throw .badRequest("bare LF in request head")
            } else {
                i += 1
            }
        }
        lines.append(head[lineStart..<head.endIndex])
        guard lines.count <= limits.maxHeaderCount + 1 else { throw HTTPError(431, "too many header fields") }

        // request-line = method SP request-target SP HTTP-version
        let parts = lines[0].split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte) else {
            throw .badRequest("malformed request line")
        }
        guard parts[1].count <= limits.maxTargetBytes else { throw HTTPError(414, "request target too long") }
        guard !parts[1].isEmpty, parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw .badRequest("malformed request target") }
        guard parts[1].first == UInt8(ascii: "/") || (parts[1].elementsEqual("*".utf8)) else {
            throw .badRequest("request target must be origin-form")
        }
        let version = String(decoding: parts[2], as: UTF8.self)
        let minor: Int
        switch version {
        case "HTTP/1.1": minor = 1
        case "HTTP/1.0": minor = 0
        default:
            if version.hasPrefix("HTTP/") && version.utf8.count == 8 { throw HTTPError(505, "HTTP version not supported") }
            throw .badRequest("malformed HTTP version")
        }
        var headers = HTTPHeaders()
        for line in lines.dropFirst() {
            guard let first = line.first else { throw .badRequest("empty header line") }
            if first == 32 || first == 9 { throw .badRequest("obsolete line folding") }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .badRequest("header line without a colon") }
            let name = line[line.startIndex..<colon]
            guard !name.isEmpty, name.allSatisfy(isTokenByte) else { throw .badRequest("invalid header field name") }
            let value = line[(colon + 1)...]
            guard value.allSatisfy({ $0 == 9 || ($0 >= 32 && $0 != 127) }) else { throw .badRequest("control character in header value") }
            headers.add(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self).trimmingSpaces)
        }
        if minor == 1 {
            let hosts = headers.values("Host")
            guard hosts.count == 1 else { throw .badRequest(hosts.isEmpty ? "missing Host header" : "more than one Host header") }
        }
        return HTTPRequest(method: String(decoding: parts[0], as: UTF8.self), target: String(decoding: parts[1], as: UTF8.self),
                           minorVersion: minor, headers: headers)
    }
}

/// tchar (RFC 9110 §5.6.2).
@inline(__always)
func isTokenByte(_ b: UInt8) -> Bool {
    switch b {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
         UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
         UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
    default: false
    }
}
