import CShims
import Foundation
import Glibc
import MediaCrypto
import MediaWire
import SocketAddress

/// The generator's two media threads and its connect loop.
///
/// - Connect loop (the caller's thread): drives each new endpoint's ICE checks and DTLS handshake
///   until connected, then hands it to the media threads.
/// - Sender thread: paces every publisher's synthetic streams (protect with SRTP, one sendmmsg
///   per frame), answers keyframe and NACK requests, sends consent checks.
/// - Receiver thread: epoll over all connected sockets, recvmmsg batches; per packet it reads the
///   RTP header and counts (sequence, bytes); one packet in `authSample` per stream is fully
///   SRTP-unprotected (authentication checked) and its embedded send time gives the latency:
///   to the kernel's receive timestamp (SO_TIMESTAMPNS), the packet's arrival at the viewer's
///   socket, and, as `readLatency`, to when this thread read it.
///   RTCP to publishers (PLI, NACK) is unprotected and turned into requests.
/// BENCH_DEBUG_LAT (set by run.py from its own BENCH_DEBUG_LAT=FILE): every sampled packet's
/// send time, latency and stream on stderr, and a `reset` line where the measured window starts.
let debugLatency = getenv("BENCH_DEBUG_LAT") != nil
final class MediaEngine: @unchecked Sendable {
    struct Totals {
        var packets = 0, bytes = 0, expected = 0, authFailures = 0, replayed = 0, sampled = 0
        var latency = LatencyHistogram()
        var readLatency = LatencyHistogram()
    }

    let authSample: Int
    let floorMode: FloorMode?
    private let connectEpoll = shihui_epoll_create()
    private let mediaEpoll = shihui_epoll_create()
    private(set) var endpoints: [Endpoint] = []
    private var media: [Endpoint] = []  // registered with the media threads (guarded by lock)
    private let lock = Lock()
    private var stopping = false
    private var resetRequested = false
    private var nacksPending = false  // set by the receiver when a publisher got a NACK
    private var snapshot: Totals? = nil
    private var snapshotRequested = false
    private var senderThread: Thread?
    private var receiverThread: Thread?
    private let done = DispatchSemaphore(value: 0)

    enum FloorMode: String { case plain, srtp }

    static let minimumSleep: UInt64 = 100_000

    init(capacity: Int, authSample: Int, floorMode: FloorMode?) {
        self.authSample = max(1, authSample)
        self.floorMode = floorMode
        endpoints.reserveCapacity(capacity)
    }

    func add(_ e: Endpoint) { endpoints.append(e) }

    /// Asks the kernel to stamp each datagram `fd` receives with its arrival time.
    static func enableArrivalTimestamps(_ fd: Int32) { _ = shihui_enable_rx_timestamps(fd) }

    // MARK: Connect loop

    /// Starts `e`'s checks and adds it to the connect loop.
    func startConnecting(_ e: Endpoint, now: UInt64) {
        e.connectedAt = 0
        if let peer = e.peer {
            for d in peer.start(now: now) { e.send(d) }
            _ = shihui_epoll_add(connectEpoll, e.fd, shihui_EPOLLIN(), UInt64(e.index))
        } else {
            e.connectedAt = now
            handOver(e)
        }
    }

    /// Runs the connect loop until every endpoint in `pending` is connected or `deadline`.
    /// Returns the number still not connected.
    @discardableResult
    func pump(pending: [Endpoint], until deadline: UInt64, block: Bool) -> Int {
        var waiting = pending.filter { $0.connectedAt == 0 }
        var events = [shihui_epoll_event](repeating: shihui_epoll_event(), count: 256)
        var buffer = [UInt8](repeating: 0, count: 2048)
        var lastTick: UInt64 = 0
        while !waiting.isEmpty {
            let now = shihui_monotonic_ns()
            if now >= deadline { break }
            let n = shihui_epoll_wait(connectEpoll, &events, Int32(events.count), block ? 5 : 0)
            let t = shihui_monotonic_ns()
            for i in 0..<max(0, Int(n)) {
                let e = endpoints[Int(events[i].token)]
                guard let peer = e.peer else { continue }
                while true {
                    let got = recv(e.fd, &buffer, buffer.count, 0)
                    if got <= 0 { break }
                    let replies = buffer.withUnsafeBytes { peer.handle(UnsafeRawBufferPointer(rebasing: $0[0..<got]), now: t) }
                    for r in replies { e.send(r) }
                }
                if peer.state == .connected, e.connectedAt == 0 {
                    e.connectedAt = t
                    _ = shihui_epoll_del(connectEpoll, e.fd)
                    handOver(e)
                }
            }
            if t &- lastTick > 5_000_000 {
                lastTick = t
                for e in waiting { if let peer = e.peer { for d in peer.tick(now: t) { e.send(d) } } }
                waiting.removeAll { $0.connectedAt != 0 }
            }
            if !block && n <= 0 { break }
        }
        return waiting.filter { $0.connectedAt == 0 }.count
    }

