import MediaCrypto
import MediaWire
import SFU

@_silgen_name("malloc_usable_size") private func mallocUsableSize(_ p: UnsafeMutableRawPointer) -> Int

/// `sfu-bench --layout`: the heap objects a connected viewer (two subscriptions, SRTP keyed)
/// keeps in the media plane, each with the size of its malloc chunk (usable size + 8 bytes of
/// header), the figures the per-viewer memory work counts in (docs/PERFORMANCE.md).
enum LayoutProbe {
    static func chunk(_ o: AnyObject) -> Int { mallocUsableSize(Unmanaged.passUnretained(o).toOpaque()) + 8 }

    static func run() {
        let context = DTLSContext(certificate: try! DTLSCertificate.generate())
        let router = MemoryProbe.routerWithPublisher(context: context)
        let ids = MemoryProbe.addViewers(1, to: router)
        MemoryProbe.connectAndSubscribe(ids, in: router)
        let t = router.transport(ids[0])!
        var rows: [(String, Int)] = [("WebRTCTransport", chunk(t)), ("ICELiteAgent", chunk(t.ice))]
        if let dtls = t.dtls { rows.append(("DTLSTransport (until released and quiet)", chunk(dtls))) }
        if let s = t.inbound { rows.append(("SRTPContext inbound", chunk(s))) }
        if let s = t.outbound { rows.append(("SRTPContext outbound", chunk(s))) }
        for s in t.subscriptionObjects { rows.append(("Subscription", chunk(s))) }
        print("a connected viewer's media-plane objects (malloc chunks, bytes):")
        for (name, size) in rows { print("  \(name.padding(toLength: 42, withPad: " ", startingAt: 0)) \(size)") }
        let kept = rows.filter { !$0.0.hasPrefix("DTLSTransport") }.reduce(0) { $0 + $1.1 }
        print("  total once DTLS is over: \(kept) bytes (besides its dictionary entries and its places in the track lists)")
    }
}
