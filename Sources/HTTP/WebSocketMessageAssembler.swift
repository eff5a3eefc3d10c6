/// Turns frames into messages (RFC 6455 §5.4 fragmentation, §5.5 control frames, §5.6 data,
/// §7.4 close codes): text must be valid UTF-8 (1007), a message may not exceed `maxMessageBytes`
/// (1009), continuation frames need a started message and data frames may not interleave (1002).
public struct WebSocketMessageAssembler: Sendable {
    public enum Message: Equatable, Sendable {
        case text(String)
        case binary([UInt8])
        case ping([UInt8])
        case pong([UInt8])
        /// Peer's close: code (nil when the frame had no payload) and reason.
        case close(code: UInt16?, reason: String)
    }

    private var fragments: [UInt8] = []
    /// The limit as 32 bits: 13 bytes in all, kept per open WebSocket.
    private var limit: UInt32
    private var fragmentOpcode: WebSocketFrame.Opcode? = nil
    /// Messages over this are refused (1009); at most 4 GiB − 1.
    public var maxMessageBytes: Int {
        get { Int(limit) }
        set { limit = UInt32(clamping: newValue) }
    }

    public init(maxMessageBytes: Int = 1 << 20) { limit = UInt32(clamping: maxMessageBytes) }

    /// Feeds one frame; returns a message when one completes.
    public mutating func add(_ frame: WebSocketFrame) throws(WebSocketError) -> Message? {
        switch frame.opcode {
        case .ping: return .ping(frame.payload)
        case .pong: return .pong(frame.payload)
        case .close: return try Self.closeMessage(frame.payload)
        case .text, .binary:
            guard fragmentOpcode == nil else { throw .protocolError("new data frame inside a fragmented message") }
            if frame.fin { return try Self.complete(frame.opcode, frame.payload, limit: maxMessageBytes) }
            guard frame.payload.count <= maxMessageBytes else { throw WebSocketError(1009, "message too big") }
            fragmentOpcode = frame.opcode
            fragments = frame.payload
            return nil
        case .continuation:
            guard let opcode = fragmentOpcode else { throw .protocolError("continuation frame without a message") }
            guard fragments.count + frame.payload.count <= maxMessageBytes else { throw WebSocketError(1009, "message too big") }
            fragments += frame.payload
            guard frame.fin else { return nil }
            defer { fragments = []; fragmentOpcode = nil }
            return try Self.complete(opcode, fragments, limit: maxMessageBytes)
        }
    }

    private static func complete(_ opcode: WebSocketFrame.Opcode, _ payload: [UInt8], limit: Int) throws(WebSocketError) -> Message {
        guard payload.count <= limit else { throw WebSocketError(1009, "message too big") }
        if opcode == .binary { return .binary(payload) }
        guard let text = String(validating: payload, as: UTF8.self) else { throw WebSocketError(1007, "text message is not valid UTF-8") }
        return .text(text)
    }

    /// §5.5.1: empty, or a 2-byte code then UTF-8; codes per §7.4.1/§7.4.2.
    private static func closeMessage(_ payload: [UInt8]) throws(WebSocketError) -> Message {
        if payload.isEmpty { return .close(code: nil, reason: "") }
        guard payload.count >= 2 else { throw .protocolError("close frame with a 1-byte payload") }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        guard isValidCloseCode(code) else { throw .protocolError("invalid close code \(code)") }
        guard let reason = String(validating: payload[2...], as: UTF8.self) else {
            throw WebSocketError(1007, "close reason is not valid UTF-8")
        }
        return .close(code: code, reason: reason)
    }

    /// Codes a peer may send (RFC 6455 §7.4.1, IANA registry; 1004–1006 and 1015 are never sent).
    public static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1011, 1012...1014, 3000...4999: true
        default: false
        }
    }
}