    private func handOver(_ e: Endpoint) {
        lock.locked { media.append(e) }
        _ = shihui_epoll_add(mediaEpoll, e.fd, shihui_EPOLLIN(), UInt64(e.index))
    }

    // MARK: Media threads

    func startMedia() {
        let s = Thread { [self] in sendLoop() }
        s.name = "bench-send"
        senderThread = s
        s.start()
        let r = Thread { [self] in receiveLoop() }
        r.name = "bench-receive"
        receiverThread = r
        r.start()
    }

    func stopMedia() {
        lock.locked { stopping = true }
        done.wait()
        done.wait()
    }

    /// Zeroes the window's counters (the receiver thread does it on its next wake-up).
    func resetWindow() {
        lock.locked { resetRequested = true }
        while lock.locked({ resetRequested }) { usleep(1000) }
    }

    /// Totals since the last reset.
    func takeSnapshot() -> Totals {
        lock.locked {
            snapshot = nil
            snapshotRequested = true
        }
        while true {
            if let s = lock.locked({ snapshot }) { return s }
            usleep(1000)
        }
    }

    private func sendLoop() {
        let batch = 64
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: batch * Endpoint.slot, alignment: 16)
        defer { buffer.deallocate() }
        var lengths: [Int] = []
        var headers = [shihui_mmsghdr](repeating: shihui_mmsghdr(), count: batch)
        var iovecs = [iovec](repeating: iovec(), count: batch)
        var name = sockaddr_storage()
        // Endpoints by index, not reference (copying a reference out costs a retain and a
        // release); the frames due come from a heap ordered by due time.
        var schedule: [(endpoint: Int, stream: Int, interval: UInt64)] = []
        var queue = DueQueue()
        var known = 0
        var pacedActive: [Int] = []  // publishers with paced packets queued
        var lastConsent = shihui_monotonic_ns()
        while true {
            let now = shihui_monotonic_ns()
            var registered: [Endpoint] = []
            let (stop, nacks) = lock.locked { () -> (Bool, Bool) in
                if media.count > known { registered = Array(media[known...]) }
                defer { nacksPending = false }
                return (stopping, nacksPending)
            }
            if stop { break }
            known += registered.count
            for e in registered where e.role == .publisher {
                for (i, s) in e.streams.enumerated() {
                    let interval: UInt64 = s.kind == "video" ? UInt64(1_000_000_000) * UInt64(s.tick) / 90_000 : UInt64(s.tick) * 1_000_000_000 / 48_000
                    // Each stream at a phase of its own, as independent browsers are: publishers
                    // started together would otherwise send every frame in the same instant, a
                    // burst the server queues (90 audio packets at once every 20 ms in rooms 30×3).
                    queue.push(now &+ UInt64.random(in: 0..<interval), slot: schedule.count)
                    schedule.append((e.index, i, interval))
                }
            }
            while let due = queue.earliest, due <= now, let (itemDue, k) = queue.pop() {
                let item = schedule[k]
                let e = endpoints[item.endpoint]
                if e.streams[item.stream].kind == "video", e.requestLock.locked({ () -> Bool in
                    defer { e.keyframeRequested = false }
                    return e.keyframeRequested
                }) { e.streams[item.stream].keyframeWanted = true }
                // Stamped now, not at the top of the pass: with hundreds of publishers, the
                // frames built before this one would otherwise count as server latency.
                e.streams[item.stream].nextFrame(now: shihui_monotonic_ns(), buffer: buffer, slot: Endpoint.slot, lengths: &lengths)
                let video = e.streams[item.stream].kind == "video"
                let paced = video && e.pacingBitsPerSecond > 0
                for (i, n) in lengths.enumerated() {
                    let p = UnsafeMutableRawBufferPointer(start: buffer.baseAddress! + i * Endpoint.slot, count: Endpoint.slot)
                    let seq = UInt16(p[2]) << 8 | UInt16(p[3])
                    if video { e.remember(UnsafeRawBufferPointer(rebasing: p[0..<n]), sequenceNumber: seq) }
                    if paced { e.paced.append(seq) } else { lengths[i] = protect(p, length: n, endpoint: e) }
                }
                if paced {
                    if e.paced.count == lengths.count {
                        e.pacedNextAt = max(e.pacedNextAt, now)
                        pacedActive.append(e.index)
                    }
                } else {
                    sendBatch(e, buffer: buffer, lengths: lengths, headers: &headers, iovecs: &iovecs, name: &name)
                }
                var next = itemDue &+ item.interval
                if next &+ 1_000_000_000 < now { next = now &+ item.interval }  // fell far behind: do not burst
                queue.push(next, slot: k)
            }
            var nextDue = min(now &+ 2_000_000, queue.earliest ?? UInt64.max)
            var k = 0
            while k < pacedActive.count {
                let e = endpoints[pacedActive[k]]
                sendPaced(e, buffer: buffer)
                if e.paced.isEmpty {
                    pacedActive.swapAt(k, pacedActive.count - 1)
                    pacedActive.removeLast()
                } else {
                    nextDue = min(nextDue, e.pacedNextAt)
                    k += 1
                }
            }
            if nacks { answerNACKs(buffer: buffer) }
            if now &- lastConsent > 500_000_000 {
                lastConsent = now
                for e in lock.locked({ media }) { if let peer = e.peer { for d in peer.tick(now: now) { e.send(d) } } }
            }
            let clock = shihui_monotonic_ns()  // read once: the clock moves between two reads
            // At least 100 µs between passes: with thousands of publishers at phases of their
            // own, waking for each frame would make this thread, not the server, the limit.
            // Each packet is stamped when it leaves, not when due.
            let wait = nextDue > clock ? max(nextDue - clock, Self.minimumSleep) : 0
            if wait > 0 {
                var ts = timespec(tv_sec: Int(wait / 1_000_000_000), tv_nsec: Int(wait % 1_000_000_000))
                nanosleep(&ts, nil)
            }
        }
        done.signal()
    }

    /// Sends `e`'s queued video packets whose time has come: one every size × 8 / rate seconds
    /// (libwebrtc's pacer, without its budget carry-over beyond 2 ms), each stamped with its
    /// real send time.
    private func sendPaced(_ e: Endpoint, buffer: UnsafeMutableRawBufferPointer) {
        var now = shihui_monotonic_ns()
        if e.pacedNextAt &+ 2_000_000 < now { e.pacedNextAt = now &- 2_000_000 }
        var sent = 0
        while sent < e.paced.count, e.pacedNextAt <= now {
            let seq = e.paced[sent]
            sent += 1
            // Overwritten in the ring (the pacer fell 256 packets behind): dropped.
            guard let length = sendRemembered(e, sequenceNumber: seq, buffer: buffer, stampedAt: now) else { continue }
            e.pacedNextAt &+= UInt64(length) * 8 * 1_000_000_000 / UInt64(e.pacingBitsPerSecond)
            now = shihui_monotonic_ns()
        }
        e.paced.removeFirst(sent)
    }

    private func protect(_ p: UnsafeMutableRawBufferPointer, length n: Int, endpoint e: Endpoint) -> Int {
        if let out = e.peer?.outbound { return (try? out.protectRTP(p, length: n)) ?? n }
        if floorMode == .srtp { return n + 10 }  // the reflector's tag length: same sizes on the wire
        return n
    }

    private func answerNACKs(buffer: UnsafeMutableRawBufferPointer) {
        for e in lock.locked({ media }) where e.role == .publisher {
            let wanted = e.requestLock.locked { () -> [UInt16] in
                defer { e.nackRequested.removeAll() }
                return e.nackRequested
            }
            for seq in wanted.prefix(64) { _ = sendRemembered(e, sequenceNumber: seq, buffer: buffer, stampedAt: nil) }
        }
    }

    /// Sends `e`'s remembered video packet `seq` (plain RTP in its ring) protected, its send time
    /// restamped when given (a paced first send; a NACK answer keeps the original). Returns the
    /// plain length, or nil when the ring no longer holds that packet.
    private func sendRemembered(_ e: Endpoint, sequenceNumber seq: UInt16, buffer: UnsafeMutableRawBufferPointer, stampedAt now: UInt64?) -> Int? {
        let i = Int(seq) & (Endpoint.ringSize - 1)
        guard let ring = e.ring, e.ringSequence[i] == seq, e.ringLengths[i] > 0 else { return nil }
        let length = e.ringLengths[i]
        let p = UnsafeMutableRawBufferPointer(start: buffer.baseAddress!, count: Endpoint.slot)
        p.copyMemory(from: UnsafeRawBufferPointer(start: ring.baseAddress! + i * Endpoint.slot, count: length))
        if let now { SyntheticStream.stampVideoSendTime(p, now: now) }
        let n = protect(p, length: length, endpoint: e)
        e.send(UnsafeRawBufferPointer(rebasing: p[0..<n]))
        return length
    }

    private func sendBatch(_ e: Endpoint, buffer: UnsafeMutableRawBufferPointer, lengths: [Int],
                           headers: inout [shihui_mmsghdr], iovecs: inout [iovec], name: inout sockaddr_storage) {
        SocketAddress.store(e.remote, into: &name)
        let nameLength = SocketAddress.length(name)
        withUnsafeMutablePointer(to: &name) { namePointer in
            iovecs.withUnsafeMutableBufferPointer { iov in
                for i in lengths.indices {
                    iov[i] = iovec(iov_base: buffer.baseAddress! + i * Endpoint.slot, iov_len: lengths[i])
                    headers[i].msg_hdr.msg_iov = iov.baseAddress! + i
                    headers[i].msg_hdr.msg_iovlen = 1
                    headers[i].msg_hdr.msg_name = UnsafeMutableRawPointer(namePointer)
                    headers[i].msg_hdr.msg_namelen = nameLength
                }
                var offset = 0
                while offset < lengths.count {
                    let sent = headers.withUnsafeMutableBufferPointer { h in shihui_sendmmsg(e.fd, h.baseAddress! + offset, UInt32(lengths.count - offset)) }
                    if sent <= 0 { break }
                    offset += Int(sent)
                }
            }
        }
    }

    private func receiveLoop() {
        // The receiver shares a core with the sender. Arrival times come from the kernel, so the
        // receiver may wait; the sender must not (a send delayed after its time stamp would count
        // as server latency): this thread runs at the lowest priority (per-thread nice on Linux).
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)  // who 0: this thread (Linux)
        let batch = 32
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: batch * Endpoint.slot, alignment: 16)
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: Endpoint.slot, alignment: 16)
        defer {
            buffer.deallocate()
            scratch.deallocate()
        }
        let controlSpace = shihui_cmsg_space_timestamp()
        let control = UnsafeMutableRawBufferPointer.allocate(byteCount: batch * controlSpace, alignment: 16)
        defer { control.deallocate() }
        var headers = [shihui_mmsghdr](repeating: shihui_mmsghdr(), count: batch)
        var iovecs = [iovec](repeating: iovec(), count: batch)
        var events = [shihui_epoll_event](repeating: shihui_epoll_event(), count: 512)
        var totals = Totals()
        var base = Totals()  // counters at the last reset
        iovecs.withUnsafeMutableBufferPointer { iov in
            for i in 0..<batch {
                iov[i] = iovec(iov_base: buffer.baseAddress! + i * Endpoint.slot, iov_len: Endpoint.slot)
                headers[i].msg_hdr.msg_iov = iov.baseAddress! + i
                headers[i].msg_hdr.msg_iovlen = 1
                headers[i].msg_hdr.msg_control = control.baseAddress! + i * controlSpace
            }
        }
        while true {
            let n = shihui_epoll_wait(mediaEpoll, &events, Int32(events.count), 10)
            for k in 0..<max(0, Int(n)) {
                let e = endpoints[Int(events[k].token)]
                while true {
                    for i in 0..<batch { headers[i].msg_hdr.msg_controllen = controlSpace }  // recvmmsg overwrites it
                    let got = shihui_recvmmsg(e.fd, &headers, UInt32(batch), 0)
                    if got <= 0 { break }
                    // The kernel stamps arrivals with CLOCK_REALTIME; the send times are monotonic.
                    let now = shihui_monotonic_ns()
                    let realtimeAhead = Int64(bitPattern: shihui_realtime_ns() &- now)
                    for i in 0..<Int(got) {
                        let d = UnsafeMutableRawBufferPointer(start: buffer.baseAddress! + i * Endpoint.slot, count: Int(headers[i].msg_len))
                        let stamped = shihui_cmsg_get_rx_timestamp_ns(&headers[i].msg_hdr)
                        let arrived = stamped == 0 ? now : UInt64(bitPattern: Int64(bitPattern: stamped) &- realtimeAhead)
                        handle(d, endpoint: e, now: now, arrived: arrived, scratch: scratch, totals: &totals)
                    }
                    if got < Int32(batch) { break }
                }
            }
            let (stop, reset, want) = lock.locked { (stopping, resetRequested, snapshotRequested) }
            if reset {
                if debugLatency { FileHandle.standardError.write(Data("LAT \(shihui_monotonic_ns()) 0 reset\n".utf8)) }
                base = totals
                base.latency = LatencyHistogram()
                totals.latency = LatencyHistogram()
                base.readLatency = LatencyHistogram()
                totals.readLatency = LatencyHistogram()
                lock.locked { resetRequested = false }
            }
            if want {
                var s = totals
                s.packets -= base.packets
                s.bytes -= base.bytes
                s.expected -= base.expected
                s.authFailures -= base.authFailures
                s.replayed -= base.replayed
                s.sampled -= base.sampled
                lock.locked {
                    snapshot = s
                    snapshotRequested = false
                }
            }
            if stop { break }
        }
        done.signal()
    }

    @inline(__always)
    private func handle(_ d: UnsafeMutableRawBufferPointer, endpoint e: Endpoint, now: UInt64, arrived: UInt64,
                        scratch: UnsafeMutableRawBufferPointer, totals: inout Totals) {
        guard d.count >= 12, d[0] >= 128, d[0] <= 191 else { return }  // STUN/DTLS after connect: ignored
        if d[1] >= 192 && d[1] <= 223 {
            if e.role == .publisher { handleRTCP(d, endpoint: e) }
            return
        }
        guard e.role == .viewer else { return }
        let ssrc = UInt32(d[8]) << 24 | UInt32(d[9]) << 16 | UInt32(d[10]) << 8 | UInt32(d[11])
        let seq = UInt16(d[2]) << 8 | UInt16(d[3])
        let c = e.counterIndex(ssrc: ssrc)
        let expectedBefore = e.counters[c].expected
        e.counters[c].count(sequenceNumber: seq, bytes: d.count)
        totals.packets += 1
        totals.bytes += d.count
        totals.expected += e.counters[c].expected - expectedBefore
        if e.firstMediaAt == 0 { e.firstMediaAt = now }
        guard e.counters[c].packets % authSample == 1 || authSample == 1 else { return }
        totals.sampled += 1
        var plain = UnsafeRawBufferPointer(d)
        if let inbound = e.peer?.inbound {
            scratch.copyMemory(from: UnsafeRawBufferPointer(d))
            let n: Int
            do throws(SRTPError) { n = try inbound.unprotectRTP(scratch, length: d.count) } catch {
                // A duplicate (a server's retransmission of a packet we sampled) is not forgery.
                if error == .replayed { totals.replayed += 1 } else {
                    totals.authFailures += 1
                    if getenv("BENCH_DEBUG_AUTH") != nil {
                        let seq = UInt16(d[2]) << 8 | UInt16(d[3])
                        FileHandle.standardError.write(Data("auth \(error) ep=\(e.index) role=\(e.role) ssrc=\(ssrc) seq=\(seq) len=\(d.count) pt=\(d[1] & 0x7F) b0=\(d[0]) cnt=\(e.counters[c].packets) hi=\(e.counters[c].highest)\n".utf8))
                    }
                }
                return
            }
            plain = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(scratch)[0..<n])
        }  // the srtp floor leaves the send time in clear (tools/floor/reflector.c, CLEAR)
        guard let header = try? RTPHeader.parse(plain) else { return }
        let offset = header.payloadOffset + (header.payloadType == ClientSDP.audioPT ? SyntheticStream.audioTimeOffset : SyntheticStream.videoTimeOffset)
        guard offset + 8 <= plain.count else { return }
        let sent = plain.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        if arrived >= sent, arrived - sent < 10_000_000_000 { totals.latency.record(nanoseconds: arrived - sent)
            if debugLatency { FileHandle.standardError.write(Data("LAT \(sent) \(arrived - sent) ep=\(e.index) pt=\(header.payloadType) seq=\(header.sequenceNumber) read=\(now - sent) ssrc=\(header.ssrc)\n".utf8)) }
        }
        if now >= sent, now - sent < 10_000_000_000 { totals.readLatency.record(nanoseconds: now - sent) }
    }

    private func handleRTCP(_ d: UnsafeMutableRawBufferPointer, endpoint e: Endpoint) {
        guard let inbound = e.peer?.inbound, let n = try? inbound.unprotectRTCP(d, length: d.count),
              let packets = try? RTCPCompound.parse(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(d)[0..<n])) else { return }
        for p in packets {
            switch p {
            case .pictureLossIndication, .fullIntraRequest: e.requestLock.locked { e.keyframeRequested = true }
            case .nack(let nack):
                e.requestLock.locked { e.nackRequested += nack.lostSequenceNumbers }
                lock.locked { nacksPending = true }
            default: break
            }
        }
    }
}
