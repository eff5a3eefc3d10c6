import MediaWire

/// The RFC 8285 one-byte header-extension block carrying a BUNDLE mid (RFC 8843 §15) that the
/// router writes into every packet toward a subscriber, kept inline: a mid is at most 16 bytes,
/// so the block is at most 24 (4 header + 1 + 16, padded to words). An array per subscription
/// was a heap chunk of its own (~40 bytes each, massif).
struct MidExtensionBlock {
    private var storage: (UInt64, UInt64, UInt64) = (0, 0, 0)
    private let length: UInt8
    /// Bytes in the block: 0 when not negotiated, else a multiple of 4.
    var count: Int { Int(length) }

    static let empty = MidExtensionBlock()
    private init() { length = 0 }

    /// The block for `mid` under extension `id`; empty when the ID is not negotiated or either is
    /// out of the one-byte form's range (ID 1–14, 1–16 bytes of data, RFC 8285 §4.2).
    /// Written by MediaWire's RFC 8285 writer, once, when the subscription is made.
    init(id: UInt16?, mid: some Collection<UInt8>) {
        guard let id, id <= 14, RTPHeaderExtensionForm.oneByte.canEncode(id: UInt8(id), length: mid.count) else { self = .empty; return }
        let element = RTPHeaderExtensionElement(id: UInt8(id), value: Array(mid))
        var s: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let n = withUnsafeMutableBytes(of: &s) { RTPHeaderExtensionBlock.write([element], into: $0) }
        storage = s
        length = UInt8(n)
    }

    var isEmpty: Bool { count == 0 }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: storage) { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }
}
