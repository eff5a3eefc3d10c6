import MediaWire

/// Synthetic media shaped like a browser's, with the send time inside each payload so receivers
/// measure latency: VP8 frames at `fps` splitting `bitrate` into packets of at most `packetSize`
/// bytes (RTP header included; marker on a frame's last packet), a keyframe (3× a delta frame)
/// every `keyframeInterval` frames or when asked (PLI); Opus at 20 ms, ~100 bytes.
///
/// Layout after the RTP header and our mid extension (20 bytes): VP8 payload descriptor (3 bytes,
/// RFC 7741 §4.2, with a 7-bit picture ID), VP8 payload header byte (P bit 0 on a keyframe's first
/// packet), then the 8-byte monotonic send time in nanoseconds. Audio: Opus TOC byte, send time.
struct SyntheticStream {
    let kind: String
    let ssrc: UInt32
    let payloadType: UInt8
    let mid: UInt8
    /// Below 2^15 at the start, as libwebrtc starts its streams (see RTPStreamRewriter).
    var sequenceNumber = UInt16.random(in: 1...0x7FFF)
    var timestamp = UInt32.random(in: 0...UInt32.max)
    var frames = 0
    var keyframeWanted = true
    let packetSize: Int
    let frameBytes: Int
    let keyframeInterval: Int
    let tick: UInt32
    /// RTP header with our one-word mid extension block: what `nextFrame` writes before the payload.
    static let headerLength = 20
    /// Offset of the send time within a packet's payload (after the RTP header).
    static let videoTimeOffset = 4
    static let audioTimeOffset = 1

    static func video(ssrc: UInt32, mid: UInt8, bitrate: Int, fps: Int, packetSize: Int, keyframeSeconds: Int) -> SyntheticStream {
        SyntheticStream(kind: "video", ssrc: ssrc, payloadType: ClientSDP.videoPT, mid: mid, packetSize: packetSize,
                        frameBytes: max(64, bitrate / 8 / fps), keyframeInterval: max(1, keyframeSeconds * fps), tick: UInt32(90_000 / fps))
    }

    /// Opus every `ptime` ms (20 as browsers send; longer to thin out very large runs).
    static func audio(ssrc: UInt32, mid: UInt8, ptime: Int = 20) -> SyntheticStream {
        SyntheticStream(kind: "audio", ssrc: ssrc, payloadType: ClientSDP.audioPT, mid: mid, packetSize: 20 + 100,
                        frameBytes: 100, keyframeInterval: 1, tick: UInt32(48 * max(10, ptime)))
    }

    /// Rewrites the send time of a plain video packet built by `nextFrame` (a paced packet leaves
    /// after its frame was built).
    static func stampVideoSendTime(_ p: UnsafeMutableRawBufferPointer, now: UInt64) {
        p.storeBytes(of: now, toByteOffset: headerLength + videoTimeOffset, as: UInt64.self)
    }

    /// Writes the next frame's packets (plain RTP) into consecutive `slot`-byte slots of `buffer`;
    /// returns their lengths.
    mutating func nextFrame(now: UInt64, buffer: UnsafeMutableRawBufferPointer, slot: Int, lengths: inout [Int]) {
        lengths.removeAll(keepingCapacity: true)
        let key = kind == "video" && (keyframeWanted || frames % keyframeInterval == 0)
        if key { keyframeWanted = false }
        var remaining = key ? frameBytes * 3 : frameBytes
        let header = Self.headerLength
        let maxPayload = packetSize - header
        var first = true
        while remaining > 0 || first {
            let payload = min(maxPayload, max(remaining, 16))
            remaining -= payload
            let last = remaining <= 0
            let p = UnsafeMutableRawBufferPointer(start: buffer.baseAddress! + lengths.count * slot, count: slot)
            p[0] = 0x90  // V=2, X=1
            p[1] = (last ? 0x80 : 0) | payloadType
            p.storeBytes(of: sequenceNumber.bigEndian, toByteOffset: 2, as: UInt16.self)
            p.storeBytes(of: timestamp.bigEndian, toByteOffset: 4, as: UInt32.self)
            p.storeBytes(of: ssrc.bigEndian, toByteOffset: 8, as: UInt32.self)
            // RFC 8285 one-byte block: mid (ID 1, one byte), padded to a word.
            p[12] = 0xBE; p[13] = 0xDE; p[14] = 0; p[15] = 1
            p[16] = 0x10; p[17] = mid; p[18] = 0; p[19] = 0
            if kind == "video" {
                p[20] = first ? 0x90 : 0x80  // X, S on the first packet of the frame
                p[21] = 0x80  // I: picture ID present
                p[22] = UInt8(frames & 0x7F)
                p[23] = first && key ? 0x00 : 0x01  // VP8 header: P = 0 on a keyframe
                p.storeBytes(of: now, toByteOffset: header + Self.videoTimeOffset, as: UInt64.self)
            } else {
                p[20] = 0x78  // Opus TOC: SILK WB 20 ms, mono
                p.storeBytes(of: now, toByteOffset: header + Self.audioTimeOffset, as: UInt64.self)
            }
            lengths.append(header + payload)
            sequenceNumber &+= 1
            first = false
            if last { break }
        }
        frames += 1
        timestamp &+= tick
    }
}

/// Receive-side counters for one stream: packets, bytes, highest extended sequence number.
struct StreamCounter {
    var ssrc: UInt32
    var packets = 0
    var bytes = 0
    var firstSequence: Int64 = -1
    var highest: Int64 = 0

    mutating func count(sequenceNumber seq: UInt16, bytes n: Int) {
        packets += 1
        bytes += n
        if firstSequence < 0 {
            firstSequence = Int64(seq)
            highest = Int64(seq)
            return
        }
        // Extend relative to the highest seen (wrap-aware).
        let delta = Int64(Int16(bitPattern: seq &- UInt16(truncatingIfNeeded: highest)))
        if delta > 0 { highest += delta }
    }

    var expected: Int { firstSequence < 0 ? 0 : Int(highest - firstSequence + 1) }
}

/// Latency histogram with 1 µs buckets up to 100 ms (and one overflow bucket).
struct LatencyHistogram {
    static let buckets = 100_000
    var counts = [UInt32](repeating: 0, count: buckets + 1)
    var total = 0

    mutating func record(nanoseconds: UInt64) {
        let us = Int(min(UInt64(Self.buckets), nanoseconds / 1000))
        counts[us] &+= 1
        total += 1
    }

    mutating func merge(_ other: LatencyHistogram) {
        for i in 0..<counts.count where other.counts[i] != 0 { counts[i] &+= other.counts[i] }
        total += other.total
    }

    /// The q-quantile in microseconds (nil when empty).
    func quantile(_ q: Double) -> Int? {
        guard total > 0 else { return nil }
        let rank = Int((Double(total) * q).rounded(.up))
        var seen = 0
        for (i, c) in counts.enumerated() {
            seen += Int(c)
            if seen >= max(1, rank) { return i }
        }
        return Self.buckets
    }

    /// (microseconds, cumulative fraction) points for a CDF plot, at most `points` of them.
    func cdf(points: Int = 200) -> [[Double]] {
        guard total > 0 else { return [] }
        var out: [[Double]] = []
        var seen = 0
        let step = max(1, total / points)
        var next = step
        for (i, c) in counts.enumerated() where c > 0 {
            seen += Int(c)
            if seen >= next || seen == total {
                out.append([Double(i), Double(seen) / Double(total)])
                next = seen + step
            }
        }
        return out
    }
}
