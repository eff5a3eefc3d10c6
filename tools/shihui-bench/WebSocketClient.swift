import Glibc
import HTTP
import MediaCrypto
import MediaWire

/// A blocking WebSocket client for the signaling socket (RFC 6455): the opening handshake of
/// §4.1 (Sec-WebSocket-Key, checked Sec-WebSocket-Accept), masked text frames out (§5.3), and
/// frames in through the server's own parser with masking not required (§5.1: servers do not
/// mask). Pings are answered with pongs as they are read (§5.5.2). Loopback only.
final class WebSocketClient {
    struct Failure: Error, CustomStringConvertible { let description: String }

    let fd: Int32
    private var parser = WebSocketFrameParser(maxFramePayload: 1 << 20, requireMask: false)
    private var assembler = WebSocketMessageAssembler(maxMessageBytes: 1 << 20)
    private var chunk = [UInt8](repeating: 0, count: 65536)
    /// Text messages read but not yet taken.
    private var inbox: [String] = []
    private(set) var closed = false

    /// Connects to `address` and upgrades `GET path`.
    init(_ address: TransportAddress, path: String, timeoutSeconds: Int = 30) throws {
        fd = try HTTPClient.connect(address, timeoutSeconds: timeoutSeconds)
        let key = Base64.encode(SecureRandom.bytes(16))
        let request = "GET \(path) HTTP/1.1\r\nHost: \(address)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        do {
            try write(Array(request.utf8))
            var head: [UInt8] = []
            while HTTPClient.find(head, [13, 10, 13, 10]) == nil {
                guard head.count < 65536 else { throw Failure(description: "upgrade \(path): response head too large") }
                let n = recv(fd, &chunk, chunk.count, 0)
                guard n > 0 else { throw Failure(description: "upgrade \(path): connection closed (errno \(errno))") }
                head += chunk[0..<n]
            }
            let end = HTTPClient.find(head, [13, 10, 13, 10])! + 4
            let text = String(decoding: head[..<end], as: UTF8.self)
            guard text.hasPrefix("HTTP/1.1 101") else {
                throw Failure(description: "upgrade \(path): \(text.split(separator: "\r\n").first ?? "") \(String(decoding: head[end...], as: UTF8.self))")
            }
            let accept = text.split(separator: "\r\n").first { $0.lowercased().hasPrefix("sec-websocket-accept:") }
                .map { $0.dropFirst("sec-websocket-accept:".count).trimmingCharacters(in: " ") }
            guard accept == WebSocketHandshake.acceptValue(forKey: key) else { throw Failure(description: "upgrade \(path): wrong Sec-WebSocket-Accept") }
            if end < head.count { try absorb(Array(head[end...])) }
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    func send(text: String) throws {
        try write(WebSocketFrame(opcode: .text, payload: Array(text.utf8)).serialized(maskingKey: SecureRandom.uint32()))
    }

    /// The next text message, waiting at most `timeoutMilliseconds` (nil: none came, or closed).
    func receive(timeoutMilliseconds: Int32) throws -> String? {
        if !inbox.isEmpty { return inbox.removeFirst() }
        try poll(timeoutMilliseconds: timeoutMilliseconds)
        return inbox.isEmpty ? nil : inbox.removeFirst()
    }

    /// Reads what has arrived (waiting at most `timeoutMilliseconds` for the first byte): text
    /// messages go to the inbox, pings are answered.
    func poll(timeoutMilliseconds: Int32) throws {
        guard !closed else { return }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var wait = timeoutMilliseconds
        while Glibc.poll(&p, 1, wait) > 0 {
            let n = recv(fd, &chunk, chunk.count, Int32(MSG_DONTWAIT))
            if n == 0 {
                closed = true
                return
            }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { return }
                throw Failure(description: "recv: errno \(errno)")
            }
            try absorb(Array(chunk[0..<n]))
            wait = 0
        }
    }

    private func absorb(_ bytes: [UInt8]) throws {
        parser.append(bytes)
        while let frame = try parser.next() {
            switch try assembler.add(frame) {
            case .text(let t): inbox.append(t)
            case .ping(let payload): try write(WebSocketFrame(opcode: .pong, payload: payload).serialized(maskingKey: SecureRandom.uint32()))
            case .close: closed = true
            case .binary, .pong, nil: break
            }
        }
    }

    private func write(_ bytes: [UInt8]) throws { try HTTPClient.sendAll(fd, bytes) }
}
