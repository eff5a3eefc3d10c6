/// WebSocket base framing (RFC 6455 §5.2).
///
///      0                   1                   2                   3
///      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///     +-+-+-+-+-------+-+-------------+-------------------------------+
///     |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
///     |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
///     |N|V|V|V|       |S|             |   (if payload len==126/127)   |
///     | |1|2|3|       |K|             |                               |
///     +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
///     |     Extended payload length continued, if payload len == 127  |
///     + - - - - - - - - - - - - - - - +-------------------------------+
///     |                               |Masking-key, if MASK set to 1  |
///     +-------------------------------+-------------------------------+
///     | Masking-key (continued)       |          Payload Data         |
public struct WebSocketFrame: Equatable, Sendable {
    public enum Opcode: UInt8, Sendable {
        case continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA
        public var isControl: Bool { rawValue & 0x8 != 0 }
    }

    public var fin: Bool
    public var opcode: Opcode
    /// Unmasked payload.
    public var payload: [UInt8]

    public init(fin: Bool = true, opcode: Opcode, payload: [UInt8]) {
        self.fin = fin
        self.opcode = opcode
        self.payload = payload
    }

    /// Serialises the frame; servers send unmasked frames (§5.1), clients pass a masking key.
    public func serialized(maskingKey: UInt32? = nil) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | opcode.rawValue]
        out.reserveCapacity(payload.count + 14)
        let maskBit: UInt8 = maskingKey == nil ? 0 : 0x80
        if payload.count < 126 {
            out.append(maskBit | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            out += [maskBit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            out.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: UInt64(payload.count) >> UInt64(shift))) }
        }
        if let key = maskingKey {
            let k = [UInt8(key >> 24), UInt8(key >> 16 & 0xFF), UInt8(key >> 8 & 0xFF), UInt8(key & 0xFF)]
            out += k
            for (i, b) in payload.enumerated() { out.append(b ^ k[i & 3]) }
        } else {
            out += payload
        }
        return out
    }

    /// A close frame with a status code and UTF-8 reason (§5.5.1), reason cut to fit 125 bytes.
    public static func close(code: UInt16, reason: String) -> WebSocketFrame {
        var payload = [UInt8(code >> 8), UInt8(code & 0xFF)]
        var r = Array(reason.utf8.prefix(123))
        while String(validating: r, as: UTF8.self) == nil { r.removeLast() }  // do not cut inside a character
        payload += r
        return WebSocketFrame(opcode: .close, payload: payload)
    }
}

/// Incremental frame parser for frames a server receives. Enforces §5.1 (client frames masked),
/// §5.2 (reserved bits zero without extensions, known opcodes, minimal 64-bit length), §5.5
/// (control frames unfragmented, ≤ 125 bytes) and a per-frame size limit (close 1009).
public struct WebSocketFrameParser: Sendable {
    // The limit as 32 bits and the fields in this order: 21 bytes, not 32; a server keeps one
    // per open WebSocket (HTTPServer's Connection).
    private var buffer: [UInt8] = []
    private var start = 0
    private var limit: UInt32
    public var requireMask: Bool
    /// Frames with a larger payload are refused (1009); at most 4 GiB − 1.
    public var maxFramePayload: Int {
        get { Int(limit) }
        set { limit = UInt32(clamping: newValue) }
    }

    public init(maxFramePayload: Int = 1 << 20, requireMask: Bool = true) {
        limit = UInt32(clamping: maxFramePayload)
        self.requireMask = requireMask
    }

    /// All consumed (`next` calls it after the last buffered frame): the buffer is given back at
    /// once, not at the next append: idle sockets are most of a big meeting's connections, and a
    /// viewer's last message (its SDP answer) would otherwise stay allocated for as long as it
    /// watches. Small ones too: keeping capacity of a buffer still shared with the upgrade
    /// request's bytes copied it, ~70 bytes per idle viewer (massif); signaling messages are
    /// few enough that an allocation per message costs nothing measurable.
    private mutating func releaseConsumed() {
        buffer = []
        start = 0
    }

    /// Bytes of buffer this parser holds (capacity, not content): for memory tests.
    public var bufferCapacity: Int { buffer.capacity }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 65536 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    public var bufferedCount: Int { buffer.count - start }

    /// The next complete frame, nil when more bytes are needed, or the protocol error.
    public mutating func next() throws(WebSocketError) -> WebSocketFrame? {
        let available = buffer.count - start
        guard available >= 2 else { return nil }
        let b0 = buffer[start], b1 = buffer[start + 1]
        guard b0 & 0x70 == 0 else { throw .protocolError("reserved bits set without a negotiated extension") }
        guard let opcode = WebSocketFrame.Opcode(rawValue: b0 & 0x0F) else { throw .protocolError("unknown opcode \(b0 & 0x0F)") }
        let fin = b0 & 0x80 != 0
        let masked = b1 & 0x80 != 0
        if requireMask && !masked { throw .protocolError("client frame not masked") }
        var length = UInt64(b1 & 0x7F)
        var offset = 2
        if length == 126 {
            guard available >= 4 else { return nil }
            length = UInt64(buffer[start + 2]) << 8 | UInt64(buffer[start + 3])
            guard length >= 126 else { throw .protocolError("non-minimal payload length") }
            offset = 4
        } else if length == 127 {
            guard available >= 10 else { return nil }
            length = 0
            for i in 0..<8 { length = length << 8 | UInt64(buffer[start + 2 + i]) }
            guard length >> 63 == 0 else { throw .protocolError("payload length with the most significant bit set") }
            guard length > 0xFFFF else { throw .protocolError("non-minimal payload length") }
            offset = 10
        }
        if opcode.isControl {
            guard fin else { throw .protocolError("fragmented control frame") }
            guard length <= 125 else { throw .protocolError("control frame payload over 125 bytes") }
        }
        guard length <= UInt64(maxFramePayload) else { throw WebSocketError(1009, "frame payload over \(maxFramePayload) bytes") }
        var key: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        if masked {
            guard available >= offset + 4 else { return nil }
            key = (buffer[start + offset], buffer[start + offset + 1], buffer[start + offset + 2], buffer[start + offset + 3])
            offset += 4
        }
        let n = Int(length)
        guard available >= offset + n else { return nil }
        var payload = Array(buffer[(start + offset)..<(start + offset + n)])
        if masked {
            let k = [key.0, key.1, key.2, key.3]
            for i in 0..<n { payload[i] ^= k[i & 3] }
        }
        start += offset + n
        if start == buffer.count { releaseConsumed() }
        return WebSocketFrame(fin: fin, opcode: opcode, payload: payload)
    }
}
