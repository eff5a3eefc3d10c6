import MediaWire
import Testing
@testable import SFU

/// The inline mid block written into every packet toward a subscriber (RFC 8285 §4.2 one-byte
/// form, RFC 8843 §15 mid), checked against MediaWire's general extension writer.
struct MidExtensionBlockTests {
    static func bytes(_ b: MidExtensionBlock) -> [UInt8] { b.withUnsafeBytes { Array($0) } }

    @Test func midZeroUnderIDOne() {
        #expect(Self.bytes(MidExtensionBlock(id: 1, mid: Array("0".utf8))) == [0xBE, 0xDE, 0x00, 0x01, 0x10, 0x30, 0x00, 0x00])
    }

    @Test func sameBytesAsTheGeneralWriter() {
        for id: UInt16 in 1...14 {
            for length in 1...16 {
                let mid = (0..<length).map { UInt8(ascii: "a") + UInt8($0) }
                var expected = [UInt8](repeating: 0, count: 64)
                let n = expected.withUnsafeMutableBytes {
                    RTPHeaderExtensionBlock.write([RTPHeaderExtensionElement(id: UInt8(id), value: mid)], into: $0)
                }
                let block = MidExtensionBlock(id: id, mid: mid)
                #expect(block.count == n && Self.bytes(block) == Array(expected[0..<n]), "id \(id), \(length) bytes")
            }
        }
    }

    /// Not negotiated, or outside what the one-byte form carries: no block.
    @Test func emptyWhenItCannotBeWritten() {
        for (id, mid) in [(nil, "0"), (0, "0"), (15, "0"), (1, ""), (1, String(repeating: "m", count: 17))] as [(UInt16?, String)] {
            let block = MidExtensionBlock(id: id, mid: Array(mid.utf8))
            #expect(block.isEmpty && block.count == 0 && Self.bytes(block).isEmpty)
        }
    }
}
