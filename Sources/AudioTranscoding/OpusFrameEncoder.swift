import COpus

/// libopus encoding of 20 ms mono frames at 48 kHz (RFC 7587), for audio that arrives in
/// another codec. Not Sendable: one thread owns an encoder (the transcoding worker).
public final class OpusFrameEncoder {
    public static let frameSamples = 960
    private let encoder: OpaquePointer
    private var output = [UInt8](repeating: 0, count: 1500)

    public struct Failure: Error, CustomStringConvertible {
        public let code: Int32
        public var description: String { "libopus error \(code)" }
    }

    public init(bitrate: Int32 = 32_000) throws(Failure) {
        var error: Int32 = 0
        guard let e = opus_encoder_create(48_000, 1, OPUS_APPLICATION_VOIP, &error), error == OPUS_OK else { throw Failure(code: error) }
        encoder = e
        _ = shihui_opus_set_bitrate(e, bitrate)
        _ = shihui_opus_set_inband_fec(e, 1)
    }

    deinit { opus_encoder_destroy(encoder) }

    /// Encodes one frame of `frameSamples` samples; calls `body` with the Opus packet.
    public func encode(_ pcm: UnsafeBufferPointer<Int16>, _ body: (UnsafeRawBufferPointer) -> Void) throws(Failure) {
        precondition(pcm.count == Self.frameSamples)
        let n = output.withUnsafeMutableBufferPointer { opus_encode(encoder, pcm.baseAddress!, Int32(Self.frameSamples), $0.baseAddress!, Int32($0.count)) }
        guard n > 0 else { throw Failure(code: n) }
        output.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0..<Int(n)])) }
    }
}
