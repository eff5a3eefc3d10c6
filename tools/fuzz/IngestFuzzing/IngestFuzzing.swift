import AudioTranscoding
import Ingest
import SFU
import Signaling

/// Fuzz entry point for the ingress body parser (docs/api.md), shared by the libFuzzer target
/// and the replay test. Invariants are `precondition`s, so a violation is a crash.
public enum IngestFuzzing {
    /// Any bytes either are refused with a code or give a request that keeps every rule: a
    /// valid identity, some media, media of the right kinds on distinct dynamic payload types,
    /// bounded metadata that is a JSON object.
    public static func ingressRequest(_ bytes: UnsafeRawBufferPointer) {
        let r: IngressRequest
        do throws(IngressRequest.Invalid) { r = try IngressRequest.parse(Array(bytes)) } catch {
            precondition(!error.code.isEmpty && !error.message.isEmpty, "a refusal without a code or a reason")
            return
        }
        precondition(NameRule.isValid(r.identity), "an admitted identity breaks the name rule")
        precondition(r.video != nil || r.audio != nil, "an ingress with no media")
        if let v = r.video { precondition(v.codec.kind == .video && (96...127).contains(v.payloadType)) }
        if let a = r.audio {
            precondition(a.codec.kind == .audio && ((96...127).contains(a.payloadType) || a.payloadType == a.g711?.staticPayloadType))
        }
        if let v = r.video, let a = r.audio { precondition(v.payloadType != a.payloadType, "clashing payload types admitted") }
        precondition(r.metadata.utf8.count <= IngressRequest.maximumMetadataBytes)
        if !r.metadata.isEmpty { precondition((try? JSONValue.parse(r.metadata))?.object != nil, "metadata is not a JSON object") }
    }

    /// RTSP from a camera (responses and interleaved frames): the same bytes split at an
    /// input-chosen point give the same messages as in one piece, or the same refusal; a body is
    /// what Content-Length said; nothing grows past the limits.
    public static func rtspMessages(_ bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.first else { return }
        let input = Array(bytes.dropFirst())
        var limits = RTSPMessageParser.Limits()
        limits.maxHeadBytes = 2048
        limits.maxBodyBytes = 4096
        func run(_ pieces: [ArraySlice<UInt8>]) -> ([RTSPMessageParser.Message], RTSPMessageParser.Error?) {
            var p = RTSPMessageParser(limits: limits)
            var out: [RTSPMessageParser.Message] = []
            for piece in pieces {
                p.append(piece)
                do throws(RTSPMessageParser.Error) { while let m = try p.next() { out.append(m) } } catch { return (out, error) }
            }
            return (out, nil)
        }
        let cut = input.isEmpty ? 0 : Int(first) % (input.count + 1)
        let whole = run([input[...]]), split = run([input[..<cut], input[cut...]])
        precondition(whole.0 == split.0 && (whole.1 == nil) == (split.1 == nil), "splitting the bytes changed the messages")
        for case .response(let r) in whole.0 {
            precondition(r.body.count <= limits.maxBodyBytes && r.headers.count <= limits.maxHeaders)
            if let n = r.header("Content-Length").flatMap(Int.init) { precondition(r.body.count == n) }
        }
    }
}
