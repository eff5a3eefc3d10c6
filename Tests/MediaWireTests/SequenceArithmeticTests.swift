import Testing
@testable import MediaWire

/// RFC 3550 A.1 / RFC 1982 serial-number comparisons and unwrapping.
struct SequenceArithmeticTests {
    /// Newer-than holds across the 16-bit wrap and fails backwards.
    @Test func sequenceWrap() {
        #expect(SequenceNumber.isNewer(1, than: 0))
        #expect(SequenceNumber.isNewer(0, than: 65535))
        #expect(!SequenceNumber.isNewer(65535, than: 0))
        #expect(!SequenceNumber.isNewer(5, than: 5))
        #expect(SequenceNumber.distance(from: 65530, to: 4) == 10)
        #expect(SequenceNumber.distance(from: 4, to: 65530) == -10)
        #expect(SequenceNumber.isNewer(0x8000, than: 0) != SequenceNumber.isNewer(0, than: 0x8000))
    }

    /// Timestamps wrap at 32 bits.
    @Test func timestampWrap() {
        #expect(RTPTimestamp.isNewer(10, than: 0xFFFF_FFF0))
        #expect(RTPTimestamp.distance(from: 0xFFFF_FFF0, to: 10) == 26)
        #expect(RTPTimestamp.distance(from: 10, to: 0xFFFF_FFF0) == -26)
    }

    /// The unwrapper counts cycles forward and maps late packets into the previous cycle.
    @Test func unwrapAcrossCycles() {
        var u = SequenceUnwrapper()
        #expect(u.unwrap(65534) == 65534)
        #expect(u.unwrap(65535) == 65535)
        #expect(u.unwrap(1) == 65537)
        #expect(u.unwrap(65533) == 65533)  // reordered, previous cycle
        #expect(u.unwrap(2) == 65538)
        var t = TimestampUnwrapper()
        #expect(t.unwrap(0xFFFF_FF00) == 0xFFFF_FF00)
        #expect(t.unwrap(0x100) == 0x1_0000_0100)
    }
}
