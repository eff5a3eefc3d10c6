/// RTCP common header and compound packets (RFC 3550 §6.4, §6.1; RFC 4585 §6.1 feedback header).
///
///      0                   1                   2                   3
///      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |V=2|P| RC/FMT  |      PT       |             length            |
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///
/// `length` is the packet's size in 32-bit words minus one. Padding (P) is allowed only on the
/// last packet of a compound (§6.4.1). `RTCPCompound.parse` returns the typed packets; unknown
/// types and feedback formats are kept opaque so they round-trip. Errors: `.truncated`,
/// `.badVersion`, `.badLength`, `.badPadding`, `.invalidField`, `.tooMany`.
public enum RTCPPacketType {
    public static let senderReport: UInt8 = 200
    public static let receiverReport: UInt8 = 201
    public static let sourceDescription: UInt8 = 202
    public static let goodbye: UInt8 = 203
    public static let applicationDefined: UInt8 = 204
    /// Transport-layer feedback (RFC 4585 §6.2): generic NACK (FMT 1), transport-cc (FMT 15).
    public static let transportFeedback: UInt8 = 205
    /// Payload-specific feedback (RFC 4585 §6.3): PLI (FMT 1), FIR (FMT 4), AFB/REMB (FMT 15).
    public static let payloadFeedback: UInt8 = 206
}

/// A type that is the body of one RTCP packet (everything after the 4-byte common header).
public protocol RTCPBody: Equatable, Sendable {
    /// The value of the 5-bit count field (RC, SC, FMT or subtype).
    var countField: UInt8 { get }
    static var packetType: UInt8 { get }
    /// Body size in bytes; always a multiple of 4.
    var bodySize: Int { get }
    func writeBody(_ w: inout ByteWriter)
    /// Parses a body; `r` covers exactly the body with padding removed.
    static func parseBody(_ r: inout ByteReader, count: UInt8) throws(WireError) -> Self
}

/// One RTCP packet of a compound.
public enum RTCPPacket: Equatable, Sendable {
    case senderReport(RTCPSenderReport)
    case receiverReport(RTCPReceiverReport)
    case sourceDescription(RTCPSourceDescription)
    case goodbye(RTCPGoodbye)
    case applicationDefined(RTCPApplicationDefined)
    case nack(RTCPNack)
    case transportCC(RTCPTransportCC)
    case pictureLossIndication(RTCPPictureLossIndication)
    case fullIntraRequest(RTCPFullIntraRequest)
    case remb(RTCPREMB)
    /// A packet type or feedback format we do not interpret, kept byte for byte.
    case unknown(packetType: UInt8, count: UInt8, body: [UInt8])

    public var serializedSize: Int { 4 + bodySize }

    private var bodySize: Int {
        switch self {
        case .senderReport(let p): p.bodySize
        case .receiverReport(let p): p.bodySize
        case .sourceDescription(let p): p.bodySize
        case .goodbye(let p): p.bodySize
        case .applicationDefined(let p): p.bodySize
        case .nack(let p): p.bodySize
        case .transportCC(let p): p.bodySize
        case .pictureLossIndication(let p): p.bodySize
        case .fullIntraRequest(let p): p.bodySize
        case .remb(let p): p.bodySize
        case .unknown(_, _, let body): (body.count + 3) & ~3
        }
    }

    /// Writes header and body; returns bytes written.
    public func write(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var w = ByteWriter(buffer)
        switch self {
        case .senderReport(let p): Self.write(p, &w)
        case .receiverReport(let p): Self.write(p, &w)
        case .sourceDescription(let p): Self.write(p, &w)
        case .goodbye(let p): Self.write(p, &w)
        case .applicationDefined(let p): Self.write(p, &w)
        case .nack(let p): Self.write(p, &w)
        case .transportCC(let p): Self.write(p, &w)
        case .pictureLossIndication(let p): Self.write(p, &w)
        case .fullIntraRequest(let p): Self.write(p, &w)
        case .remb(let p): Self.write(p, &w)
        case .unknown(let type, let count, let body):
            let size = (body.count + 3) & ~3
            Self.writeHeader(&w, count: count, type: type, bodySize: size)
            w.bytes(body)
            w.zeros(size - body.count)
        }
        return w.position
    }

    public func serialized() -> [UInt8] { serializeToArray(size: serializedSize) { write(into: $0) } }

    private static func write<B: RTCPBody>(_ body: B, _ w: inout ByteWriter) {
        writeHeader(&w, count: body.countField, type: B.packetType, bodySize: body.bodySize)
        let start = w.position
        body.writeBody(&w)
        precondition(w.position - start == body.bodySize, "RTCP bodySize and writeBody disagree")
    }

    private static func writeHeader(_ w: inout ByteWriter, count: UInt8, type: UInt8, bodySize: Int) {
        precondition(count < 32 && bodySize % 4 == 0)
        w.u8(0x80 | count)
        w.u8(type)
        w.u16(UInt16(bodySize / 4))
    }

