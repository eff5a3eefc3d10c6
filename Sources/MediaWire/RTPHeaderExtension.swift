/// RTP header extensions, one-byte and two-byte forms (RFC 8285 §4.2, §4.3).
///
/// One-byte form, "defined by profile" = 0xBEDE; each element is a 4-bit ID (1...14) and a 4-bit
/// length L, value length L+1 (1...16 bytes). 0x00 bytes between elements are padding; ID 15
/// stops processing (§4.2):
///
///      0                   1                   2                   3
///     |       0xBE    |    0xDE       |           length=3            |
///     |  ID   | L=0   |     data      |  ID   |  L=1  |   data...
///           ...data   |    0 (pad)    |    0 (pad)    |  ID   | L=3   |
///     |                          data                                 |
///
/// Two-byte form, "defined by profile" = 0x100 followed by 4 app bits; each element is an 8-bit
/// ID (1...255) and an 8-bit length (0...255) (§4.3).
public struct RTPHeaderExtensionElement: Equatable, Sendable {
    public var id: UInt8
    public var value: [UInt8]
    public init(id: UInt8, value: [UInt8]) {
        self.id = id
        self.value = value
    }
}

/// Which RFC 8285 form an extension block uses, from its "defined by profile" field.
public enum RTPHeaderExtensionForm: Equatable, Sendable {
    case oneByte
    case twoByte(appBits: UInt8)

    public static let oneByteProfile: UInt16 = 0xBEDE

    /// nil for a profile that is not RFC 8285 (its contents are opaque to us).
    public init?(profile: UInt16) {
        if profile == Self.oneByteProfile { self = .oneByte }
        else if profile & 0xFFF0 == 0x1000 { self = .twoByte(appBits: UInt8(profile & 0x0F)) }
        else { return nil }
    }

    public var profile: UInt16 {
        switch self {
        case .oneByte: Self.oneByteProfile
        case .twoByte(let bits): 0x1000 | UInt16(bits & 0x0F)
        }
    }

    /// Whether an element with this ID and value length can be written in this form.
    public func canEncode(id: UInt8, length: Int) -> Bool {
        switch self {
        case .oneByte: (1...14).contains(id) && (1...16).contains(length)
        case .twoByte: id >= 1 && length <= 255
        }
    }

    var elementHeaderSize: Int { self == .oneByte ? 1 : 2 }
}

/// Reads, measures and writes RFC 8285 extension blocks.
public enum RTPHeaderExtensionBlock {
    /// Calls `body(id, valueRange)` for each element of the packet's extension block, in order;
    /// ranges are absolute offsets into `packet`. Does nothing when the packet has no extension or a
    /// non-RFC 8285 profile. Throws `.badLength` when an element overruns the block.
    @inline(__always)
    public static func forEach(in packet: UnsafeRawBufferPointer, header: RTPHeader,
                               _ body: (UInt8, Range<Int>) -> Void) throws(WireError) {
        var elements = RTPHeaderExtensionIterator(packet: packet, header: header)
        while let (id, range) = try elements.next() { body(id, range) }
    }

    /// The value range of the first element with `id`, or nil.
    @inline(__always)
    public static func find(_ id: UInt8, in packet: UnsafeRawBufferPointer, header: RTPHeader) throws(WireError) -> Range<Int>? {
        var elements = RTPHeaderExtensionIterator(packet: packet, header: header)
        while let (elementID, range) = try elements.next() {
            if elementID == id { return range }
        }
        return nil
    }

    /// All elements, copied (allocates: for tests and control paths).
    public static func elements(in packet: UnsafeRawBufferPointer, header: RTPHeader) throws(WireError) -> [RTPHeaderExtensionElement] {
        var out: [RTPHeaderExtensionElement] = []
        try forEach(in: packet, header: header) { id, range in
            out.append(RTPHeaderExtensionElement(id: id, value: Array(packet[range])))
        }
        return out
    }

    /// The form `elements` would be written in: one-byte when all fit, two-byte otherwise.
    public static func preferredForm(for elements: [RTPHeaderExtensionElement]) -> RTPHeaderExtensionForm {
        elements.allSatisfy { RTPHeaderExtensionForm.oneByte.canEncode(id: $0.id, length: $0.value.count) }
            ? .oneByte : .twoByte(appBits: 0)
    }

    /// Bytes the whole block takes (4-byte header + elements + padding to 32 bits); 0 for none.
    public static func size(of elements: [RTPHeaderExtensionElement]) -> Int {
        guard !elements.isEmpty else { return 0 }
        let form = preferredForm(for: elements)
        let data = elements.reduce(0) { $0 + form.elementHeaderSize + $1.value.count }
        return 4 + (data + 3) & ~3
    }

    /// Writes the block (header included) and returns its size.
    public static func write(_ elements: [RTPHeaderExtensionElement], into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let form = preferredForm(for: elements)
        let total = size(of: elements)
        var w = ByteWriter(buffer)
        w.u16(form.profile)
        w.u16(UInt16((total - 4) / 4))
        for e in elements {
            precondition(form.canEncode(id: e.id, length: e.value.count), "extension element cannot be encoded")
            if form == .oneByte { w.u8(e.id << 4 | UInt8(e.value.count - 1)) } else { w.u8(e.id); w.u8(UInt8(e.value.count)) }
            w.bytes(e.value)
        }
        w.zeros(total - w.position)
        return total
    }
}

/// Walks the elements of an RFC 8285 block without closures (the per-packet path uses it through
/// `find`). Yields (ID, absolute value range); throws when an element overruns the block.
public struct RTPHeaderExtensionIterator {
    private let packet: UnsafeRawBufferPointer
    private let oneByte: Bool
    private let end: Int
    private var i: Int

    @inline(__always)
    public init(packet: UnsafeRawBufferPointer, header: RTPHeader) {
        self.packet = packet
        if let profile = header.extensionProfile, let form = RTPHeaderExtensionForm(profile: profile) {
            oneByte = form == .oneByte
            i = header.extensionOffset
            end = header.extensionOffset + header.extensionLength
        } else {  // no block, or not RFC 8285: nothing to iterate
            oneByte = true
            i = 0
            end = 0
        }
    }

    @inline(__always)
    public mutating func next() throws(WireError) -> (UInt8, Range<Int>)? {
        while i < end {
            let b = packet[i]
            if b == 0 { i += 1; continue }  // padding byte (both forms)
            let id: UInt8
            let length: Int
            if oneByte {
                id = b >> 4
                if id == 15 { i = end; return nil }  // RFC 8285 §4.2: stop processing
                if id == 0 {  // §4.2: ID 0 is only the padding byte 0x00
                    throw WireError(.rtpHeaderExtension, .invalidField("one-byte element with ID 0 and a length"), at: i)
                }
                length = Int(b & 0x0F) + 1
                i += 1
            } else {
                guard i + 1 < end else {
                    throw WireError(.rtpHeaderExtension, .truncated(needed: 2, available: end - i), at: i)
                }
                id = b
                length = Int(packet[i + 1])
                i += 2
            }
            guard i + length <= end else {
                throw WireError(.rtpHeaderExtension, .badLength(declared: length, available: end - i), at: i)
            }
            defer { i += length }
            return (id, i..<(i + length))
        }
        return nil
    }
}
