import Foundation

/// What an RTSP server sends a client (RFC 2326): responses (§7: status line, headers, a body
/// of `Content-Length` bytes) and, on a TCP session, interleaved RTP/RTCP frames (§10.12: `$`,
/// a channel byte, a 16-bit length). Incremental: bytes go in as they arrive, whole messages come
/// out. Hostile input gets a typed error naming what and where; memory is bounded by the limits.
public struct RTSPMessageParser: Sendable {
    public struct Response: Equatable, Sendable {
        public var status: Int
        public var reason: String
        /// In order; names as sent (look up with `header`).
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        public static func == (a: Response, b: Response) -> Bool {
            a.status == b.status && a.reason == b.reason && a.body == b.body
                && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
        }
    }

    public enum Message: Equatable, Sendable {
        case response(Response)
        /// An interleaved frame on `channel` (RTP on the even channel of a SETUP's pair, RTCP on the odd).
        case interleaved(channel: UInt8, payload: [UInt8])
    }

    public struct Error: Swift.Error, Equatable, Sendable, CustomStringConvertible {
        public let reason: String
        /// Bytes into the stream where it was found.
        public let offset: Int
        public var description: String { "RTSP: \(reason) at byte \(offset)" }
    }

    public struct Limits: Sendable {
        public var maxHeadBytes = 16 * 1024
        public var maxHeaders = 64
        public var maxBodyBytes = 64 * 1024
        public init() {}
    }

    public let limits: Limits
    private var buffer: [UInt8] = []
    /// Bytes consumed before `buffer[0]`, for error offsets.
    private var consumed = 0

    public init(limits: Limits = Limits()) { self.limits = limits }

    public mutating func append(_ bytes: some Sequence<UInt8>) { buffer.append(contentsOf: bytes) }

    /// The next whole message, or nil until more bytes arrive.
    public mutating func next() throws(Error) -> Message? {
        guard let first = buffer.first else { return nil }
        if first == UInt8(ascii: "$") {
            guard buffer.count >= 4 else { return nil }
            let length = Int(buffer[2]) << 8 | Int(buffer[3])
            guard buffer.count >= 4 + length else { return nil }
            let message = Message.interleaved(channel: buffer[1], payload: Array(buffer[4..<(4 + length)]))
            take(4 + length)
            return message
        }
        guard let headEnd = findHeadEnd() else {
            if buffer.count > limits.maxHeadBytes { throw Error(reason: "response head longer than \(limits.maxHeadBytes) bytes", offset: consumed) }
            return nil
        }
        guard headEnd <= limits.maxHeadBytes else { throw Error(reason: "response head longer than \(limits.maxHeadBytes) bytes", offset: consumed) }
        guard let head = String(validating: buffer[0..<headEnd], as: UTF8.self) else { throw Error(reason: "response head is not UTF-8", offset: consumed) }
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == "RTSP/1.0" else { throw Error(reason: "status line \"\(statusLine.prefix(40))\" is not RTSP/1.0", offset: consumed) }
        guard parts[1].count == 3, let status = Int(parts[1]), (100...599).contains(status) else {
            throw Error(reason: "status code \"\(parts[1].prefix(10))\" is not three digits", offset: consumed + 9)
        }
        var headers: [(name: String, value: String)] = []
        var at = consumed + statusLine.utf8.count + 2
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else { throw Error(reason: "header line without a name and colon", offset: at) }
            let name = String(line[..<colon])
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else { throw Error(reason: "header name \"\(name.prefix(40))\" has a forbidden character", offset: at) }
            headers.append((name, line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            guard headers.count <= limits.maxHeaders else { throw Error(reason: "more than \(limits.maxHeaders) headers", offset: at) }
            at += line.utf8.count + 2
        }
        var length = 0
        if let text = headers.first(where: { $0.name.lowercased() == "content-length" })?.value {
            guard let n = Int(text), n >= 0 else { throw Error(reason: "Content-Length \"\(text.prefix(20))\" is not a number", offset: consumed) }
            guard n <= limits.maxBodyBytes else { throw Error(reason: "body of \(n) bytes is over \(limits.maxBodyBytes)", offset: consumed) }
            length = n
        }
        let total = headEnd + 4 + length
        guard buffer.count >= total else { return nil }
        let response = Response(status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: headers,
                                body: Array(buffer[(headEnd + 4)..<total]))
        take(total)
        return .response(response)
    }

    private func findHeadEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 { return i }
        return nil
    }

    private mutating func take(_ n: Int) {
        buffer.removeFirst(n)
        consumed += n
    }
}
