import Testing
import TestSupport
@testable import MediaWire

/// RFC 8285 header extensions: both forms, padding, ID 15, in-place edits.
struct RTPHeaderExtensionTests {
    /// The one-byte-form example of RFC 8285 §4.2 (IDs 1, 2, 3 with 1, 2 and 4 bytes, two pad bytes).
    static let rfc8285Example = hex("""
        90 60 00 01 00 00 00 00 00 00 00 01  // RTP header with X=1
        be de 00 03  // 0xBEDE, length=3
        10 aa 21 bb  // ID=1 L=0 data | ID=2 L=1 data...
        cc 00 00 33  // ...data | pad | pad | ID=3 L=3
        dd ee ff 11  // data
        99           // payload
        """)

    static func header(_ p: [UInt8]) throws -> RTPHeader { try p.withWireBytes { b throws(WireError) in try RTPHeader.parse(b) } }
    static func elements(_ p: [UInt8]) throws -> [RTPHeaderExtensionElement] {
        let h = try header(p)
        return try p.withWireBytes { b throws(WireError) in try RTPHeaderExtensionBlock.elements(in: b, header: h) }
    }

    /// RFC8285Section4_2OneByteForm: elements and padding bytes decode as the figure shows.
    @Test func rfc8285OneByteExample() throws {
        #expect(try Self.elements(Self.rfc8285Example) == [
            .init(id: 1, value: [0xAA]), .init(id: 2, value: [0xBB, 0xCC]), .init(id: 3, value: [0xDD, 0xEE, 0xFF, 0x11]),
        ])
    }

    /// RFC8285Section4_3TwoByteForm: 0x100 + appbits, 8-bit IDs and lengths, zero-length values.
    @Test func rfc8285TwoByteForm() throws {
        let p = hex("""
            90 60 00 01 00 00 00 00 00 00 00 01
            10 05 00 02  // 0x100, appbits 5, length 2 words
            0f 00 1e 02  // ID=15 L=0 | ID=30 L=2
            aa bb 00 00  // data, 2 padding bytes
            """)
        let h = try Self.header(p)
        #expect(RTPHeaderExtensionForm(profile: h.extensionProfile!) == .twoByte(appBits: 5))
        #expect(try Self.elements(p) == [.init(id: 15, value: []), .init(id: 30, value: [0xAA, 0xBB])])
    }

    /// RFC8285Section4_2ID15: processing stops at ID 15 in the one-byte form.
    @Test func oneByteID15StopsProcessing() throws {
        let p = hex("90 60 00 01 00 00 00 00 00 00 00 01  be de 00 01  10 aa f0 bb")
        #expect(try Self.elements(p) == [.init(id: 1, value: [0xAA])])
    }

    /// An element overrunning its block is a typed error at the element's offset.
    @Test func elementOverrun() throws {
        let p = hex("90 60 00 01 00 00 00 00 00 00 00 01  be de 00 01  13 aa bb cc")
        let h = try Self.header(p)
        #expect(throws: WireError(.rtpHeaderExtension, .badLength(declared: 4, available: 3), at: 17)) {
            try p.withWireBytes { b throws(WireError) in try RTPHeaderExtensionBlock.elements(in: b, header: h) }
        }
    }

    /// RFC8285Section4_2: in the one-byte form ID 0 is only the padding byte; ID 0 with a length is
    /// refused (found by fuzz-rtp-extension: it used to be read as element 0 and rebuilt as padding).
    @Test func oneByteIDZeroWithLength() throws {
        let p = hex("90 60 00 01 00 00 00 01 00 00 00 01  be de 00 01  01 be de 00")
        let h = try Self.header(p)
        #expect(throws: WireError(.rtpHeaderExtension, .invalidField("one-byte element with ID 0 and a length"), at: 16)) {
            try p.withWireBytes { b throws(WireError) in try RTPHeaderExtensionBlock.elements(in: b, header: h) }
        }
    }

    /// Rewrite in place changes one value of the same length and nothing else.
    @Test func rewriteSameLength() throws {
        var p = Self.rfc8285Example
        let h = try Self.header(p)
        let ok = try p.withUnsafeMutableBytes { b in
            try [UInt8(0x01), 0x02].withUnsafeBytes { v in try RTPHeaderExtensionEditor.rewrite(2, value: v, in: b, header: h) }
        }
        #expect(ok)
        #expect(try Self.elements(p)[1].value == [0x01, 0x02])
        let wrongLength = try p.withUnsafeMutableBytes { b in
            try [UInt8(1)].withUnsafeBytes { v in try RTPHeaderExtensionEditor.rewrite(2, value: v, in: b, header: h) }
        }
        #expect(!wrongLength)
    }

    /// Adding to a packet without extensions sets X, inserts a one-byte block and moves the payload.
    @Test func addToPacketWithoutExtension() throws {
        var buffer = RTPHeaderTests.minimal + [UInt8](repeating: 0, count: 32)
        let newLength = try buffer.withUnsafeMutableBytes { b in
            try [UInt8(7), 8, 9].withUnsafeBytes { v in try RTPHeaderExtensionEditor.set(5, value: v, in: b, length: 15) }
        }
        let p = Array(buffer[..<newLength])
        #expect(newLength == 15 + 8)
        #expect(try Self.elements(p) == [.init(id: 5, value: [7, 8, 9])])
        p.withUnsafeBytes { b in #expect(Array(try! RTPHeader.parse(b).payload(in: b)) == [1, 2, 3]) }
    }

    /// Replacing a value with a longer one keeps order of the others and appends the new element.
    @Test func replaceWithDifferentLength() throws {
        var buffer = Self.rfc8285Example + [UInt8](repeating: 0, count: 16)
        let n = try buffer.withUnsafeMutableBytes { b in
            try [UInt8](repeating: 0x55, count: 6).withUnsafeBytes { v in
                try RTPHeaderExtensionEditor.set(1, value: v, in: b, length: Self.rfc8285Example.count)
            }
        }
        let p = Array(buffer[..<n])
        #expect(try Self.elements(p) == [
            .init(id: 2, value: [0xBB, 0xCC]), .init(id: 3, value: [0xDD, 0xEE, 0xFF, 0x11]), .init(id: 1, value: [UInt8](repeating: 0x55, count: 6)),
        ])
        #expect(p.last == 0x99)
    }

    /// An ID above 14 or a 17-byte value upgrades the block to the two-byte form.
    @Test func upgradeToTwoByteForm() throws {
        var buffer = Self.rfc8285Example + [UInt8](repeating: 0, count: 32)
        let n = try buffer.withUnsafeMutableBytes { b in
            try [UInt8](repeating: 1, count: 17).withUnsafeBytes { v in
                try RTPHeaderExtensionEditor.set(20, value: v, in: b, length: Self.rfc8285Example.count)
            }
        }
        let p = Array(buffer[..<n])
        #expect(try Self.header(p).extensionProfile == 0x1000)
        #expect(try Self.elements(p).map(\.id) == [1, 2, 3, 20])
    }

    /// Removing the last element removes the block and clears X.
    @Test func removeAll() throws {
        var buffer = Self.rfc8285Example
        var n = buffer.count
        for id: UInt8 in [2, 1, 3] {
            n = try buffer.withUnsafeMutableBytes { b in try RTPHeaderExtensionEditor.remove(id, in: b, length: n) }
        }
        let p = Array(buffer[..<n])
        let h = try Self.header(p)
        #expect(h.extensionProfile == nil && p[0] & 0x10 == 0 && n == 13 && p.last == 0x99)
    }

    /// Too little capacity for the grown packet is an error, not an overflow.
    @Test func noCapacity() {
        var buffer = RTPHeaderTests.minimal
        #expect(throws: WireError.self) {
            try buffer.withUnsafeMutableBytes { b in
                try [UInt8(7)].withUnsafeBytes { v in try RTPHeaderExtensionEditor.set(5, value: v, in: b, length: 15) }
            }
        }
    }
}
