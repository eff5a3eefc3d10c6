import MediaCrypto
import MediaWire
import SFU

/// The benchmark body (nonisolated: closures in top-level code would pay actor checks per call).
enum SFUBench {
    static let payloadSize = 1200 - 12 - 10

    static func keys(_ profile: SRTPProfile) -> DTLSTransport.SRTPKeys {
        DTLSTransport.SRTPKeys(profile: profile, localKey: SecureRandom.bytes(16), localSalt: SecureRandom.bytes(profile.masterSaltLength),
                               remoteKey: SecureRandom.bytes(16), remoteSalt: SecureRandom.bytes(profile.masterSaltLength))
    }

    static func answer(_ direction: MediaSection.Direction, fingerprint: [UInt8]) -> TransportParameters {
        TransportParameters(remoteUfrag: "x", remoteFingerprint: fingerprint, dtlsRole: .server,
                            media: [MediaSection(mid: "0", codec: .vp8, payloadType: 96, extensions: [MediaSection.midExtensionURI: 1], direction: direction)])
    }


    static func measure(_ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        body()
        let d = clock.now - start
        return Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
    }

    static func run(quick: Bool, profile: SRTPProfile) {
        let packets = quick ? 3_000 : 20_000
        let certificate = try! DTLSCertificate.generate()
        print("sfu-bench (\(profile), \(packets) packets of 1200 bytes per run, best of 3; ns per packet)")
        // Baseline: unprotect + protect of one packet, same sizes and profile.
        let k = keys(profile)
        let sender = SRTPContext(profile: profile, masterKey: k.remoteKey, masterSalt: k.remoteSalt)
        let receiver = SRTPContext(profile: profile, masterKey: k.remoteKey, masterSalt: k.remoteSalt)
        let forwarder = SRTPContext(profile: profile, masterKey: k.localKey, masterSalt: k.localSalt)
        let protectedPackets = makePackets(count: packets, context: sender)
        var baseline = Double.infinity
        for _ in 0..<3 {
            let r = SRTPContext(profile: profile, masterKey: k.remoteKey, masterSalt: k.remoteSalt)
            let f = SRTPContext(profile: profile, masterKey: k.localKey, masterSalt: k.localSalt)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 16)
            defer { buffer.deallocate() }
            let ns = measure {
                for p in protectedPackets {
                    p.withUnsafeBytes { buffer.copyMemory(from: $0) }
                    let n = try! r.unprotectRTP(buffer, length: p.count)
                    _ = try! f.protectRTP(buffer, length: n)
                }
            }
            baseline = min(baseline, ns / Double(packets))
        }
        _ = (receiver, forwarder)
        print("  baseline: SRTP unprotect + protect          \(format(baseline)) ns")
        var rows: [(Int, Double)] = []
        for subscribers in [1, 5, 10, 20, 200] {
            var best = Double.infinity
            for _ in 0..<3 {
                best = min(best, forward(subscribers: subscribers, packets: packets, profile: profile, certificate: certificate, tap: nil))
            }
            rows.append((subscribers, best))
            let perForwarded = best / Double(subscribers)
            print("  1 → \(subscribers) subscribers: per input packet \(format(best)) ns, per forwarded packet \(format(perForwarded)) ns (\(format(perForwarded / baseline))× baseline)")
        }
        let perForwarded20 = rows.first { $0.0 == 20 }!.1 / 20
        print("sfu_forward_ns_per_packet_20=\(format(perForwarded20)) baseline_ns=\(format(baseline)) forwarded_packets_per_cpu_second_20=\(Int(1e9 / perForwarded20))")
    }

    /// ns per input packet through a router with one publisher and `subscribers` viewers, and
    /// `tap` on the track if given (drained every 256 packets).
    static func forward(subscribers: Int, packets: Int, profile: SRTPProfile, certificate: DTLSCertificate, tap: TapRing?) -> Double {
        let router = MediaRouter(dtlsContext: DTLSContext(certificate: certificate))
        let publisherKeys = keys(profile)
        let key = MediaRouter.TrackKey(publisher: ParticipantKey(room: "room", identity: "p"), kind: .video)
        let pub = router.addTransport(answer(.receiving, fingerprint: certificate.fingerprint), localUfrag: "p", now: 0)
        router.connectWithoutHandshake(transport: pub, keys: publisherKeys, address: TransportAddress(ip: .loopbackV4, port: 10_000))
        router.publish(transport: pub, publisher: key.publisher)
        for i in 0..<subscribers {
            let sub = router.addTransport(answer(.sending, fingerprint: certificate.fingerprint), localUfrag: "s\(i)", now: 0)
            router.connectWithoutHandshake(transport: sub, keys: keys(profile), address: TransportAddress(ip: .loopbackV4, port: UInt16(20_000 + i)))
            router.subscribe(transport: sub, to: key, ssrc: UInt32(1000 + i), now: 0)
        }
        if let tap { precondition(router.addTap(tap, to: key)) }
        let client = SRTPContext(profile: profile, masterKey: publisherKeys.remoteKey, masterSalt: publisherKeys.remoteSalt)
        let input = makePackets(count: packets, context: client)
        let from = TransportAddress(ip: .loopbackV4, port: 10_000)
        var sent = 0, tapped = 0
        let ns = measure {
            for (i, p) in input.enumerated() {
                p.withUnsafeBytes { router.handle($0, from: from, now: UInt64(i) * 1_000_000) { _, _ in sent += 1 } }
                // The tap's consumer, kept in step here so that the ring stays as warm as a
                // drained one: it takes the packets and reads nothing.
                if let tap, i & 255 == 255 { tapped += tap.drain { _, _ in } }
            }
        }
        precondition(sent >= packets * subscribers - subscribers * 2, "forwarding did not happen: \(sent)")
        if let tap { precondition(tapped + tap.count >= packets - 2 && tap.takeDropped() == 0, "the tap missed packets: \(tapped)") }
        return ns / Double(packets)
    }

    /// What a tap costs, and what none costs: 1 → 20 forwarding with no tap and with one, in
    /// alternating runs (best of 5 each), and the no-tap runs split in two halves to show the
    /// spread between identical runs.
    static func taps(quick: Bool, profile: SRTPProfile) {
        let packets = quick ? 3_000 : 20_000
        let certificate = try! DTLSCertificate.generate()
        var none: [Double] = [], tapped: [Double] = []
        for _ in 0..<5 {
            none.append(forward(subscribers: 20, packets: packets, profile: profile, certificate: certificate, tap: nil))
            tapped.append(forward(subscribers: 20, packets: packets, profile: profile, certificate: certificate, tap: TapRing(capacity: 512)))
            none.append(forward(subscribers: 20, packets: packets, profile: profile, certificate: certificate, tap: nil))
        }
        let evens = stride(from: 0, to: none.count, by: 2).map { none[$0] }.min()!
        let odds = stride(from: 1, to: none.count, by: 2).map { none[$0] }.min()!
        let best = none.min()!, withTap = tapped.min()!
        print("sfu-bench --taps (\(profile), 1 → 20, \(packets) packets, ns per input packet, best of 5)")
        print("  no tap: \(format(best)) (two halves of the runs: \(format(evens)) and \(format(odds)))")
        print("  one tap: \(format(withTap)) (\(withTap >= best ? "+" : "")\(format(withTap - best)) ns per packet for its copy into the ring)")
        print("sfu_taps_none_ns=\(format(best)) sfu_taps_none_spread_ns=\(format(abs(evens - odds))) sfu_taps_one_ns=\(format(withTap))")
    }

    static func makePackets(count: Int, context: SRTPContext) -> [[UInt8]] {
        (0..<count).map { i in
            var b = RTPPacketBuilder(payloadType: 96, sequenceNumber: UInt16(truncatingIfNeeded: i), timestamp: UInt32(i / 4) * 3000, ssrc: 0xABCD, marker: i % 4 == 3)
            b.payload = [0x90, 0x80, UInt8(i & 0x7F)] + [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: payloadSize - 3)
            var plain = b.serialized() + [UInt8](repeating: 0, count: 32)
            let n = plain.withUnsafeMutableBytes { try! context.protectRTP($0, length: $0.count - 32) }
            return Array(plain[..<n])
        }
    }

    static func format(_ v: Double) -> String {
        if v < 0 { return "-" + format(-v) }
        let hundredths = Int((v * 100).rounded())
        let frac = hundredths % 100
        return "\(hundredths / 100).\(frac < 10 ? "0" : "")\(frac)"
    }
}
