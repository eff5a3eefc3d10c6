/// Opus packet TOC byte and framing (RFC 6716 §3.1, §3.2, §3.4).
///
///      0 1 2 3 4 5 6 7
///     +-+-+-+-+-+-+-+-+
///     | config  |s| c |
///     +-+-+-+-+-+-+-+-+
///
/// config selects mode, bandwidth and frame duration (Table 2); s = stereo; c = frame count code:
/// 0 one frame, 1 two equal frames, 2 two frames with the first length coded, 3 a frame count
/// byte follows (`v p M`). `OpusPacket.parse` checks the packet against §3.4's rules R1–R7.
public struct OpusPacket: Equatable, Sendable {
    public enum Mode: Equatable, Sendable { case silk, hybrid, celt }
    public enum Bandwidth: Equatable, Sendable { case narrow, medium, wide, superWide, full }

    public var config: UInt8
    public var stereo: Bool
    public var frameCountCode: UInt8
    public var frameCount: Int

    public var mode: Mode { config < 12 ? .silk : config < 16 ? .hybrid : .celt }

    public var bandwidth: Bandwidth {
        switch config {
        case 0...3: .narrow
        case 4...7: .medium
        case 8...11: .wide
        case 12...13: .superWide
        case 14...15: .full
        case 16...19: .narrow
        case 20...23: .wide
        case 24...27: .superWide
        default: .full
        }
    }

    /// Duration of one frame in 48 kHz samples (2.5 ms = 120 ... 60 ms = 2880), Table 2.
    public var samplesPerFrame: Int {
        switch mode {
        case .silk: [480, 960, 1920, 2880][Int(config & 3)]
        case .hybrid: [480, 960][Int(config & 1)]
        case .celt: [120, 240, 480, 960][Int(config & 3)]
        }
    }

    /// Duration of the whole packet in 48 kHz samples.
    public var samples: Int { samplesPerFrame * frameCount }

    /// At most 120 ms of audio per packet (§3.2.5, R5).
    public static let maximumSamples = 5760
    static let maximumFrameLength = 1275

    public static func parse(_ packet: UnsafeRawBufferPointer) throws(WireError) -> OpusPacket {
        guard packet.count >= 1 else { throw WireError(.opus, .truncated(needed: 1, available: 0), at: 0) }  // R1
        let toc = packet[0]
        var p = OpusPacket(config: toc >> 3, stereo: toc & 0x04 != 0, frameCountCode: toc & 0x03, frameCount: 1)
        let n = packet.count - 1
        switch p.frameCountCode {
        case 0:
            guard n <= maximumFrameLength else { throw WireError(.opus, .invalidField("frame longer than 1275 bytes"), at: 1) }  // R2
        case 1:
            p.frameCount = 2
            guard n % 2 == 0 else { throw WireError(.opus, .invalidField("code 1 needs an even payload length"), at: 1) }  // R3
            guard n / 2 <= maximumFrameLength else { throw WireError(.opus, .invalidField("frame longer than 1275 bytes"), at: 1) }
        case 2:
            p.frameCount = 2
            var r = ByteReader(packet, format: .opus)
            try r.skip(1)
            let first = try frameLength(&r)
            guard first <= r.remaining else {  // R4
                throw WireError(.opus, .badLength(declared: first, available: r.remaining), at: 1)
            }
            guard r.remaining - first <= maximumFrameLength else { throw WireError(.opus, .invalidField("frame longer than 1275 bytes"), at: 1) }
        default:
            var r = ByteReader(packet, format: .opus)
            try r.skip(1)
            let countByte = try r.u8()
            let m = Int(countByte & 0x3F)
            p.frameCount = m
            guard m >= 1 else { throw WireError(.opus, .invalidField("code 3 with zero frames"), at: 1) }  // R5
            guard m * p.samplesPerFrame <= maximumSamples else {
                throw WireError(.opus, .invalidField("packet longer than 120 ms"), at: 1)
            }
            var padding = 0
            if countByte & 0x40 != 0 {  // §3.2.5 padding length: 255 means 254 and continue
                while true {
                    let b = Int(try r.u8())
                    padding += b == 255 ? 254 : b
                    if b != 255 { break }
                }
            }
            guard padding <= r.remaining else { throw WireError(.opus, .badLength(declared: padding, available: r.remaining), at: 2) }
            let vbr = countByte & 0x80 != 0
            var body = r.remaining - padding
            if vbr {  // R7: M−1 coded lengths, each fitting what remains
                for _ in 0..<(m - 1) {
                    let before = r.remaining
                    let length = try frameLength(&r)
                    body -= before - r.remaining
                    guard length <= body, length <= maximumFrameLength else {
                        throw WireError(.opus, .badLength(declared: length, available: body), at: r.absoluteOffset)
                    }
                    body -= length
                }
                guard body >= 0, body <= maximumFrameLength else { throw WireError(.opus, .invalidField("last frame length"), at: r.absoluteOffset) }
            } else {  // R6: CBR, the remainder divides evenly
                guard body % m == 0, body / m <= maximumFrameLength else {
                    throw WireError(.opus, .invalidField("CBR frames do not divide the payload"), at: 1)
                }
            }
        }
        return p
    }

    /// A frame length (§3.2.1): one byte below 252, else two bytes (first + 4 × second).
    private static func frameLength(_ r: inout ByteReader) throws(WireError) -> Int {
        let b0 = Int(try r.u8())
        if b0 < 252 { return b0 }
        return b0 + 4 * Int(try r.u8())
    }
}
