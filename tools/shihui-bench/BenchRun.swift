import CShims
import Foundation
import Glibc
import MediaCrypto
import MediaWire

/// One scenario run: set up endpoints, connect publishers, start media, join viewers, measure a
/// window, print one JSON object.
enum BenchRun {
    static func run(_ o: BenchOptions) throws -> [String: Any] {
        raiseOpenFileLimit()
        let topology = Topology.make(o)
        let certificate = try DTLSCertificate.generate()
        let context = DTLSContext(certificate: certificate)
        let joiner: any Joiner
        switch o.target {
        case .shihui where o.signaling == .meeting: joiner = MeetingSignaling(http: o.http, secret: Array(o.secret.utf8), context: context, shape: o.video)
        case .shihui: joiner = ShihuiSignaling(http: o.http, secret: Array(o.secret.utf8), context: context, shape: o.video)
        case .janus: joiner = try JanusSignaling(http: o.janus, context: context, shape: o.video, publishers: topology.publishers.count)
        case .floor: joiner = FloorJoiner(address: o.floor, shape: o.video)
        }
        let engine = MediaEngine(capacity: topology.publishers.count + topology.viewers.count, authSample: o.authSample,
                                 floorMode: o.target == .floor ? o.floorMode : nil)
        var publishers: [Endpoint] = []
        var viewers: [Endpoint] = []
        for _ in topology.publishers { let e = try Endpoint(role: .publisher, index: engine.endpoints.count, bind: o.bind, remote: o.http); engine.add(e); publishers.append(e) }
        for _ in topology.viewers { let e = try Endpoint(role: .viewer, index: engine.endpoints.count, bind: o.bind, remote: o.http); engine.add(e); viewers.append(e) }
        let before = ProcessSample.read(pid: o.serverPID)
        let heapBefore = o.target == .shihui ? Self.heapInUse(o.http) : nil

        // Publishers: signal, connect, start sending.
        for (e, p) in zip(publishers, topology.publishers) {
            try joiner.publish(e, p)
            engine.startConnecting(e, now: shihui_monotonic_ns())
        }
        let pending = engine.pump(pending: publishers, until: shihui_monotonic_ns() + 30_000_000_000, block: true)
        guard pending == 0 else { throw BenchError("\(pending) publishers did not connect") }
        engine.startMedia()
        usleep(500_000)

        // Viewers: signaled by `workers` threads at once (Janus's joiner keeps per-session
        // state: one), handshakes driven by this thread meanwhile.
        let joinStart = shihui_monotonic_ns()
        let joinCPU0 = ProcessSample.read(pid: o.serverPID)
        let selfCPU0 = ProcessSample.read(pid: getpid())
        let queue = JoinQueue(count: viewers.count)
        let viewerList = viewers
        let workers = o.target == .janus ? 1 : min(4, max(1, viewers.count))
        let finished = DispatchSemaphore(value: 0)
        for _ in 0..<workers {
            Thread {
                while let i = queue.next() {
                    let e = viewerList[i]
                    e.joinStartedAt = shihui_monotonic_ns()
                    do {
                        try joiner.view(e, topology.viewers[i])
                        queue.ready(e)
                    } catch {
                        queue.fail(error)
                    }
                }
                finished.signal()
            }.start()
        }
        var started: [Endpoint] = []
        while !queue.allSignaled {
            for e in queue.takeReady() {
                engine.startConnecting(e, now: shihui_monotonic_ns())
                started.append(e)
            }
            if started.isEmpty { usleep(200) } else { engine.pump(pending: started, until: shihui_monotonic_ns() + 2_000_000, block: true) }
        }
        for _ in 0..<workers { finished.wait() }
        if let error = queue.error { throw error }
        joiner.signalingDone()
        for e in queue.takeReady() { engine.startConnecting(e, now: shihui_monotonic_ns()) }
        let notConnected = engine.pump(pending: viewers, until: shihui_monotonic_ns() + 60_000_000_000, block: true)
        let joinEnd = viewers.map(\.connectedAt).max() ?? joinStart
        let joinSeconds = Double(joinEnd &- joinStart) / 1e9
        let joinServerCPU = (ProcessSample.read(pid: o.serverPID)?.cpuSeconds ?? 0) - (joinCPU0?.cpuSeconds ?? 0)
        let joinSelfCPU = (ProcessSample.read(pid: getpid())?.cpuSeconds ?? 0) - (selfCPU0?.cpuSeconds ?? 0)

        usleep(UInt32(o.warmup * 1e6))
        engine.resetWindow()
        let heapAtStart = o.target == .shihui ? Self.heapInUse(o.http) : nil
        let cpu0 = ProcessSample.read(pid: o.serverPID)
        let self0 = ProcessSample.read(pid: getpid())
        let t0 = shihui_monotonic_ns()
        usleep(UInt32(o.duration * 1e6))
        let totals = engine.takeSnapshot()
        let t1 = shihui_monotonic_ns()
        let cpu1 = ProcessSample.read(pid: o.serverPID)
        let self1 = ProcessSample.read(pid: getpid())
        let heapAfter = o.target == .shihui ? Self.heapInUse(o.http) : nil
        engine.stopMedia()

        let window = Double(t1 - t0) / 1e9
        let serverCPU = (cpu1?.cpuSeconds ?? 0) - (cpu0?.cpuSeconds ?? 0)
        let firstMedia = viewers.filter { $0.firstMediaAt > 0 }.map { Double($0.firstMediaAt &- $0.joinStartedAt) / 1e6 }.sorted()
        func pick(_ xs: [Double], _ q: Double) -> Double? { xs.isEmpty ? nil : xs[min(xs.count - 1, Int(Double(xs.count) * q))] }
        var result: [String: Any] = [
            "label": o.label, "target": o.target.rawValue, "scenario": o.scenario.rawValue, "signaling": o.signaling.rawValue,
            "publishers": publishers.count, "viewer_connections": viewers.count, "not_connected": notConnected,
            "window_seconds": window, "delivered_packets": totals.packets, "delivered_bytes": totals.bytes,
            "delivered_pps": Double(totals.packets) / window,
            "loss": totals.expected > 0 ? max(0, Double(totals.expected - totals.packets) / Double(totals.expected)) : 0,
            "auth_sampled": totals.sampled, "auth_failures": totals.authFailures, "auth_replayed": totals.replayed,
            "server_cpu_seconds": serverCPU,
            "server_cpu_fraction": serverCPU / window,
            "pps_per_server_cpu_second": serverCPU > 0 ? Double(totals.packets) / serverCPU : 0,
            "generator_cpu_seconds": (self1?.cpuSeconds ?? 0) - (self0?.cpuSeconds ?? 0),
            "server_rss_kib_before": before?.rssKiB ?? 0, "server_rss_kib_after": cpu1?.rssKiB ?? 0,
            "join_seconds": joinSeconds, "join_server_cpu_seconds": joinServerCPU, "join_generator_cpu_seconds": joinSelfCPU, "joins_per_second": joinSeconds > 0 ? Double(viewers.count) / joinSeconds : 0,
            "latency_cdf_us": totals.latency.cdf(),
        ]
        if let heapAfter, let heapBefore {
            result["server_heap_kib_before"] = heapBefore.inUse / 1024
            result["server_heap_kib_after"] = heapAfter.inUse / 1024
            result["server_heap_free_kib_after"] = heapAfter.free / 1024
            result["server_crypto_heap_mapped_kib_after"] = heapAfter.cryptoMapped / 1024
            result["server_crypto_heap_in_use_kib_after"] = heapAfter.cryptoInUse / 1024
        }
        if let heapAfter, let heapAtStart {
            // OpenSSL allocations while media flowed: none are expected per packet.
            result["server_crypto_allocations_in_window"] = heapAfter.cryptoAllocations - heapAtStart.cryptoAllocations
        }
        if let v = totals.latency.quantile(0.5) { result["latency_p50_us"] = v }
        if let v = totals.latency.quantile(0.99) { result["latency_p99_us"] = v }
        if let v = totals.latency.quantile(0.999) { result["latency_p999_us"] = v }
        // The same packets timed to when the generator's receiver thread read them (its own scheduling
        // included): how far the kernel-stamped figures above are from what an application would see.
        if let v = totals.readLatency.quantile(0.5) { result["read_latency_p50_us"] = v }
        if let v = totals.readLatency.quantile(0.99) { result["read_latency_p99_us"] = v }
        let connect = viewers.filter { $0.connectedAt > 0 }.map { Double($0.connectedAt &- $0.joinStartedAt) / 1e6 }.sorted()
        if let v = pick(connect, 0.5) { result["join_p50_ms"] = v }
        if let v = pick(connect, 0.99) { result["join_p99_ms"] = v }
        if let v = connect.last { result["join_max_ms"] = v }
        if let v = pick(firstMedia, 0.5) { result["first_media_p50_ms"] = v }
        if let v = pick(firstMedia, 0.99) { result["first_media_p99_ms"] = v }
        return result
    }

