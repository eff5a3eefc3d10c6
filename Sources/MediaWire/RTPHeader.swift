/// RTP fixed header, CSRC list and header-extension framing (RFC 3550 §5.1, §5.3.1).
///
///      0                   1                   2                   3
///      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |V=2|P|X|  CC   |M|     PT      |       sequence number         |
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |                           timestamp                           |
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |           synchronization source (SSRC) identifier            |
///     +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
///     |            contributing source (CSRC) identifiers             |
///     |                             ....                              |
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |      defined by profile       |           length              |  (if X)
///     |                        header extension                       |
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///
/// `RTPHeader.parse` returns a small value with offsets into the caller's buffer (zero-copy:
/// payload and extension are ranges, not copies). Errors: `.truncated`, `.badVersion`,
/// `.badLength` (extension overruns the packet), `.badPadding`.
public struct RTPHeader: Equatable, Sendable {
    public static let fixedSize = 12
    public static let version: UInt8 = 2

    public var marker: Bool
    public var payloadType: UInt8
    public var sequenceNumber: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    public var csrcCount: Int
    public var hasPadding: Bool
    /// The "defined by profile" field when X is set: 0xBEDE (one-byte form) or 0x100x (two-byte).
    public var extensionProfile: UInt16?
    /// Offset of the extension data (after its 4-byte header) and its length in bytes.
    public var extensionOffset: Int
    public var extensionLength: Int
    /// Offset and length of the payload, padding excluded.
    public var payloadOffset: Int
    public var payloadLength: Int
    /// Padding bytes at the end of the packet, including the count byte itself.
    public var paddingLength: Int

    /// Parses and validates the header of the RTP packet in `packet`.
    @inline(__always)
    public static func parse(_ packet: UnsafeRawBufferPointer) throws(WireError) -> RTPHeader {
        let count = packet.count
        guard count >= fixedSize else {
            throw WireError(.rtp, .truncated(needed: fixedSize, available: count), at: 0)
        }
        let first = packet.readU16(0)
        let version = UInt8(truncatingIfNeeded: first >> 14)
        guard version == Self.version else { throw WireError(.rtp, .badVersion(version), at: 0) }
        let hasPadding = first & 0x2000 != 0
        let hasExtension = first & 0x1000 != 0
        let csrcCount = Int((first >> 8) & 0x0F)
        var offset = fixedSize + csrcCount * 4
        guard count >= offset else {
            throw WireError(.rtp, .truncated(needed: offset, available: count), at: fixedSize)
        }
        var profile: UInt16? = nil
        var extensionOffset = 0
        var extensionLength = 0
        if hasExtension {
            guard count >= offset + 4 else {
                throw WireError(.rtp, .truncated(needed: offset + 4, available: count), at: offset)
            }
            profile = packet.readU16(offset)
            extensionLength = Int(packet.readU16(offset + 2)) * 4
            extensionOffset = offset + 4
            guard count >= extensionOffset + extensionLength else {
                throw WireError(.rtp, .badLength(declared: extensionLength, available: count - extensionOffset),
                                at: offset + 2)
            }
            offset = extensionOffset + extensionLength
        }
        var paddingLength = 0
        if hasPadding {
            guard count > offset else { throw WireError(.rtp, .badPadding(0), at: count - 1) }
            let pad = packet[count - 1]
            guard pad != 0, Int(pad) <= count - offset else { throw WireError(.rtp, .badPadding(pad), at: count - 1) }
            paddingLength = Int(pad)
        }
        return RTPHeader(
            marker: first & 0x0080 != 0,
            payloadType: UInt8(truncatingIfNeeded: first & 0x7F),
            sequenceNumber: packet.readU16(2),
            timestamp: packet.readU32(4),
            ssrc: packet.readU32(8),
            csrcCount: csrcCount,
            hasPadding: hasPadding,
            extensionProfile: profile,
            extensionOffset: extensionOffset,
            extensionLength: extensionLength,
            payloadOffset: offset,
            payloadLength: count - offset - paddingLength,
            paddingLength: paddingLength)
    }

    /// Offset of the extension's 4-byte header ("defined by profile" + length), valid when X is set.
    public var extensionHeaderOffset: Int { Self.fixedSize + csrcCount * 4 }

    /// The i-th CSRC (RFC 3550 §5.1); `index < csrcCount` is the caller's contract.
    public func csrc(_ index: Int, in packet: UnsafeRawBufferPointer) -> UInt32 {
        precondition(index >= 0 && index < csrcCount)
        return packet.readU32(Self.fixedSize + index * 4)
    }

    public func payload(in packet: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: packet[payloadOffset..<(payloadOffset + payloadLength)])
    }
}

/// In-place rewriting of the fixed header fields an SFU changes per subscriber. The packet must
/// already have been validated by `RTPHeader.parse` (at least 12 bytes).
public enum RTPHeaderRewriter {
    @inline(__always)
    public static func setSequenceNumber(_ value: UInt16, in packet: UnsafeMutableRawBufferPointer) {
        packet.writeU16(value, at: 2)
    }
    @inline(__always)
    public static func setTimestamp(_ value: UInt32, in packet: UnsafeMutableRawBufferPointer) {
        packet.writeU32(value, at: 4)
    }
    @inline(__always)
    public static func setSSRC(_ value: UInt32, in packet: UnsafeMutableRawBufferPointer) {
        packet.writeU32(value, at: 8)
    }
    @inline(__always)
    public static func setPayloadType(_ value: UInt8, in packet: UnsafeMutableRawBufferPointer) {
        packet[1] = (packet[1] & 0x80) | (value & 0x7F)
    }
    @inline(__always)
    public static func setMarker(_ on: Bool, in packet: UnsafeMutableRawBufferPointer) {
        packet[1] = on ? packet[1] | 0x80 : packet[1] & 0x7F
    }
}