    /// Parses one packet whose common header says `type`/`count`, from a reader over its body.
    static func parse(type: UInt8, count: UInt8, body r: inout ByteReader) throws(WireError) -> RTCPPacket {
        switch (type, count) {
        case (RTCPPacketType.senderReport, _): return .senderReport(try .parseBody(&r, count: count))
        case (RTCPPacketType.receiverReport, _): return .receiverReport(try .parseBody(&r, count: count))
        case (RTCPPacketType.sourceDescription, _): return .sourceDescription(try .parseBody(&r, count: count))
        case (RTCPPacketType.goodbye, _): return .goodbye(try .parseBody(&r, count: count))
        case (RTCPPacketType.applicationDefined, _): return .applicationDefined(try .parseBody(&r, count: count))
        case (RTCPPacketType.transportFeedback, RTCPNack.format): return .nack(try .parseBody(&r, count: count))
        case (RTCPPacketType.transportFeedback, RTCPTransportCC.format): return .transportCC(try .parseBody(&r, count: count))
        case (RTCPPacketType.payloadFeedback, RTCPPictureLossIndication.format):
            return .pictureLossIndication(try .parseBody(&r, count: count))
        case (RTCPPacketType.payloadFeedback, RTCPFullIntraRequest.format):
            return .fullIntraRequest(try .parseBody(&r, count: count))
        case (RTCPPacketType.payloadFeedback, RTCPREMB.format) where RTCPREMB.isREMB(r):
            return .remb(try .parseBody(&r, count: count))
        default:
            return .unknown(packetType: type, count: count, body: try r.copyBytes(r.remaining))
        }
    }
}

/// A compound RTCP packet: several packets back to back in one datagram (RFC 3550 §6.1).
public enum RTCPCompound {
    /// Upper bound on packets per datagram, so hostile input bounds the work and the array.
    public static let maximumPackets = 64

    /// Walks the compound and calls `body(type, count, packetRange, bodyRange)` per packet without
    /// decoding bodies (zero-copy; for the forwarding path). Validates framing as `parse` does.
    public static func forEachPacket(_ bytes: UnsafeRawBufferPointer,
                                     _ body: (UInt8, UInt8, Range<Int>, Range<Int>) -> Void) throws(WireError) {
        var offset = 0
        var packets = 0
        guard bytes.count >= 4 else { throw WireError(.rtcp, .truncated(needed: 4, available: bytes.count), at: 0) }
        while offset < bytes.count {
            guard bytes.count - offset >= 4 else {
                throw WireError(.rtcp, .truncated(needed: 4, available: bytes.count - offset), at: offset)
            }
            packets += 1
            guard packets <= maximumPackets else { throw WireError(.rtcp, .tooMany("packets", limit: maximumPackets), at: offset) }
            let first = bytes[offset]
            let version = first >> 6
            guard version == 2 else { throw WireError(.rtcp, .badVersion(version), at: offset) }
            let type = bytes[offset + 1]
            let size = (Int(bytes.readU16(offset + 2)) + 1) * 4
            guard size <= bytes.count - offset else {
                throw WireError(.rtcp, .badLength(declared: size, available: bytes.count - offset), at: offset + 2)
            }
            var bodyEnd = offset + size
            if first & 0x20 != 0 {
                // RFC 3550 §6.4.1: only the last packet of a compound may be padded.
                guard offset + size == bytes.count else {
                    throw WireError(.rtcp, .invalidField("padding on a packet that is not last"), at: offset)
                }
                let pad = bytes[bodyEnd - 1]
                // RTCP structures are 32-bit aligned, so padding is a whole number of words.
                guard pad != 0, pad % 4 == 0, Int(pad) <= size - 4 else {
                    throw WireError(.rtcp, .badPadding(pad), at: bodyEnd - 1)
                }
                bodyEnd -= Int(pad)
            }
            body(type, first & 0x1F, offset..<(offset + size), (offset + 4)..<bodyEnd)
            offset += size
        }
    }

    /// Parses every packet of the compound.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> [RTCPPacket] {
        var framing: [(UInt8, UInt8, Range<Int>)] = []
        try forEachPacket(bytes) { type, count, _, bodyRange in framing.append((type, count, bodyRange)) }
        var packets: [RTCPPacket] = []
        packets.reserveCapacity(framing.count)
        for (type, count, range) in framing {
            var r = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[range]), format: .rtcp, baseOffset: range.lowerBound)
            packets.append(try RTCPPacket.parse(type: type, count: count, body: &r))
        }
        return packets
    }

    public static func parse(_ bytes: [UInt8]) throws(WireError) -> [RTCPPacket] {
        try bytes.withWireBytes { b throws(WireError) in try parse(b) }
    }

    public static func serializedSize(_ packets: [RTCPPacket]) -> Int { packets.reduce(0) { $0 + $1.serializedSize } }

    public static func write(_ packets: [RTCPPacket], into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var offset = 0
        for p in packets {
            offset += p.write(into: UnsafeMutableRawBufferPointer(rebasing: buffer[offset...]))
        }
        return offset
    }

    public static func serialize(_ packets: [RTCPPacket]) -> [UInt8] {
        serializeToArray(size: serializedSize(packets)) { write(packets, into: $0) }
    }
}
