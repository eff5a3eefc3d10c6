import MediaWire

/// The benchmark body. It lives in a nonisolated type, not in main.swift: closures written in
/// top-level code are main-actor isolated and each call then pays a dynamic executor check
/// (seen in `perf` as swift_task_isCurrentExecutor), which would be measured instead of the parser.
enum WireBench {
    static func run(quick: Bool) {
        let iterations = quick ? 2_000_000 : 20_000_000
        let trials = quick ? 3 : 7

        /// A 1200-byte VP8 packet with three one-byte extensions (mid, abs-send-time, transport-cc),
        /// as a browser publishes it.
        func makePackets() -> [[UInt8]] {
            (0..<64).map { i in
                var b = RTPPacketBuilder(payloadType: 96, sequenceNumber: UInt16(i * 977 & 0xFFFF), timestamp: UInt32(i) * 3000,
                                         ssrc: 0x1234_5678 &+ UInt32(i), marker: i % 8 == 0)
                b.extensions = [
                    RTPHeaderExtensionElement(id: 4, value: [UInt8(ascii: "1")]),
                    RTPHeaderExtensionElement(id: 2, value: [UInt8(i), 0x20, 0x30]),
                    RTPHeaderExtensionElement(id: 3, value: [UInt8(i >> 8), UInt8(i & 0xFF)]),
                ]
                b.payload = [0x90, 0x80, UInt8(i)] + [UInt8](repeating: UInt8(i), count: 1200 - 12 - 16 - 3)
                return b.serialized()
            }
        }

        /// Runs `body` over the ring `iterations` times per trial; returns the best ns per call.
        func measure(_ name: String, _ packets: UnsafeMutableRawBufferPointer, stride: Int, count: Int,
                     _ body: (UnsafeMutableRawBufferPointer, Int) -> UInt64) -> (Double, UInt64) {
            var best = Double.infinity
            var checksum: UInt64 = 0
            let clock = ContinuousClock()
            for _ in 0..<trials {
                let start = clock.now
                var sum: UInt64 = 0
                for i in 0..<iterations {
                    let slot = i & 63
                    let packet = UnsafeMutableRawBufferPointer(rebasing: packets[(slot * stride)..<(slot * stride + count)])
                    sum &+= body(packet, i)
                }
                let elapsed = clock.now - start
                let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
                best = min(best, ns / Double(iterations))
                checksum &+= sum
            }
            return (best, checksum)
        }

        let packets = makePackets()
        let stride = 2048
        let ring = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * stride, alignment: 64)
        for (i, p) in packets.enumerated() {
            UnsafeMutableRawBufferPointer(rebasing: ring[(i * stride)..<(i * stride + p.count)]).copyMemory(from: p.withUnsafeBytes { $0 })
        }
        let length = packets[0].count

        // Baseline: the irreducible work of reading the three header words a parser must read.
        let (baseline, c0) = measure("baseline", ring, stride: stride, count: length) { p, _ in
            let b = UnsafeRawBufferPointer(p)
            return UInt64(b.readU16(0)) ^ UInt64(b.readU32(4)) ^ UInt64(b.readU32(8))
        }

        let (parse, c1) = measure("rtp-parse", ring, stride: stride, count: length) { p, _ in
            guard let h = try? RTPHeader.parse(UnsafeRawBufferPointer(p)) else { return 1 }
            return UInt64(h.sequenceNumber) ^ UInt64(h.timestamp) ^ UInt64(h.ssrc) ^ UInt64(h.payloadOffset)
        }

        // What an SFU does per forwarded packet: parse, rewrite seq/ts/ssrc, and rewrite the
        // transport-cc sequence number (RFC 8285 element, same length) in place.
        let (rewrite, c2) = measure("ext-rewrite", ring, stride: stride, count: length) { p, i in
            guard let h = try? RTPHeader.parse(UnsafeRawBufferPointer(p)) else { return 1 }
            var twcc = UInt16(truncatingIfNeeded: i).bigEndian
            let ok = withUnsafeBytes(of: &twcc) { v in (try? RTPHeaderExtensionEditor.rewrite(3, value: v, in: p, header: h)) ?? false }
            return ok ? UInt64(h.sequenceNumber) : 7
        }

        let (fullRewrite, c3) = measure("forward-rewrite", ring, stride: stride, count: length) { p, i in
            guard let h = try? RTPHeader.parse(UnsafeRawBufferPointer(p)) else { return 1 }
            RTPHeaderRewriter.setSequenceNumber(h.sequenceNumber &+ 1, in: p)
            RTPHeaderRewriter.setTimestamp(h.timestamp &+ 90, in: p)
            RTPHeaderRewriter.setSSRC(0xCAFE_F00D, in: p)
            var twcc = UInt16(truncatingIfNeeded: i).bigEndian
            let ok = withUnsafeBytes(of: &twcc) { v in (try? RTPHeaderExtensionEditor.rewrite(3, value: v, in: p, header: h)) ?? false }
            return ok ? UInt64(h.timestamp) : 7
        }

        // For reference: classification and VP8 keyframe detection, also per packet.
        let (demux, c4) = measure("demux+vp8", ring, stride: stride, count: length) { p, _ in
            let b = UnsafeRawBufferPointer(p)
            guard PacketDemultiplexer.classify(b) == .rtp, let h = try? RTPHeader.parse(b) else { return 1 }
            return VP8PayloadDescriptor.isKeyFrameStart(h.payload(in: b)) ? 3 : 5
        }

        print("wire-bench (\(iterations) iterations × \(trials) trials, best trial; 1200-byte VP8 packet, 3 extensions)")
        func row(_ name: String, _ ns: Double) {
            let nsText = String(Int((ns * 100).rounded())).paddedDecimal
            let ratio = String(Int((ns / baseline * 10).rounded())).paddedRatio
            print("  \(name.padding(28)) \(nsText) ns/op   \(ratio)× baseline")
        }
        row("baseline (3 header loads)", baseline)
        row("RTP header parse", parse)
        row("RFC 8285 extension rewrite", rewrite)
        row("forward rewrite (seq,ts,ssrc,ext)", fullRewrite)
        row("demux + VP8 keyframe check", demux)
        print("checksum \(c0 &+ c1 &+ c2 &+ c3 &+ c4)")
        print("rtp_parse_ns=\(String(Int((parse * 100).rounded())).paddedDecimal.trimmed) ext_rewrite_ns=\(String(Int((rewrite * 100).rounded())).paddedDecimal.trimmed) baseline_ns=\(String(Int((baseline * 100).rounded())).paddedDecimal.trimmed)")
        ring.deallocate()


    }
}

extension String {
    /// "1234" hundredths → "  12.34" (no Foundation formatting on purpose).
    var paddedDecimal: String {
        let v = Int(self)!
        let text = "\(v / 100).\(v % 100 < 10 ? "0" : "")\(v % 100)"
        return String(repeating: " ", count: max(0, 7 - text.count)) + text
    }
    /// "23" tenths → "2.3".
    var paddedRatio: String {
        let v = Int(self)!
        let text = "\(v / 10).\(v % 10)"
        return String(repeating: " ", count: max(0, 5 - text.count)) + text
    }
    var trimmed: String { String(drop { $0 == " " }) }
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
