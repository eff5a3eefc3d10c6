import HTTP

/// Identifies one TCP connection of the server.
public typealias ConnectionID = Int

/// What an application asks the server to do on connections other than (or besides) the one
/// that triggered the call.
public enum ConnectionAction: Equatable, Sendable {
    case sendText(ConnectionID, String)
    case closeWebSocket(ConnectionID, code: UInt16, reason: String)
}

/// The answer to an HTTP request: a response, or a 101 that switches the connection to WebSocket.
public enum HTTPReply: Sendable {
    case response(HTTPResponse)
    case webSocket(HTTPResponse)
}

/// The application the server drives. All calls happen on the server's loop thread, in order;
/// `now` is CLOCK_MONOTONIC in nanoseconds.
public protocol HTTPApplication: AnyObject {
    func handle(_ request: HTTPRequest, connection: ConnectionID, now: UInt64) -> (HTTPReply, [ConnectionAction])
    func webSocketOpened(connection: ConnectionID, now: UInt64) -> [ConnectionAction]
    func webSocketText(_ text: String, connection: ConnectionID, now: UInt64) -> [ConnectionAction]
    func webSocketClosed(connection: ConnectionID, now: UInt64) -> [ConnectionAction]
    /// Called about every 100 ms.
    func tick(now: UInt64) -> [ConnectionAction]
    /// The response for a request the parser refused (status and reason from `HTTPError`).
    func errorResponse(_ error: HTTPError) -> HTTPResponse
}

/// Timeouts and bounds that keep hostile or broken clients from holding resources.
public struct ServerLimits: Sendable {
    /// A request (head and body) must arrive within this time from its first byte, and a new
    /// connection must send its first request within it (slowloris).
    public var requestTimeout: UInt64 = 10_000_000_000
    /// A keep-alive connection with no request in flight is closed after this.
    public var idleTimeout: UInt64 = 60_000_000_000
    /// The server pings each WebSocket this often...
    public var webSocketPingInterval: UInt64 = 15_000_000_000
    /// ...and closes one that has sent nothing (not even a pong) for this long (half-open TCP).
    public var webSocketTimeout: UInt64 = 45_000_000_000
    public var maxConnections = 20_000
    /// A peer that does not read its data is disconnected once this much is queued for it.
    public var maxPendingOutput = 8 << 20
    public var maxWebSocketMessage = 1 << 20
    /// How long a graceful shutdown waits for connections to finish.
    public var shutdownGrace: UInt64 = 3_000_000_000
    /// How long a closing connection is drained before its socket is closed (lingering close).
    public var lingerTimeout: UInt64 = 2_000_000_000
    public var parser = HTTPRequestParser.Limits()
    public init() {}
}

/// Counters the server keeps, read by the application for /metrics.
public struct ServerStats: Sendable {
    public var connectionsAccepted = 0
    public var connectionsRefused = 0
    public var openConnections = 0
    public var openWebSockets = 0
    public var bytesReceived = 0
    public var bytesSent = 0
    public var responsesByStatus: [Int: Int] = [:]
    public var timeouts = 0
    public init() {}
}
