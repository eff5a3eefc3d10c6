import CShims
import Foundation
import Glibc
import MediaWire
import SFU
import SocketAddress

/// The only UDP socket code in Shihui: one thread that owns the `MediaRouter` and serves its
/// sockets, the WebRTC port for all peers and any number of others (a plain-RTP ingress each),
/// each with its own handler. Datagrams arrive in recvmmsg batches and leave in sendmmsg
/// batches; other threads talk to the router only through `perform`, which queues a closure
/// and wakes the loop with an eventfd. A 10 ms timerfd drives the router's timers.
///
/// @unchecked Sendable: `perform` is the only member used from other threads; it takes a lock
/// around the command queue. Everything else runs on the media thread.
public final class MediaLoop: MediaThread, @unchecked Sendable {
    public let localAddress: TransportAddress
    private let fd: Int32
    private let epollFD: Int32
    private let wakeFD: Int32
    private let timerFD: Int32
    private let router: MediaRouter
    private let lock = NSLock()
    private var commands: [@Sendable (MediaRouter) -> Void] = []
    private var stopping = false
    private var thread: Thread?
    private let batch = 32
    private let slot = 2048
    private let receiveBuffers: UnsafeMutableRawBufferPointer
    private let sendBuffers: UnsafeMutableRawBufferPointer
    private var sendAddresses: [sockaddr_storage]
    private var pendingSends = 0
    private var statsSnapshot = MediaRouter.Stats()
    private var lastSnapshot: UInt64 = 0

    /// The router's counters as of at most 100 ms ago (read from any thread).
    public var stats: MediaRouter.Stats {
        lock.lock()
        defer { lock.unlock() }
        return statsSnapshot
    }

    /// Test-only impairment (`--test-inbound-loss`): this fraction of incoming RTP is dropped
    /// before the router sees it, as a lossy network between publishers and the SFU would.
    public var inboundRTPLoss: Double = 0
    private var impairmentState: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// Router events (connected, failed) for the control plane, delivered through `onEvent` on
    /// the media thread with the router, which the handler may read (which transport it was).
    public var onEvent: (@Sendable (MediaRouter.Event, MediaRouter) -> Void)?
    /// Called on the media thread at each wake-up, after the router's timers, with the router,
    /// the time and a send: work handed back from other threads (an ingress's transcoded audio).
    public var onWake: (@Sendable (MediaRouter, UInt64, (UnsafeRawBufferPointer, TransportAddress) -> Void) -> Void)?

    /// Gives free heap pages back to the kernel, on the media thread, after DTLS state was freed
    /// and no handshake is in flight. glibc's `malloc_trim` by default; the composition root adds
    /// the crypto heap's kept slabs (ServerMain). Set before `start`.
    public var trimHeaps: @Sendable () -> Void = { _ = shihui_malloc_trim() }

    public init(address: TransportAddress, router: MediaRouter) throws {
        self.router = router
        // Wall clock at monotonic 0, for the NTP timestamps of the router's SRs.
        var wall = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        router.unixTimeAtZero = UInt64(wall.tv_sec) * 1_000_000_000 + UInt64(wall.tv_nsec) &- shihui_monotonic_ns()
        (fd, localAddress) = try Self.openSocket(address)
        epollFD = shihui_epoll_create()
        wakeFD = shihui_eventfd()
        timerFD = shihui_timerfd_periodic(10_000_000)
        _ = shihui_epoll_add(epollFD, fd, shihui_EPOLLIN(), 0)
        _ = shihui_epoll_add(epollFD, wakeFD, shihui_EPOLLIN(), 1)
        _ = shihui_epoll_add(epollFD, timerFD, shihui_EPOLLIN(), 2)
        receiveBuffers = .allocate(byteCount: batch * slot, alignment: 64)
        sendBuffers = .allocate(byteCount: 64 * slot, alignment: 64)
        sendAddresses = [sockaddr_storage](repeating: sockaddr_storage(), count: 64)
    }

