import MediaWire

/// A camera's G.711 RTP stream turned into an Opus RTP stream of our own (PT, SSRC, sequence
/// and 48 kHz timestamps): decode, upsample, then 20 ms Opus frames. Confined to the thread
/// that runs it (it owns an Opus encoder); `push` is given each G.711 packet in order.
public final class G711ToOpus {
    public let law: G711
    public let payloadType: UInt8
    public let ssrc: UInt32
    private let encoder: OpusFrameEncoder
    private var upsampler = Upsampler()
    private var pcm: [Int16] = []
    private var decoded: [Int16] = []
    private var sequence: UInt16
    private var timestamp: UInt32
    /// Packets that did not parse, or were of another payload type.
    public private(set) var dropped = 0
    public private(set) var framesEncoded = 0

    public init(law: G711, payloadType: UInt8, ssrc: UInt32, firstSequence: UInt16, firstTimestamp: UInt32) throws(OpusFrameEncoder.Failure) {
        self.law = law
        self.payloadType = payloadType
        self.ssrc = ssrc
        encoder = try OpusFrameEncoder()
        sequence = firstSequence
        timestamp = firstTimestamp
        pcm.reserveCapacity(4 * OpusFrameEncoder.frameSamples)
        decoded.reserveCapacity(1500)
    }

    /// One G.711 RTP packet; `emit` gets each Opus RTP packet it completes.
    public func push(_ packet: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Void) {
        guard let header = try? RTPHeader.parse(packet) else { dropped += 1; return }
        decoded.removeAll(keepingCapacity: true)
        for byte in header.payload(in: packet) { decoded.append(law.decode(byte)) }
        upsampler.process(decoded, into: &pcm)
        var consumed = 0
        while pcm.count - consumed >= OpusFrameEncoder.frameSamples {
            pcm.withUnsafeBufferPointer { all in
                let frame = UnsafeBufferPointer(rebasing: all[consumed..<(consumed + OpusFrameEncoder.frameSamples)])
                try? encoder.encode(frame) { opus in
                    var b = RTPPacketBuilder(payloadType: payloadType, sequenceNumber: sequence, timestamp: timestamp, ssrc: ssrc, marker: false)
                    b.payload = Array(opus)
                    b.serialized().withUnsafeBytes(emit)
                }
            }
            consumed += OpusFrameEncoder.frameSamples
            sequence &+= 1
            timestamp &+= UInt32(OpusFrameEncoder.frameSamples)
            framesEncoded += 1
        }
        pcm.removeFirst(consumed)
    }
}
