import AudioTranscoding
import MediaWire
import SFU
import Testing
@testable import Ingest

/// The ingress body (docs/api.md): what is accepted, and a malformed-input table of what is
/// refused with which code.
struct IngressRequestTests {
    static func parse(_ text: String) throws(IngressRequest.Invalid) -> IngressRequest { try IngressRequest.parse(Array(text.utf8)) }

    @Test func aDroneWithVideoAndAudio() throws {
        let r = try Self.parse(#"{"identity":"drone-7","name":"无人机 7","kind":"drone","metadata":{"unit":"消防","location":{"lat":30.27,"lon":120.15}},"video":{"codec":"h264","payloadType":102,"profileLevelId":"42E01F"},"audio":{"codec":"opus","payloadType":111}}"#)
        #expect(r.identity == "drone-7" && r.name == "无人机 7" && r.kind == .drone)
        #expect(r.video == IngressRequest.Medium(codec: .h264, payloadType: 102, profileLevelID: "42e01f"))
        #expect(r.audio == IngressRequest.Medium(codec: .opus, payloadType: 111, profileLevelID: nil))
        #expect(r.metadata == #"{"location":{"lat":30.27,"lon":120.15},"unit":"消防"}"#)
        let camera = try Self.parse(#"{"identity":"cam","kind":"camera","audio":{"codec":"PCMA","payloadType":8}}"#)
        #expect(camera.audio == IngressRequest.Medium(codec: .opus, payloadType: 8, g711: .aLaw))
        #expect(try Self.parse(#"{"identity":"cam","kind":"camera","audio":{"codec":"pcmu","payloadType":97}}"#).audio?.g711 == .muLaw)
        let videoOnly = try Self.parse(#"{"identity":"cam","kind":"camera","video":{"codec":"VP8","payloadType":96}}"#)
        #expect(videoOnly.name == "cam" && videoOnly.audio == nil && videoOnly.metadata == "" && !videoOnly.srtp)
        #expect(try Self.parse(#"{"identity":"cam","kind":"camera","video":{"codec":"VP8","payloadType":96},"srtp":true}"#).srtp)
    }

    static let good = #""identity":"cam","kind":"camera""#
    @Test(arguments: [
        ("", "invalid_json"),
        ("[1]", "invalid_json"),
        ("{\"identity\":", "invalid_json"),
        (#"{"kind":"camera","video":{"codec":"VP8","payloadType":96}}"#, "invalid_request"),
        (#"{"identity":7,"kind":"camera"}"#, "invalid_request"),
        (#"{"identity":"a/b","kind":"camera","video":{"codec":"VP8","payloadType":96}}"#, "invalid_name"),
        (#"{"identity":"","kind":"camera","video":{"codec":"VP8","payloadType":96}}"#, "invalid_name"),
        (#"{\#(good)}"#, "invalid_request"),
        (#"{"identity":"cam","kind":"tank","video":{"codec":"VP8","payloadType":96}}"#, "invalid_request"),
        (#"{\#(good),"video":{"codec":"AV1","payloadType":96}}"#, "unsupported_codec"),
        (#"{\#(good),"audio":{"codec":"G722","payloadType":9}}"#, "unsupported_codec"),
        (#"{\#(good),"audio":{"codec":"PCMA","payloadType":0}}"#, "invalid_request"),
        (#"{\#(good),"video":{"codec":"PCMU","payloadType":0}}"#, "unsupported_codec"),
        (#"{\#(good),"audio":{"codec":"VP8","payloadType":96}}"#, "unsupported_codec"),
        (#"{\#(good),"video":{"codec":"VP8","payloadType":200}}"#, "invalid_request"),
        (#"{\#(good),"video":{"codec":"VP8","payloadType":77}}"#, "invalid_request"),
        (#"{\#(good),"video":{"codec":"VP8","payloadType":96.5}}"#, "invalid_request"),
        (#"{\#(good),"video":{"codec":"VP8"}}"#, "invalid_request"),
        (#"{\#(good),"video":"VP8"}"#, "invalid_request"),
        (#"{\#(good),"video":{"codec":"VP8","payloadType":96,"profileLevelId":"42e01f"}}"#, "invalid_request"),
        (#"{\#(good),"video":{"codec":"H264","payloadType":96,"profileLevelId":"zzzzzz"}}"#, "invalid_request"),
        (#"{\#(good),"video":{"codec":"VP8","payloadType":96,"bitrate":1}}"#, "invalid_request"),
        (#"{\#(good),"video":{"codec":"VP8","payloadType":96},"audio":{"codec":"opus","payloadType":96}}"#, "payload_type_clash"),
        (#"{\#(good),"video":{"codec":"VP8","payloadType":96},"metadata":[1]}"#, "invalid_request"),
        (#"{\#(good),"video":{"codec":"VP8","payloadType":96},"name":5}"#, "invalid_request"),
        (#"{\#(good),"video":{"codec":"VP8","payloadType":96},"url":"rtsp://x/y"}"#, "unsupported"),
        (#"{\#(good),"video":{"codec":"VP8","payloadType":96},"srtp":"yes"}"#, "invalid_request"),
        (#"{\#(good),"video":{"codec":"VP8","payloadType":96},"color":"red"}"#, "invalid_request"),
    ])
    func malformed(text: String, code: String) {
        #expect(throws: IngressRequest.Invalid.self) { try Self.parse(text) }
        do throws(IngressRequest.Invalid) { _ = try Self.parse(text) } catch { #expect(error.code == code, "\(text): \(error.message)") }
    }

    @Test func metadataIsBounded() {
        let big = String(repeating: "x", count: IngressRequest.maximumMetadataBytes)
        #expect(throws: IngressRequest.Invalid.self) { try Self.parse(#"{\#(Self.good),"video":{"codec":"VP8","payloadType":96},"metadata":{"a":"\#(big)"}}"#) }
    }

    @Test func portsComeLowestFirstAndComeBack() {
        var pool = IngressPortPool(range: 5000...5002)
        #expect(pool.take() == 5000 && pool.take(skipping: [5001]) == 5002 && pool.take() == 5001 && pool.take() == nil)
        pool.release(5000)
        #expect(pool.available == 1 && pool.take() == 5000)
        #expect(IngressPortPool.parseRange("40000-40199") == 40000...40199)
        for bad in ["", "40000", "5-4", "0-10", "a-b", "1-70000", "1-2-3"] { #expect(IngressPortPool.parseRange(bad) == nil, "\(bad)") }
    }
}
