import MediaWire
import Testing
@testable import SFU

/// Viewers that negotiated the same sections share one copy of them.
struct MediaSectionsInternerTests {
    static func sections(mid: String, extensionID: UInt16) -> [MediaSection] {
        [MediaSection(mid: mid, codec: .vp8, payloadType: 96, extensions: [MediaSection.midExtensionURI: extensionID], direction: .sending)]
    }

    static func storage(_ a: [MediaSection]) -> UnsafeRawPointer? { a.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) } }

    @Test func equalListsShareStorageAndOthersDoNot() {
        var interner = MediaSectionsInterner()
        let first = interner.shared(Self.sections(mid: "0", extensionID: 1))
        let again = interner.shared(Self.sections(mid: "0", extensionID: 1))  // built anew, equal
        let other = interner.shared(Self.sections(mid: "0", extensionID: 2))
        #expect(again == first && Self.storage(again) == Self.storage(first))
        #expect(other != first && Self.storage(other) != Self.storage(first))
        #expect(interner.count == 2)
    }

    /// Past its limit it starts over; what it handed out stays as it was.
    @Test func boundedAndStartsOver() {
        var interner = MediaSectionsInterner()
        let kept = interner.shared(Self.sections(mid: "0", extensionID: 1))
        for i in 1..<MediaSectionsInterner.limit { _ = interner.shared(Self.sections(mid: "\(i)", extensionID: 1)) }
        #expect(interner.count == MediaSectionsInterner.limit)
        _ = interner.shared(Self.sections(mid: "next", extensionID: 1))
        #expect(interner.count == 1)
        #expect(kept == Self.sections(mid: "0", extensionID: 1))
    }
}
