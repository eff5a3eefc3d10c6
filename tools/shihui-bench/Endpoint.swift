import Glibc
import MediaCrypto
import MediaWire
import SocketAddress

/// One peer connection's UDP socket in the load generator and what flows on it: a publisher's
/// synthetic streams and retransmission ring, or a viewer's receive counters.
///
/// Threads: the connect loop owns an endpoint until it is connected; then the sender thread owns
/// `peer` (consent checks), `streams` and `ring`, and the receiver thread owns `counters`,
/// `firstMediaAt` and the inbound SRTP context. Keyframe and NACK requests cross from the
/// receiver to the sender under `requestLock`. That split is why `@unchecked Sendable` is safe.
final class Endpoint: @unchecked Sendable {
    enum Role: Equatable { case publisher, viewer }

    let fd: Int32
    let role: Role
    let index: Int
    var remote: TransportAddress
    let localAddress: TransportAddress
    /// Nil for the C floor, which has no ICE/DTLS/SRTP handshake.
    var peer: ClientPeer?
    var streams: [SyntheticStream] = []
    var counters: [StreamCounter] = []
    var joinStartedAt: UInt64 = 0
    var connectedAt: UInt64 = 0
    var firstMediaAt: UInt64 = 0
    /// Requests from the publisher's viewers (via the server): keyframe, retransmissions.
    let requestLock = Lock()
    var keyframeRequested = false
    var nackRequested: [UInt16] = []
    /// A publisher's last `ringSize` video packets (plain RTP) for NACK answers, by seq.
    var ring: UnsafeMutableRawBufferPointer? = nil
    var ringLengths = [Int](repeating: 0, count: Endpoint.ringSize)
    var ringSequence = [UInt16](repeating: 0, count: Endpoint.ringSize)
    /// Pacing (sender thread): video packets kept in `ring` and waiting to leave, oldest first,
    /// the rate they leave at (0: a frame leaves as one burst) and when the next may leave.
    var paced: [UInt16] = []
    var pacingBitsPerSecond = 0
    var pacedNextAt: UInt64 = 0

    static let slot = 1536
    /// Packets kept for NACKs (a power of two): ~0.8 s of 2.5 Mbit/s video.
    static let ringSize = 256

    init(role: Role, index: Int, bind: IPAddress, remote: TransportAddress) throws {
        self.role = role
        self.index = index
        self.remote = remote
        let family = bind.isV4 ? AF_INET : AF_INET6
        let socketFD = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else { throw BenchError("socket: errno \(errno) (raise the open-file limit?)") }
        var size: Int32 = 1 << 20
        setsockopt(socketFD, SOL_SOCKET, SO_RCVBUF, &size, 4)
        setsockopt(socketFD, SOL_SOCKET, SO_SNDBUF, &size, 4)
        let bound = SocketAddress.withSockaddr(TransportAddress(ip: bind, port: 0)) { sa, len in Glibc.bind(socketFD, sa, len) }
        guard bound == 0 else {
            close(socketFD)
            throw BenchError("bind \(bind): errno \(errno)")
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) } }
        // Latency is measured to the kernel's arrival time, not to when the receiver thread got
        // round to reading the socket (one thread reads every viewer's socket).
        if role == .viewer { MediaEngine.enableArrivalTimestamps(socketFD) }
        fd = socketFD
        localAddress = SocketAddress.transportAddress(storage) ?? TransportAddress(ip: bind, port: 0)
        if role == .publisher { ring = .allocate(byteCount: Self.ringSize * Self.slot, alignment: 16) }
    }

    deinit {
        close(fd)
        ring?.deallocate()
    }

    func send(_ bytes: [UInt8]) { bytes.withUnsafeBytes { send($0) } }

    func send(_ bytes: UnsafeRawBufferPointer) {
        _ = SocketAddress.withSockaddr(remote) { sa, len in sendto(fd, bytes.baseAddress, bytes.count, 0, sa, len) }
    }

    /// Keeps a sent video packet for NACKs.
    func remember(_ packet: UnsafeRawBufferPointer, sequenceNumber: UInt16) {
        guard let ring, packet.count <= Self.slot else { return }
        let i = Int(sequenceNumber) & (Self.ringSize - 1)
        (ring.baseAddress! + i * Self.slot).copyMemory(from: packet.baseAddress!, byteCount: packet.count)
        ringLengths[i] = packet.count
        ringSequence[i] = sequenceNumber
    }

    /// The counter for `ssrc`, appended on first sight (an endpoint receives ≤ a few streams).
    @inline(__always)
    func counterIndex(ssrc: UInt32) -> Int {
        for i in counters.indices where counters[i].ssrc == ssrc { return i }
        counters.append(StreamCounter(ssrc: ssrc))
        return counters.count - 1
    }
}

/// pthread mutex as a small class (the tool's only lock; never taken per packet).
final class Lock: @unchecked Sendable {
    private let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(m, nil) }
    deinit {
        pthread_mutex_destroy(m)
        m.deallocate()
    }
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(m)
        defer { pthread_mutex_unlock(m) }
        return try body()
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
