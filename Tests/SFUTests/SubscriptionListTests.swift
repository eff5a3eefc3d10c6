import MediaCrypto
import MediaWire
import Testing
@testable import SFU

/// A viewer's subscription list, two inline and the rest in an array: order, removal and
/// iteration as an array's, whichever part the entries are in.
struct SubscriptionListTests {
    /// `n` subscriptions of one viewer to one track (objects only; nothing is forwarded).
    static func subscriptions(_ n: Int) throws -> [MediaRouter.Subscription] {
        let media = MediaSection(mid: "0", codec: .vp8, payloadType: 96, direction: .sending)
        let viewer = WebRTCTransport(id: 1, ice: ICELiteAgent(localUfrag: "u"),
                                     dtls: DTLSTransport(context: DTLSContext(certificate: try DTLSCertificate.generate()), role: .server, remoteFingerprint: []),
                                     media: [media])
        let track = MediaRouter.Track(key: MediaRouter.TrackKey(publisher: ParticipantKey(room: "room", identity: "p"), kind: .video), transport: 2, codec: .vp8, payloadType: 96, clockRate: 90000)
        return (0..<n).map { MediaRouter.Subscription(viewer: viewer, track: track, media: media, ssrc: UInt32($0), clockRate: 90000) }
    }

    static func ssrcs(_ list: SubscriptionList) -> [UInt32] { list.map(\.rewriter.outboundSSRC) }

    @Test func behavesAsAnArray() throws {
        let subs = try Self.subscriptions(6)
        var list = SubscriptionList()
        #expect(list.isEmpty && list.count == 0 && Self.ssrcs(list).isEmpty)
        for (i, s) in subs.enumerated() {
            list.append(s)
            #expect(list.count == i + 1 && Self.ssrcs(list) == (0...UInt32(i)).map { $0 })
        }
        list.removeAll { $0.rewriter.outboundSSRC == 0 }  // an inline one: the rest move up
        #expect(Self.ssrcs(list) == [1, 2, 3, 4, 5])
        list.removeAll { $0.rewriter.outboundSSRC % 2 == 1 }
        #expect(Self.ssrcs(list) == [2, 4] && list.count == 2)
        list.removeAll { $0.rewriter.outboundSSRC == 99 }  // nothing matches: unchanged
        #expect(Self.ssrcs(list) == [2, 4])
        list.append(subs[0])
        #expect(Self.ssrcs(list) == [2, 4, 0] && list.first { $0.rewriter.outboundSSRC == 0 } === subs[0])
        list.removeAll { _ in true }
        #expect(list.isEmpty && Self.ssrcs(list).isEmpty)
    }
}
