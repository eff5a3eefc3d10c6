import CShims
import Foundation
import MediaCrypto

/// Whether running DTLS handshakes on a thread of their own (glibc gives each thread its own
/// malloc arena) would stop a handshake storm from fragmenting the heap: `count` server
/// transports, each created here and kept (the long-lived part), handshaken here or on another
/// thread, then released; RSS and live heap after `malloc_trim`. One variant per process, so that
/// neither reuses the other's freed memory (docs/PERFORMANCE.md, memory per subscriber).
enum ArenaProbe {
    static func run(count n: Int, handshakesOnAnotherThread: Bool, dropKept: Bool) {
        let certificate = try! DTLSCertificate.generate()
        let server = DTLSContext(certificate: certificate)
        let client = DTLSContext(certificate: try! DTLSCertificate.generate())
        _ = shihui_malloc_trim()
        let before = MemoryProbe.rssKiB(), heapBefore = shihui_heap_in_use()
        var kept: [DTLSTransport] = []
        var keys: [[UInt8]] = []  // long-lived allocations made between handshakes, as a server makes them
        func handshake(_ s: DTLSTransport, _ i: Int) { MemoryProbe.handshake(s, with: client, expecting: certificate, now: UInt64(i)) }
        // A Thread of its own (DispatchQueue.sync would run the block on this thread).
        let go = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var job: (() -> Void)? = nil
        if handshakesOnAnotherThread {
            Thread { while true { go.wait(); job?(); done.signal() } }.start()
        }
        for i in 0..<n {
            let s = DTLSTransport(context: server, role: .server, remoteFingerprint: client.certificate.fingerprint)
            if handshakesOnAnotherThread {
                job = { handshake(s, i) }
                go.signal()
                done.wait()
            } else {
                handshake(s, i)
            }
            keys.append(SecureRandom.bytes(200))
            kept.append(s)
        }
        for s in kept { s.releaseAssociation() }
        // `dropKept`: free the transports too, leaving only the small arrays made between
        // handshakes: what the transports' own objects pin.
        if dropKept { kept = [] }
        _ = shihui_malloc_trim()
        let rss = (MemoryProbe.rssKiB() - before) * 1024 / n, live = (Int(shihui_heap_in_use()) - Int(heapBefore)) / n
        print("DTLS handshakes \(handshakesOnAnotherThread ? "on another thread" : "on this thread"), \(n) \(dropKept ? "transports freed, their 200-byte arrays kept" : "kept transports") after release: RSS \(rss) bytes, live heap \(live) bytes each")
        withExtendedLifetime((kept, keys)) {}
    }
}