    /// A non-blocking UDP socket bound to `address`, and the address it got.
    static func openSocket(_ address: TransportAddress) throws(MediaIOError) -> (Int32, TransportAddress) {
        let family = address.ip.isV4 ? AF_INET : AF_INET6
        let socketFD = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else { throw MediaIOError("socket", errno) }
        var size: Int32 = 8 << 20  // large buffers: bursts of keyframes (capped by net.core.*mem_max)
        setsockopt(socketFD, SOL_SOCKET, SO_RCVBUF, &size, 4)
        setsockopt(socketFD, SOL_SOCKET, SO_SNDBUF, &size, 4)
        let bound = SocketAddress.withSockaddr(address) { sa, len in bind(socketFD, sa, len) }
        guard bound == 0 else { let e = errno; close(socketFD); throw MediaIOError("bind \(address)", e) }
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &len) } }
        return (socketFD, SocketAddress.transportAddress(storage) ?? address)
    }

    deinit {
        for s in extraSockets.values { close(s.fd) }
        close(fd)
        close(epollFD)
        close(wakeFD)
        close(timerFD)
        receiveBuffers.deallocate()
        sendBuffers.deallocate()
    }

    /// Runs `command` on the media thread, in order.
    public func perform(_ command: @escaping @Sendable (MediaRouter) -> Void) {
        lock.lock()
        commands.append(command)
        lock.unlock()
        _ = shihui_eventfd_signal(wakeFD)
    }

    public func start() {
        let t = Thread { [self] in run() }
        t.name = "shihui-media"
        thread = t
        t.start()
    }

    public func stop() {
        lock.lock()
        stopping = true
        lock.unlock()
        _ = shihui_eventfd_signal(wakeFD)
    }

    /// Wake-up durations, kept on the media thread and copied out with the stats.
    private var wakeups = WakeupHistogram()
    private var wakeupSnapshot = WakeupHistogram()
    /// The media thread's wake-up durations as of the last snapshot (every 100 ms).
    public var wakeupDurations: WakeupHistogram {
        lock.lock()
        defer { lock.unlock() }
        return wakeupSnapshot
    }

    public typealias DatagramHandler = SFU.DatagramHandler

    /// Sockets beside the WebRTC port, by epoll token (from 3 on), and their tokens by
    /// descriptor. Media thread only.
    private var extraSockets: [UInt64: (fd: Int32, handler: DatagramHandler)] = [:]
    private var tokensByFD: [Int32: UInt64] = [:]
    private var nextToken: UInt64 = 3

    /// Binds a non-blocking UDP socket at `address` (port 0: any) on the calling thread (a
    /// syscall or two, nothing that waits), for `serve`.
    public static func bindUDP(_ address: TransportAddress) throws(MediaIOError) -> (fd: Int32, address: TransportAddress) {
        let (fd, bound) = try openSocket(address)
        return (fd, bound)
    }

    /// Serves a socket from `bindUDP` with `handler` from the next wake-up; the loop owns it
    /// from now on (`closeSocket` closes it).
    public func serve(socket socketFD: Int32, handler: @escaping DatagramHandler) {
        perform { [self] _ in
            let token = nextToken
            nextToken += 1
            extraSockets[token] = (socketFD, handler)
            tokensByFD[socketFD] = token
            _ = shihui_epoll_add(epollFD, socketFD, shihui_EPOLLIN(), token)
        }
    }

    /// Stops serving a socket given to `serve` and closes it.
    public func closeSocket(_ socketFD: Int32) {
        perform { [self] _ in
            guard let token = tokensByFD.removeValue(forKey: socketFD) else { return }
            extraSockets[token] = nil
            close(socketFD)  // closing removes it from the epoll set
        }
    }

    /// Sends one datagram from a socket given to `serve`. Media thread only: from `onEvent`
    /// (a keyframe request for an ingress) or a handler.
    public func send(_ bytes: UnsafeRawBufferPointer, to: TransportAddress, fromSocket socketFD: Int32) {
        queueSend(bytes, to, from: socketFD)
        flushSends()
    }

    /// Binds a UDP socket at `address` (port 0: any) and serves it with `handler` from the next
    /// wake-up; `done` gets its bound address or the error, on the media thread. Datagrams it
    /// sends leave from that socket.
    public func addSocket(address: TransportAddress, handler: @escaping DatagramHandler,
                          done: @escaping @Sendable (Result<(token: UInt64, address: TransportAddress), MediaIOError>) -> Void) {
        perform { [self] _ in
            do throws(MediaIOError) {
                let (socketFD, bound) = try Self.openSocket(address)
                let token = nextToken
                nextToken += 1
                extraSockets[token] = (socketFD, handler)
                tokensByFD[socketFD] = token
                _ = shihui_epoll_add(epollFD, socketFD, shihui_EPOLLIN(), token)
                done(.success((token, bound)))
            } catch {
                done(.failure(error))
            }
        }
    }

    /// Closes a socket added with `addSocket`.
    public func removeSocket(token: UInt64) {
        perform { [self] _ in
            guard let s = extraSockets.removeValue(forKey: token) else { return }
            tokensByFD[s.fd] = nil
            close(s.fd)
        }
    }

    private var freedAtLastTrim = 0
    private var lastTrim: UInt64 = 0

    private func run() {
        var events = [shihui_epoll_event](repeating: shihui_epoll_event(), count: 8)
        var headers = [shihui_mmsghdr](repeating: shihui_mmsghdr(), count: batch)
        var iovecs = [iovec](repeating: iovec(), count: batch)
        var names = [sockaddr_storage](repeating: sockaddr_storage(), count: batch)
        while true {
            let n = shihui_epoll_wait(epollFD, &events, Int32(events.count), 100)
            let now = shihui_monotonic_ns()
            lock.lock()
            let queued = commands
            commands.removeAll(keepingCapacity: true)
            let stop = stopping
            lock.unlock()
            if stop { return }
            for c in queued { c(router) }
            if n > 0 {
                for i in 0..<Int(n) where events[i].token == 2 { _ = shihui_timerfd_drain(timerFD) }
                for i in 0..<Int(n) where events[i].token == 1 { _ = shihui_eventfd_drain(wakeFD) }
            }
            receiveAll(fd, &headers, &iovecs, &names, now: now) { datagram, from, now in
                router.handle(datagram, from: from, now: now) { bytes, to in self.queueSend(bytes, to) }
            }
            if n > 0 {
                for i in 0..<Int(n) where events[i].token >= 3 {
                    guard let s = extraSockets[events[i].token] else { continue }
                    let handler = s.handler
                    receiveAll(s.fd, &headers, &iovecs, &names, now: now) { datagram, from, now in
                        handler(router, datagram, from, now) { bytes, to in self.queueSend(bytes, to, from: s.fd) }
                    }
                }
            }
            router.tick(now: now) { bytes, to in self.queueSend(bytes, to) }
            onWake?(router, now) { bytes, to in self.queueSend(bytes, to) }
            flushSends()
            for e in router.takeEvents() { onEvent?(e, router) }
            if now &- lastSnapshot > 100_000_000 {
                lastSnapshot = now
                let snapshot = router.stats
                // Freed DTLS state (released, or gone with its transport, connected or not) leaves
                // free pages in the heaps: give them back once the
                // handshakes are over (at most once a second, and not while one is in flight:
                // a storm's next handshakes would map again what was just given back).
                let freed = snapshot.dtlsReleased + snapshot.dtlsFinished + snapshot.transportsRemoved
                if freed != freedAtLastTrim, router.handshakingCount == 0, now &- lastTrim > 1_000_000_000 {
                    freedAtLastTrim = freed
                    lastTrim = now
                    trimHeaps()
                }
                lock.lock()
                statsSnapshot = snapshot
                wakeupSnapshot = wakeups
                lock.unlock()
            }
            wakeups.record(nanos: shihui_monotonic_ns() &- now)
        }
    }

    private func receiveAll(_ socketFD: Int32, _ headers: inout [shihui_mmsghdr], _ iovecs: inout [iovec], _ names: inout [sockaddr_storage], now: UInt64,
                            _ handle: (UnsafeRawBufferPointer, TransportAddress, UInt64) -> Void) {
        for _ in 0..<64 {  // bounded per wake-up so timers and commands still run
            let got: Int32 = names.withUnsafeMutableBufferPointer { nameBuffer in
                iovecs.withUnsafeMutableBufferPointer { iov in
                    for i in 0..<batch {
                        iov[i] = iovec(iov_base: receiveBuffers.baseAddress! + i * slot, iov_len: slot)
                        headers[i].msg_hdr.msg_iov = iov.baseAddress! + i
                        headers[i].msg_hdr.msg_iovlen = 1
                        headers[i].msg_hdr.msg_name = UnsafeMutableRawPointer(nameBuffer.baseAddress! + i)
                        headers[i].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                        headers[i].msg_hdr.msg_control = nil
                        headers[i].msg_hdr.msg_controllen = 0
                    }
                    return shihui_recvmmsg(socketFD, &headers, UInt32(batch), 0)
                }
            }
            guard got > 0 else { return }
            for i in 0..<Int(got) {
                guard let from = SocketAddress.transportAddress(names[i]) else { continue }
                let datagram = UnsafeRawBufferPointer(start: receiveBuffers.baseAddress! + i * slot, count: Int(headers[i].msg_len))
                if inboundRTPLoss > 0, PacketDemultiplexer.classify(datagram) == .rtp, nextUniform() < inboundRTPLoss { continue }
                handle(datagram, from, now)
            }
            flushSends()
            if got < Int32(batch) { return }
        }
    }

    /// Deterministic uniform [0, 1) for the impairment (xorshift64*), so runs are repeatable.
    private func nextUniform() -> Double {
        impairmentState ^= impairmentState >> 12
        impairmentState ^= impairmentState << 25
        impairmentState ^= impairmentState >> 27
        return Double((impairmentState &* 0x2545_F491_4F6C_DD1D) >> 11) / Double(1 << 53)
    }

    /// The socket the queued datagrams leave from (the WebRTC port unless a handler sends).
    private var pendingFD: Int32 = -1

    private func queueSend(_ bytes: UnsafeRawBufferPointer, _ to: TransportAddress, from socketFD: Int32? = nil) {
        guard bytes.count <= slot else { return }
        let out = socketFD ?? fd
        if pendingSends == 64 || (pendingSends > 0 && out != pendingFD) { flushSends() }
        pendingFD = out
        (sendBuffers.baseAddress! + pendingSends * slot).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        SocketAddress.store(to, into: &sendAddresses[pendingSends])
        lengths[pendingSends] = bytes.count
        pendingSends += 1
    }

    private var lengths = [Int](repeating: 0, count: 64)
    private var sendHeaders = [shihui_mmsghdr](repeating: shihui_mmsghdr(), count: 64)
    private var sendIovecs = [iovec](repeating: iovec(), count: 64)

    private func flushSends() {
        guard pendingSends > 0 else { return }
        let count = pendingSends
        pendingSends = 0
        sendAddresses.withUnsafeMutableBufferPointer { names in
            sendIovecs.withUnsafeMutableBufferPointer { iov in
                for i in 0..<count {
                    iov[i] = iovec(iov_base: sendBuffers.baseAddress! + i * slot, iov_len: lengths[i])
                    sendHeaders[i].msg_hdr.msg_iov = iov.baseAddress! + i
                    sendHeaders[i].msg_hdr.msg_iovlen = 1
                    sendHeaders[i].msg_hdr.msg_name = UnsafeMutableRawPointer(names.baseAddress! + i)
                    sendHeaders[i].msg_hdr.msg_namelen = SocketAddress.length(names[i])
                }
                var offset = 0
                while offset < count {
                    let sent = sendHeaders.withUnsafeMutableBufferPointer { h in shihui_sendmmsg(pendingFD, h.baseAddress! + offset, UInt32(count - offset)) }
                    if sent <= 0 { break }  // buffer full or error: drop the rest (UDP)
                    offset += Int(sent)
                }
            }
        }
    }
}

public struct MediaIOError: Error, CustomStringConvertible, Sendable {
    let operation: String
    public let code: Int32
    init(_ operation: String, _ code: Int32) {
        self.operation = operation
        self.code = code
    }
    public var description: String { "\(operation): \(String(cString: strerror(code)))" }
}
