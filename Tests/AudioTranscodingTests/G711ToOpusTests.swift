import COpus
import Foundation
import MediaWire
import Testing
@testable import AudioTranscoding

/// G.711 decoding (ITU-T G.711 tables), upsampling and the G.711 → Opus RTP pipeline: a 440 Hz
/// tone in A-law comes out as 20 ms Opus frames that decode to 440 Hz at 48 kHz.
struct G711ToOpusTests {
    /// Reference points of the G.711 tables (ITU-T G.711, and what every implementation decodes).
    @Test func decodesTheStandardCodes() {
        #expect(G711.muLaw.decode(0xFF) == 0 && G711.muLaw.decode(0x7F) == 0)
        #expect(G711.muLaw.decode(0x00) == -32124 && G711.muLaw.decode(0x80) == 32124)
        #expect(G711.aLaw.decode(0xD5) == 8 && G711.aLaw.decode(0x55) == -8)
        #expect(G711.aLaw.decode(0xAA) == 32256 && G711.aLaw.decode(0x2A) == -32256)
        // Monotone over the positive codes of each law.
        let mu = (0..<128).map { G711.muLaw.decode(UInt8(0xFF - $0)) }
        #expect(zip(mu, mu.dropFirst()).allSatisfy { $0 <= $1 })
    }

    @Test func upsamplingInterpolates() {
        var up = Upsampler()
        var out: [Int16] = []
        up.process([600, 0], into: &out)
        #expect(out == [100, 200, 300, 400, 500, 600, 500, 400, 300, 200, 100, 0])
    }

    /// The nearest A-law code of a linear sample (for making the test's input).
    static func aLawEncode(_ sample: Int16) -> UInt8 {
        var best: UInt8 = 0
        var bestDistance = Int.max
        for code in 0...255 {
            let d = abs(Int(G711.aLaw.decode(UInt8(code))) - Int(sample))
            if d < bestDistance { bestDistance = d; best = UInt8(code) }
        }
        return best
    }

    @Test func aToneArrivesAsOpusOfTheSameFrequency() throws {
        let pipeline = try G711ToOpus(law: .aLaw, payloadType: 111, ssrc: 0x0A0B, firstSequence: 65530, firstTimestamp: 1000)
        var packets: [[UInt8]] = []
        var phase = 0.0
        for n in 0..<50 {  // 50 × 20 ms at 8 kHz
            var samples: [UInt8] = []
            for _ in 0..<160 {
                samples.append(Self.aLawEncode(Int16(8000 * sin(phase))))
                phase += 2 * Double.pi * 440 / 8000
            }
            var b = RTPPacketBuilder(payloadType: 8, sequenceNumber: UInt16(n), timestamp: UInt32(n * 160), ssrc: 7, marker: false)
            b.payload = samples
            b.serialized().withUnsafeBytes { pipeline.push($0) { packets.append(Array($0)) } }
        }
        #expect(packets.count == 50 && pipeline.framesEncoded == 50)
        let headers = packets.compactMap { p in p.withUnsafeBytes { try? RTPHeader.parse($0) } }
        #expect(headers.count == packets.count)
        #expect(headers.allSatisfy { $0.payloadType == 111 && $0.ssrc == 0x0A0B })
        #expect(headers.map(\.sequenceNumber) == (0..<50).map { UInt16(truncatingIfNeeded: 65530 + $0) })
        #expect(zip(headers, headers.dropFirst()).allSatisfy { $1.timestamp &- $0.timestamp == 960 })
        // Decode with libopus and count zero crossings over the last second.
        var error: Int32 = 0
        let decoder = try #require(opus_decoder_create(48000, 1, &error))
        defer { opus_decoder_destroy(decoder) }
        var pcm: [Int16] = []
        var frame = [Int16](repeating: 0, count: 960)
        for (p, h) in zip(packets, headers) {
            let payload = Array(p[h.payloadOffset...])
            let n = opus_decode(decoder, payload, Int32(payload.count), &frame, 960, 0)
            #expect(n == 960)
            pcm += frame
        }
        let tail = pcm.suffix(48_000 - 4800)  // skip the encoder's start-up
        let crossings = zip(tail, tail.dropFirst()).filter { ($0 < 0) != ($1 < 0) }.count
        let hertz = Double(crossings) / 2 / (Double(tail.count) / 48_000)
        #expect(abs(hertz - 440) < 15, "decoded \(hertz) Hz")
    }
}