    /// The server's live heap in bytes (its `shihui_heap_bytes_in_use` metric plus OpenSSL's heap),
    /// malloc's free bytes, and OpenSSL's heap counters; nil if unreadable.
    static func heapInUse(_ http: TransportAddress) -> (inUse: Int, free: Int, cryptoAllocations: Int, cryptoMapped: Int, cryptoInUse: Int)? {
        guard let r = try? HTTPClient.request("GET", http, "/metrics", timeoutSeconds: 5) else { return nil }
        let lines = String(decoding: r.body, as: UTF8.self).split(separator: "\n")
        func gauge(_ name: String) -> Int? { lines.first { $0.hasPrefix(name + " ") }.flatMap { Int($0.split(separator: " ")[1]) } }
        guard let inUse = gauge("shihui_heap_bytes_in_use"), let free = gauge("shihui_heap_bytes_free") else { return nil }
        // OpenSSL's heap (when the server runs it) holds live memory too: counted with the rest.
        let crypto = gauge("shihui_crypto_heap_bytes_in_use") ?? 0
        return (inUse + crypto, free, gauge("shihui_crypto_heap_allocations_total") ?? 0, gauge("shihui_crypto_heap_bytes_mapped") ?? 0, crypto)
    }

    static func raiseOpenFileLimit() {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

/// Hands viewers to the signaling threads and their signaled endpoints back to the connect loop.
final class JoinQueue: @unchecked Sendable {
    private let lock = Lock()
    private let count: Int
    private var nextIndex = 0
    private var done = 0
    private var readyList: [Endpoint] = []
    private(set) var error: Error? = nil

    init(count: Int) { self.count = count }

    func next() -> Int? {
        lock.locked {
            guard nextIndex < count, error == nil else { return nil }
            defer { nextIndex += 1 }
            return nextIndex
        }
    }

    func ready(_ e: Endpoint) { lock.locked { readyList.append(e); done += 1 } }
    func fail(_ e: Error) { lock.locked { error = e; done = count } }
    func takeReady() -> [Endpoint] { lock.locked { defer { readyList.removeAll() }; return readyList } }
    var allSignaled: Bool { lock.locked { done >= count } }
}
