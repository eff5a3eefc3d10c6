import MediaSessions
import SFU
import Signaling
import Testing
@testable import ServerApp

/// What signaling says about published tracks (docs/signaling.md, "track").
struct TrackInfoTests {
    /// The sources an offer may name are exactly the media graph's.
    @Test func offerSourcesAreTheGraphsSources() {
        #expect(ClientMessage.trackSources == Set(TrackSource.allCases.map(\.rawValue)))
        let decoded = try? ClientMessage.decode(#"{"type":"offer","target":"publisher","sdp":"v=0","sources":{"0":"camera","3":"screen"}}"#)
        #expect(decoded == .offer(id: nil, target: .publisher, sdp: "v=0", sources: ["0": "camera", "3": "screen"]))
    }

    /// A track object carries its source and codec; one kept through a renegotiation keeps its
    /// mute state, a new one starts unmuted.
    @Test func tracksKeepTheirMuteStateThroughRenegotiation() {
        let camera = MediaService.Published.Track(source: .camera, mid: "0", codec: .h264, formatParameters: "", sid: "TR_a_1")
        let screen = MediaService.Published.Track(source: .screen, mid: "2", codec: .vp8, formatParameters: "", sid: "TR_a_3")
        let old = [TrackInfo(sid: "TR_a_1", kind: "video", source: "camera", codec: "H264", muted: true)]
        let infos = SignalingApplication.trackInfos([camera, screen], keeping: old)
        #expect(infos == [TrackInfo(sid: "TR_a_1", kind: "video", source: "camera", codec: "H264", muted: true),
                          TrackInfo(sid: "TR_a_3", kind: "video", source: "screen", codec: "VP8", muted: false)])
        #expect(infos[1].json["source"] as? String == "screen" && infos[1].json["codec"] as? String == "VP8")
    }
}
