/// Application-defined packet, APP (RFC 3550 §6.7), carried opaque.
///
///      |V=2|P| subtype |   PT=APP=204  |             length            |
///      |                           SSRC/CSRC                           |
///      |                          name (ASCII)                         |
///      |                   application-dependent data                ...
public struct RTCPApplicationDefined: RTCPBody {
    public static let packetType = RTCPPacketType.applicationDefined
    public var subtype: UInt8
    public var source: UInt32
    /// Four ASCII characters.
    public var name: UInt32
    /// Application data; a multiple of 4 bytes.
    public var data: [UInt8]

    public init(subtype: UInt8, source: UInt32, name: UInt32, data: [UInt8]) {
        self.subtype = subtype
        self.source = source
        self.name = name
        self.data = data
    }

    public var countField: UInt8 { subtype }
    public var bodySize: Int { 8 + data.count }

    public func writeBody(_ w: inout ByteWriter) {
        precondition(data.count % 4 == 0, "APP data must be a multiple of 32 bits")
        w.u32(source)
        w.u32(name)
        w.bytes(data)
    }

    public static func parseBody(_ r: inout ByteReader, count: UInt8) throws(WireError) -> RTCPApplicationDefined {
        let source = try r.u32()
        let name = try r.u32()
        return RTCPApplicationDefined(subtype: count, source: source, name: name, data: try r.copyBytes(r.remaining))
    }
}
