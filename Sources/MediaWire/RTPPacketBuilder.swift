/// Builds a complete RTP packet (RFC 3550 §5.1) from fields, CSRCs, RFC 8285 extensions and a
/// payload: the serialising trio `serializedSize` / `write(into:)` / `serialized()`.
/// For tests, ingest and load generation; the SFU rewrites received packets in place instead.
public struct RTPPacketBuilder: Equatable, Sendable {
    public var marker: Bool = false
    public var payloadType: UInt8
    public var sequenceNumber: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    public var csrcs: [UInt32] = []
    /// Header extension elements (RFC 8285). The form is one-byte when every ID is 1...14 and every
    /// value is 1...16 bytes, two-byte otherwise.
    public var extensions: [RTPHeaderExtensionElement] = []
    public var payload: [UInt8] = []
    /// Padding bytes to append (0 for none; otherwise 1...255, count byte included).
    public var paddingLength: UInt8 = 0

    public init(payloadType: UInt8, sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32,
                marker: Bool = false, payload: [UInt8] = []) {
        self.payloadType = payloadType
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.marker = marker
        self.payload = payload
    }

    public var serializedSize: Int {
        RTPHeader.fixedSize + csrcs.count * 4 + RTPHeaderExtensionBlock.size(of: extensions)
            + payload.count + Int(paddingLength)
    }

    /// Writes the packet into `buffer` (at least `serializedSize` bytes); returns bytes written.
    public func write(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(csrcs.count <= 15, "at most 15 CSRCs")
        var w = ByteWriter(buffer)
        let hasExtension = !extensions.isEmpty
        w.u8(0x80 | (paddingLength > 0 ? 0x20 : 0) | (hasExtension ? 0x10 : 0) | UInt8(csrcs.count))
        w.u8((marker ? 0x80 : 0) | (payloadType & 0x7F))
        w.u16(sequenceNumber)
        w.u32(timestamp)
        w.u32(ssrc)
        for c in csrcs { w.u32(c) }
        if hasExtension {
            let size = RTPHeaderExtensionBlock.size(of: extensions)
            let written = RTPHeaderExtensionBlock.write(extensions,
                into: UnsafeMutableRawBufferPointer(rebasing: buffer[w.position..<(w.position + size)]))
            w.advance(written)
        }
        w.bytes(payload)
        if paddingLength > 0 {
            w.zeros(Int(paddingLength) - 1)
            w.u8(paddingLength)
        }
        return w.position
    }

    public func serialized() -> [UInt8] { serializeToArray(size: serializedSize) { write(into: $0) } }
}
