import CShims
import Foundation
import Glibc
import HTTP
import MediaWire

/// The signaling server's I/O: one thread, one epoll set, non-blocking sockets. It owns every
/// connection, feeds bytes to the HTTP and WebSocket parsers, calls the application, and writes
/// what it returns. Nothing here knows about rooms or tokens.
public final class HTTPServer {
    public let localAddress: TransportAddress
    public private(set) var stats = ServerStats()
    private let limits: ServerLimits
    private let application: HTTPApplication
    private let listenFD: Int32
    private let epollFD: Int32
    private let wakeFD: Int32
    private var connections: [ConnectionID: Connection] = [:]
    private var flushQueue: [Connection] = []
    private var nextID: ConnectionID = 2  // 0 = listener, 1 = wake-up eventfd
    private var shutdownDeadline: UInt64? = nil
    private var scratch = [UInt8](repeating: 0, count: 65536)
    /// Work posted from other threads (the media loop's events), run on the loop thread.
    private let inbox = Inbox()

    private static let listenerToken: UInt64 = 0
    private static let wakeToken: UInt64 = 1

    public init(address: TransportAddress, limits: ServerLimits = ServerLimits(), application: HTTPApplication) throws {
        self.limits = limits
        self.application = application
        signal(SIGPIPE, SIG_IGN)
        listenFD = try Socket.listen(on: address)
        localAddress = Socket.localAddress(listenFD) ?? address
        epollFD = shihui_epoll_create()
        wakeFD = shihui_eventfd()
        guard epollFD >= 0, wakeFD >= 0 else { throw SocketError("epoll/eventfd", -min(epollFD, wakeFD)) }
        _ = shihui_epoll_add(epollFD, listenFD, shihui_EPOLLIN(), Self.listenerToken)
        _ = shihui_epoll_add(epollFD, wakeFD, shihui_EPOLLIN(), Self.wakeToken)
    }

    deinit {
        for c in connections.values { close(c.fd) }
        close(listenFD)
        close(epollFD)
        close(wakeFD)
    }

    /// A handle another thread (e.g. a signal handler's queue) uses to ask for a graceful stop.
    public var shutdownTrigger: ShutdownTrigger { ShutdownTrigger(fd: wakeFD, inbox: inbox) }

    /// A handle other threads use to run work on the loop thread; the work returns actions the
    /// server applies (messages and closes for WebSocket connections).
    public var poster: LoopPoster { LoopPoster(fd: wakeFD, inbox: inbox) }

    /// Runs the loop until a shutdown completes.
    public func run() {
        var events = [shihui_epoll_event](repeating: shihui_epoll_event(), count: 256)
        var nextTick: UInt64 = 0
        while true {
            let n = shihui_epoll_wait(epollFD, &events, Int32(events.count), 100)
            var now = shihui_monotonic_ns()
            if n > 0 {
                for i in 0..<Int(n) {
                    let token = events[i].token
                    if token == Self.listenerToken {
                        acceptAll(now: now)
                    } else if token == Self.wakeToken {
                        _ = shihui_eventfd_drain(wakeFD)
                        let (work, stop) = inbox.take()
                        for w in work { apply(w(now), now: now) }
                        if stop { beginShutdown(now: now) }
                    } else if let c = connections[Int(token)] {
                        let flags = events[i].events
                        if flags & shihui_EPOLLOUT() != 0 { flush(c, now: now) }
                        if flags & (shihui_EPOLLIN() | shihui_EPOLLERR() | shihui_EPOLLHUP() | shihui_EPOLLRDHUP()) != 0,
                           connections[c.id] != nil {
                            readAvailable(c, now: now)
                        }
                    }
                }
            }
            now = shihui_monotonic_ns()
            if now >= nextTick {
                nextTick = now + 100_000_000
                checkTimeouts(now: now)
                apply(application.tick(now: now), now: now)
            }
            flushQueued(now: now)
            if let deadline = shutdownDeadline, connections.isEmpty || now >= deadline {
                for c in Array(connections.values) { destroy(c, now: now, notify: true) }
                return
            }
        }
    }

    // MARK: Accepting

