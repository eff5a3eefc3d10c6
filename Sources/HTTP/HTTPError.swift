/// Why a request or frame was refused, as the status (HTTP) or close code (WebSocket) to answer
/// with and a reason a client can read. Thrown with typed throws by every parser in this module.
public struct HTTPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// HTTP status code (RFC 9110 §15) to respond with.
    public let status: Int
    public let reason: String

    public init(_ status: Int, _ reason: String) {
        self.status = status
        self.reason = reason
    }

    public static func badRequest(_ reason: String) -> HTTPError { HTTPError(400, reason) }

    public var description: String { "\(status) \(reason)" }
}

/// A WebSocket protocol violation and the close code RFC 6455 §7.4.1 assigns to it.
public struct WebSocketError: Error, Equatable, Sendable, CustomStringConvertible {
    public let closeCode: UInt16
    public let reason: String

    public init(_ closeCode: UInt16, _ reason: String) {
        self.closeCode = closeCode
        self.reason = reason
    }

    public static func protocolError(_ reason: String) -> WebSocketError { WebSocketError(1002, reason) }

    public var description: String { "close \(closeCode): \(reason)" }
}
