/// Source description, SDES (RFC 3550 §6.5).
///
///      |V=2|P|    SC   |  PT=SDES=202  |             length            |
///      |                          SSRC/CSRC_1                          |
///      |                           SDES items                          |
///      |                              ...                              |
///
/// Each item is type (1 byte), length (1 byte), text; a chunk's item list ends with a zero byte and
/// is padded with zeros to a 32-bit boundary (§6.5).
public struct RTCPSourceDescription: RTCPBody {
    public static let packetType = RTCPPacketType.sourceDescription

    /// SDES item types (§6.5.1–6.5.8).
    public enum ItemType {
        public static let cname: UInt8 = 1
        public static let name: UInt8 = 2
        public static let tool: UInt8 = 6
        public static let note: UInt8 = 7
        public static let priv: UInt8 = 8
    }

    public struct Item: Equatable, Sendable {
        public var type: UInt8
        public var text: [UInt8]
        public init(type: UInt8, text: [UInt8]) {
            self.type = type
            self.text = text
        }
    }

    public struct Chunk: Equatable, Sendable {
        public var source: UInt32
        public var items: [Item]
        public init(source: UInt32, items: [Item]) {
            self.source = source
            self.items = items
        }

        var size: Int {
            let itemBytes = items.reduce(0) { $0 + 2 + $1.text.count }
            return 4 + (itemBytes + 1 + 3) & ~3  // at least one terminating zero, then pad
        }
    }

    public var chunks: [Chunk]

    public init(chunks: [Chunk]) { self.chunks = chunks }

    /// A one-chunk SDES carrying the CNAME, as every compound must (§6.1).
    public init(source: UInt32, cname: String) {
        self.chunks = [Chunk(source: source, items: [Item(type: ItemType.cname, text: Array(cname.utf8.prefix(255)))])]
    }

    public var countField: UInt8 { UInt8(chunks.count) }
    public var bodySize: Int { chunks.reduce(0) { $0 + $1.size } }

    public func writeBody(_ w: inout ByteWriter) {
        for chunk in chunks {
            let start = w.position
            w.u32(chunk.source)
            for item in chunk.items {
                precondition(item.type != 0 && item.text.count <= 255)
                w.u8(item.type)
                w.u8(UInt8(item.text.count))
                w.bytes(item.text)
            }
            w.zeros(chunk.size - (w.position - start))
        }
    }

    public static func parseBody(_ r: inout ByteReader, count: UInt8) throws(WireError) -> RTCPSourceDescription {
        var chunks: [Chunk] = []
        for _ in 0..<count {
            let chunkStart = r.position
            let source = try r.u32()
            var items: [Item] = []
            while true {
                let type = try r.u8()
                if type == 0 { break }
                let length = Int(try r.u8())
                items.append(Item(type: type, text: try r.copyBytes(length)))
            }
            // Skip the zero padding to the chunk's 32-bit boundary.
            let used = r.position - chunkStart
            let padded = (used + 3) & ~3
            try r.skip(padded - used)
            chunks.append(Chunk(source: source, items: items))
        }
        return RTCPSourceDescription(chunks: chunks)
    }
}