    private func acceptAll(now: UInt64) {
        while true {
            let fd = accept(listenFD, nil, nil)
            guard fd >= 0 else { return }  // EAGAIN, or a transient error: try again on the next event
            guard shutdownDeadline == nil, connections.count < limits.maxConnections else {
                stats.connectionsRefused += 1
                close(fd)
                continue
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let c = Connection(id: nextID, fd: fd, now: now, limits: limits)
            nextID += 1
            connections[c.id] = c
            stats.connectionsAccepted += 1
            stats.openConnections += 1
            _ = shihui_epoll_add(epollFD, fd, shihui_EPOLLIN() | shihui_EPOLLRDHUP(), UInt64(c.id))
        }
    }

    // MARK: Reading

    private func readAvailable(_ c: Connection, now: UInt64) {
        var budget = 1 << 20  // per event, so one busy peer cannot starve the others
        while budget > 0 && connections[c.id] != nil {
            let got = scratch.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if got > 0 {
                stats.bytesReceived += got
                budget -= got
                c.lastReceived = now
                if case .lingering = c.mode { continue }  // draining: discard
                scratch.withUnsafeBytes { process(c, bytes: UnsafeRawBufferPointer(rebasing: $0[0..<got]), now: now) }
            } else if got == 0 {
                destroy(c, now: now, notify: true)  // peer closed
                return
            } else {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
                destroy(c, now: now, notify: true)
                return
            }
        }
    }

    private func process(_ c: Connection, bytes: UnsafeRawBufferPointer, now: UInt64) {
        switch c.mode {
        case .http(var parser):
            c.mode = .lingering  // a stand-in while the parser is out, so it is not copied
            if parser.bufferedCount == 0 && c.requestStarted == nil { c.requestStarted = now }
            parser.append(bytes)
            c.mode = .http(parser)
            processHTTP(c, now: now)
        case .webSocket(var ws):
            c.mode = .lingering
            ws.frames.append(bytes)
            c.mode = .webSocket(ws)
            processWebSocket(c, now: now)
        case .lingering:
            break
        }
    }

    private func processHTTP(_ c: Connection, now: UInt64) {
        while case .http(var parser) = c.mode, !c.closeAfterWrite {
            c.mode = .lingering  // a stand-in while the parser is out, so its buffer is not copied
            let request: HTTPRequest?
            do throws(HTTPError) {
                request = try parser.next()
            } catch {
                c.mode = .http(parser)
                respond(c, application.errorResponse(error), keepAlive: false, headOnly: false, now: now)
                return
            }
            guard let request else {
                c.mode = .http(parser)
                return
            }
            c.requestStarted = parser.bufferedCount > 0 ? now : nil
            let leftover = parser.bufferedCount > 0 && WebSocketHandshake.isUpgradeRequest(request) ? parser.takeBuffered() : []
            c.mode = .http(parser)
            let (reply, actions) = application.handle(request, connection: c.id, now: now)
            switch reply {
            case .response(let response):
                respond(c, response, keepAlive: request.keepAlive && shutdownDeadline == nil, headOnly: request.method == "HEAD", now: now)
            case .webSocket(let response):
                respond(c, response, keepAlive: true, headOnly: false, now: now)
                c.mode = .webSocket(WebSocketState(limits: limits, now: now))
                c.requestStarted = nil
                stats.openWebSockets += 1
                apply(application.webSocketOpened(connection: c.id, now: now), now: now)
                if !leftover.isEmpty, connections[c.id] != nil {
                    leftover.withUnsafeBytes { process(c, bytes: $0, now: now) }
                }
            }
            apply(actions, now: now)
            if case .webSocket = c.mode { return }
        }
    }

    private func processWebSocket(_ c: Connection, now: UInt64) {
        while case .webSocket(var ws) = c.mode, !ws.closing {
            c.mode = .lingering
            let message: WebSocketMessageAssembler.Message?
            do throws(WebSocketError) {
                guard let frame = try ws.frames.next() else {
                    c.mode = .webSocket(ws)
                    return
                }
                message = try ws.messages.add(frame)
            } catch {
                c.mode = .webSocket(ws)
                closeWebSocket(c, code: error.closeCode, reason: error.reason, now: now)
                return
            }
            c.mode = .webSocket(ws)
            switch message {
            case nil: continue
            case .text(let text): apply(application.webSocketText(text, connection: c.id, now: now), now: now)
            case .binary: closeWebSocket(c, code: 1003, reason: "binary messages are not supported", now: now)
            case .ping(let payload): send(c, WebSocketFrame(opcode: .pong, payload: payload).serialized(), now: now)
            case .pong: break
            case .close(let code, _):
                // Echo the close (RFC 6455 §5.5.1) and finish.
                closeWebSocket(c, code: code ?? 1000, reason: "", now: now)
            }
        }
    }

    // MARK: Writing

    private func respond(_ c: Connection, _ response: HTTPResponse, keepAlive: Bool, headOnly: Bool, now: UInt64) {
        stats.responsesByStatus[response.status, default: 0] += 1
        send(c, response.serialized(keepAlive: keepAlive, date: HTTPDate.now(), headOnly: headOnly), now: now)
        if !keepAlive { c.closeAfterWrite = true; flush(c, now: now) }
    }

    private func send(_ c: Connection, _ bytes: [UInt8], now: UInt64) {
        guard connections[c.id] != nil else { return }
        c.output.append(contentsOf: bytes)
        if c.output.count - c.outputStart > limits.maxPendingOutput {
            destroy(c, now: now, notify: true)  // the peer does not read: drop it rather than buffer without end
            return
        }
        if !c.flushQueued {
            c.flushQueued = true
            flushQueue.append(c)
        }
    }

    /// Output is written once per loop iteration: what several events queued for one connection
    /// (a join storm's `participant_joined` notices, say) leaves in one send.
    private func flushQueued(now: UInt64) {
        guard !flushQueue.isEmpty else { return }
        let queued = flushQueue
        flushQueue.removeAll(keepingCapacity: true)
        for c in queued {
            c.flushQueued = false
            flush(c, now: now)
        }
    }

    private func flush(_ c: Connection, now: UInt64) {
        guard connections[c.id] != nil else { return }
        while c.outputStart < c.output.count {
            let sent = c.output.withUnsafeBytes { b in
                Glibc.send(c.fd, b.baseAddress! + c.outputStart, b.count - c.outputStart, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if sent > 0 {
                c.outputStart += sent
                stats.bytesSent += sent
            } else if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                if !c.wantsWrite {
                    c.wantsWrite = true
                    _ = shihui_epoll_mod(epollFD, c.fd, shihui_EPOLLIN() | shihui_EPOLLRDHUP() | shihui_EPOLLOUT(), UInt64(c.id))
                }
                return
            } else {
                destroy(c, now: now, notify: true)
                return
            }
        }
        // A keep-alive HTTP connection keeps a small output buffer (≤ 1 KiB) for its next response;
        // a WebSocket gives its buffer back (thousands of idle viewers would each hold theirs,
        // and their messages are few), as does any connection after a large write.
        var isWebSocket = false
        if case .webSocket = c.mode { isWebSocket = true }
        c.output.removeAll(keepingCapacity: !isWebSocket && c.output.capacity <= 1024)
        c.outputStart = 0
        if c.wantsWrite {
            c.wantsWrite = false
            _ = shihui_epoll_mod(epollFD, c.fd, shihui_EPOLLIN() | shihui_EPOLLRDHUP(), UInt64(c.id))
        }
        if c.closeAfterWrite { linger(c, now: now) }
    }

    /// Output is flushed and the connection is done: half-close and drain what the peer still sends
    /// (so a TCP reset does not destroy the response it has not read yet), then close.
    private func linger(_ c: Connection, now: UInt64) {
        if case .lingering = c.mode, c.lingerSince != nil { return }
        if case .webSocket = c.mode { stats.openWebSockets -= 1; c.notifyClosed = true }
        c.mode = .lingering
        c.lingerSince = now
        shutdown(c.fd, Int32(SHUT_WR))
        if c.notifyClosed {
            c.notifyClosed = false
            apply(application.webSocketClosed(connection: c.id, now: now), now: now)
        }
    }

    private func closeWebSocket(_ c: Connection, code: UInt16, reason: String, now: UInt64) {
        guard case .webSocket(var ws) = c.mode, !ws.closing else { return }
        ws.closing = true
        c.mode = .webSocket(ws)
        c.closeAfterWrite = true
        send(c, WebSocketFrame.close(code: code, reason: reason).serialized(), now: now)
    }

    private func destroy(_ c: Connection, now: UInt64, notify: Bool) {
        guard connections.removeValue(forKey: c.id) != nil else { return }
        _ = shihui_epoll_del(epollFD, c.fd)
        close(c.fd)
        stats.openConnections -= 1
        if case .webSocket = c.mode {
            stats.openWebSockets -= 1
            if notify { apply(application.webSocketClosed(connection: c.id, now: now), now: now) }
        }
    }

    private func apply(_ actions: [ConnectionAction], now: UInt64) {
        for action in actions {
            switch action {
            case .sendText(let id, let text):
                guard let c = connections[id], case .webSocket(let ws) = c.mode, !ws.closing else { continue }
                send(c, WebSocketFrame(opcode: .text, payload: Array(text.utf8)).serialized(), now: now)
            case .closeWebSocket(let id, let code, let reason):
                guard let c = connections[id] else { continue }
                closeWebSocket(c, code: code, reason: reason, now: now)
            }
        }
    }

    // MARK: Timers and shutdown

    private func checkTimeouts(now: UInt64) {
        for c in Array(connections.values) {
            switch c.mode {
            case .http:
                if let started = c.requestStarted, elapsed(now, since: started) > limits.requestTimeout, !c.closeAfterWrite {
                    stats.timeouts += 1
                    respond(c, application.errorResponse(HTTPError(408, "request not received in time")), keepAlive: false, headOnly: false, now: now)
                } else if c.requestStarted == nil, elapsed(now, since: c.lastReceived) > limits.idleTimeout {
                    destroy(c, now: now, notify: false)
                }
            case .webSocket(var ws):
                if elapsed(now, since: c.lastReceived) > limits.webSocketTimeout {
                    stats.timeouts += 1
                    destroy(c, now: now, notify: true)  // half-open: nothing heard, not even pongs
                } else if !ws.closing, elapsed(now, since: ws.lastPing) > limits.webSocketPingInterval {
                    ws.lastPing = now
                    c.mode = .webSocket(ws)
                    send(c, WebSocketFrame(opcode: .ping, payload: []).serialized(), now: now)
                }
            case .lingering:
                if let since = c.lingerSince, elapsed(now, since: since) > limits.lingerTimeout { destroy(c, now: now, notify: false) }
            }
        }
    }

    private func beginShutdown(now: UInt64) {
        guard shutdownDeadline == nil else { return }
        shutdownDeadline = now + limits.shutdownGrace
        _ = shihui_epoll_del(epollFD, listenFD)
        for c in Array(connections.values) {
            switch c.mode {
            case .webSocket: closeWebSocket(c, code: 1001, reason: "server shutting down", now: now)
            case .http(let parser) where !parser.isMidRequest: destroy(c, now: now, notify: false)
            default: c.closeAfterWrite = true
            }
        }
    }
}

/// Wakes the server loop from another thread to start a graceful shutdown.
public struct ShutdownTrigger: Sendable {
    let fd: Int32
    let inbox: Inbox
    public func fire() {
        inbox.requestStop()
        _ = shihui_eventfd_signal(fd)
    }
}

/// Posts work to the server loop thread from any thread.
public struct LoopPoster: Sendable {
    let fd: Int32
    let inbox: Inbox
    /// `work` runs on the loop thread with the loop's clock and returns actions to apply.
    public func post(_ work: @escaping @Sendable (UInt64) -> [ConnectionAction]) {
        inbox.add(work)
        _ = shihui_eventfd_signal(fd)
    }
}

/// The lock-protected queue behind `LoopPoster` and `ShutdownTrigger`.
/// @unchecked Sendable: every access to its state holds `lock`.
final class Inbox: @unchecked Sendable {
    private let lock = NSLock()
    private var work: [@Sendable (UInt64) -> [ConnectionAction]] = []
    private var stop = false

    func add(_ w: @escaping @Sendable (UInt64) -> [ConnectionAction]) {
        lock.lock()
        work.append(w)
        lock.unlock()
    }

    func requestStop() {
        lock.lock()
        stop = true
        lock.unlock()
    }

    func take() -> ([@Sendable (UInt64) -> [ConnectionAction]], Bool) {
        lock.lock()
        defer { work.removeAll(); lock.unlock() }
        return (work, stop)
    }
}

/// Per-connection state; a class so the loop can mutate it in place. Fields in this order (and
/// the HTTP parser boxed) so that an idle WebSocket is a 160-byte chunk, not 224 (massif).
final class Connection {
    let id: ConnectionID
    var lastReceived: UInt64
    var outputStart = 0
    var output: [UInt8] = []
    var mode: Mode
    let fd: Int32
    var requestStarted: UInt64?
    var wantsWrite = false
    /// In `flushQueue`, to be written at the end of this loop iteration.
    var flushQueued = false
    var closeAfterWrite = false
    var notifyClosed = false
    var lingerSince: UInt64?

    enum Mode {
        /// Boxed (`indirect`): the parser is 121 bytes inline and a WebSocket, what nearly every
        /// long-lived connection is, paid for it (a box is made each time a read puts the
        /// parser back: control-plane reads only).
        indirect case http(HTTPRequestParser)
        case webSocket(WebSocketState)
        case lingering
    }

    init(id: ConnectionID, fd: Int32, now: UInt64, limits: ServerLimits) {
        self.id = id
        self.fd = fd
        self.mode = .http(HTTPRequestParser(limits: limits.parser))
        self.lastReceived = now
        self.requestStarted = now  // the first request must arrive within the request timeout
    }
}

struct WebSocketState {
    var frames: WebSocketFrameParser
    var messages: WebSocketMessageAssembler
    var lastPing: UInt64
    var closing = false

    init(limits: ServerLimits, now: UInt64) {
        frames = WebSocketFrameParser(maxFramePayload: limits.maxWebSocketMessage, requireMask: true)
        messages = WebSocketMessageAssembler(maxMessageBytes: limits.maxWebSocketMessage)
        lastPing = now
    }
}

/// Nanoseconds from `then` to `now`, 0 if `now` is earlier (never traps on clock skew).
@inline(__always)
func elapsed(_ now: UInt64, since then: UInt64) -> UInt64 { now >= then ? now - then : 0 }
