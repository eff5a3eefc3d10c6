// wire-check: runs MediaWire's parsers over bytes produced by third-party software and prints a
// JSON summary, so Tests/Interop can check our parsers against real peers.
//
//   wire-check sdp                      < offer.sdp      exact round trip + summary
//   wire-check stun [--password P]      < message.bin    decode, verify integrity and fingerprint
//   wire-check stun-response --password P --transaction HEX24 --mapped IP:PORT
//                                                        writes a Binding success response to stdout
//   wire-check datagrams [--vp8 PT] [--opus PT] [--h264 PT] < capture   (each datagram prefixed by a 2-byte length)
//   wire-check srtp --profile cm|gcm --key HEX(master key || salt) --op protect|unprotect --kind rtp|rtcp < datagrams
//                                                        one context for the whole stream; JSON list of hex results
import Foundation
import MediaCrypto
import MediaWire

func fail(_ message: String) -> Never {
    FileHandle.standardError.write((message + "\n").data(using: .utf8)!)
    exit(2)
}

func emit(_ object: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write("\n".data(using: .utf8)!)
}

func option(_ name: String, in args: [String]) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

let args = Array(CommandLine.arguments.dropFirst())
guard let mode = args.first else { fail("usage: wire-check sdp|stun|stun-response|datagrams [options]") }
let input = [UInt8](FileHandle.standardInput.readDataToEndOfFile())

switch mode {
case "sdp":
    guard let text = String(bytes: input, encoding: .utf8) else { fail("SDP is not UTF-8") }
    do {
        let sdp = try SessionDescription.parse(text)
        var media: [[String: Any]] = []
        for m in sdp.media {
            media.append([
                "kind": m.kind, "mid": m.mid ?? "",
                "codecs": try m.values(SDPRTPMap.self).map { "\($0.encodingName)/\($0.clockRate)" },
                "candidates": try m.values(SDPICECandidate.self).map { "\($0.address):\($0.port)" },
                "extmaps": try m.values(SDPExtMap.self).count,
                "rids": try m.values(SDPRID.self).map(\.id),
                "fingerprint": (try m.value(SDPFingerprint.self) ?? sdp.value(SDPFingerprint.self))?.hashFunction ?? "",
            ])
        }
        emit(["roundTrip": sdp.serialized() == text, "bundle": sdp.bundleMids ?? [], "media": media])
    } catch {
        emit(["error": "\(error)"])
        exit(1)
    }

case "stun":
    do {
        let m = try STUNMessage.parse(input)
        var out: [String: Any] = [
            "class": "\(m.messageClass)", "method": Int(m.method.number), "username": m.username ?? "",
            "priority": m.priority.map { Int($0) } ?? -1, "useCandidate": m.useCandidate,
            "controlling": m.iceControlling != nil, "controlled": m.iceControlled != nil,
            "fingerprint": STUNIntegrity.verifyFingerprint(m, raw: input),
            "transaction": hexString(m.transactionID.bytes),
            "unknownRequired": m.unknownComprehensionRequired.map(Int.init),
        ]
        if let password = option("--password", in: args) {
            out["integrity"] = STUNIntegrity.verifyMessageIntegrity(m, raw: input, key: STUNIntegrity.shortTermKey(password: password))
        }
        if let mapped = m.xorMappedAddress { out["mapped"] = mapped.description }
        emit(out)
    } catch {
        emit(["error": "\(error)"])
        exit(1)
    }

case "stun-response":
    guard let password = option("--password", in: args), let tx = option("--transaction", in: args), tx.count == 24,
          let mappedText = option("--mapped", in: args), let mapped = TransportAddress(mappedText) else {
        fail("stun-response needs --password, --transaction (24 hex digits) and --mapped IP:PORT")
    }
    guard let txBytes = bytes(fromHex: tx) else { fail("bad transaction hex") }
    let id = STUNTransactionID(bytes: txBytes)
    let response = STUNMessage(class: .successResponse, transactionID: id, attributes: [
        .xorMappedAddress(mapped, transactionID: id),
    ]).encoded(integrityKey: STUNIntegrity.shortTermKey(password: password), fingerprint: true)
    FileHandle.standardOutput.write(Data(response))

case "datagrams":
    let vp8PT = option("--vp8", in: args).flatMap(UInt8.init)
    let opusPT = option("--opus", in: args).flatMap(UInt8.init)
    let h264PT = option("--h264", in: args).flatMap(UInt8.init)
    var h264: [String: Int] = [:]
    var idrTimestamps: Set<UInt32> = [], parameterSetTimestamps: Set<UInt32> = [], keyframeStartTimestamps: Set<UInt32> = []
    var counts: [String: Int] = [:]
    var errors: [String] = []
    var ssrcs: Set<UInt32> = []
    var unwrappers: [UInt32: SequenceUnwrapper] = [:]
    var ranges: [UInt32: (Int64, Int64, Int)] = [:]
    var frames = 0, keyframes = 0, markers = 0
    var keyframeSizes: Set<String> = []
    var opusSamples = 0, opusPackets = 0
    var opusDurations: Set<Int> = []
    var rtcpTypes: [String: Int] = [:]
    var offset = 0
    func bump(_ key: String) { counts[key, default: 0] += 1 }
    while offset + 2 <= input.count {
        let length = Int(input[offset]) << 8 | Int(input[offset + 1])
        offset += 2
        guard offset + length <= input.count else { fail("capture truncated") }
        let datagram = Array(input[offset..<(offset + length)])
        offset += length
        datagram.withUnsafeBytes { bytes in
            switch PacketDemultiplexer.classify(bytes) {
            case .rtp:
                bump("rtp")
                do {
                    let h = try RTPHeader.parse(bytes)
                    ssrcs.insert(h.ssrc)
                    let ext = unwrappers[h.ssrc, default: SequenceUnwrapper()].unwrap(h.sequenceNumber)
                    let r = ranges[h.ssrc] ?? (ext, ext, 0)
                    ranges[h.ssrc] = (min(r.0, ext), max(r.1, ext), r.2 + 1)
                    if h.marker { markers += 1 }
                    let payload = h.payload(in: bytes)
                    if h.payloadType == vp8PT {
                        let d = try VP8PayloadDescriptor.parse(payload)
                        if d.isStartOfFrame {
                            frames += 1
                            let data = UnsafeRawBufferPointer(rebasing: payload[d.serializedSize...])
                            let f = try VP8FrameHeader.parse(data)
                            if f.isKeyFrame {
                                keyframes += 1
                                keyframeSizes.insert("\(f.width)x\(f.height)")
                            }
                        }
                    } else if h.payloadType == h264PT {
                        let p = try H264Payload.parse(payload)
                        switch p.packetization {
                        case .single: h264["single", default: 0] += 1
                        case .stapA: h264["stapA", default: 0] += 1
                        case .fuA: h264["fuA", default: 0] += 1
                        }
                        let starts = H264Payload.starts(in: payload)
                        if starts.idr { h264["idr", default: 0] += 1; idrTimestamps.insert(h.timestamp) }
                        if starts.sequenceParameterSet { h264["sps", default: 0] += 1 }
                        if starts.sequenceParameterSet || starts.pictureParameterSet { parameterSetTimestamps.insert(h.timestamp) }
                        if starts.pictureParameterSet { h264["pps", default: 0] += 1 }
                        if H264Payload.isKeyFrameStart(payload) {
                            h264["keyframeStarts", default: 0] += 1
                            keyframeStartTimestamps.insert(h.timestamp)
                        }
                        h264["packets", default: 0] += 1
                    } else if h.payloadType == opusPT {
                        let p = try OpusPacket.parse(payload)
                        opusPackets += 1
                        opusSamples += p.samples
                        opusDurations.insert(p.samples)
                    }
                } catch {
                    errors.append("\(error)")
                }
            case .rtcp:
                bump("rtcp")
                do {
                    for p in try RTCPCompound.parse(Array(bytes)) {
                        let name: String = switch p {
                        case .senderReport: "sr"
                        case .receiverReport: "rr"
                        case .sourceDescription: "sdes"
                        case .goodbye: "bye"
                        case .applicationDefined: "app"
                        case .nack: "nack"
                        case .transportCC: "twcc"
                        case .pictureLossIndication: "pli"
                        case .fullIntraRequest: "fir"
                        case .remb: "remb"
                        case .unknown(let t, _, _): "pt\(t)"
                        }
                        rtcpTypes[name, default: 0] += 1
                    }
                } catch {
                    errors.append("\(error)")
                }
            case .stun: bump("stun")
            case .dtls: bump("dtls")
            default: bump("other")
            }
        }
    }
    let lost = ranges.values.reduce(0) { $0 + Int($1.1 - $1.0 + 1) - $1.2 }
    if h264PT != nil {
        h264["idrFrames"] = idrTimestamps.count
        h264["idrFramesWithParameterSets"] = idrTimestamps.intersection(parameterSetTimestamps).count
        h264["keyframeStartsOutsideIDRFrames"] = keyframeStartTimestamps.subtracting(idrTimestamps).count
    }
    emit(["counts": counts, "errors": errors, "ssrcs": ssrcs.count, "lost": lost, "markers": markers,
          "vp8Frames": frames, "vp8Keyframes": keyframes, "vp8KeyframeSizes": keyframeSizes.sorted(),
          "opusPackets": opusPackets, "opusSamples": opusSamples, "opusPacketSamples": opusDurations.sorted(),
          "rtcp": rtcpTypes, "h264": h264])

case "srtp":
    guard let profileName = option("--profile", in: args), let keyHex = option("--key", in: args),
          let op = option("--op", in: args), let kind = option("--kind", in: args) else {
        fail("srtp needs --profile, --key, --op and --kind")
    }
    let profile: SRTPProfile = profileName == "gcm" ? .aeadAes128Gcm : .aes128CmHmacSha1_80
    guard let key = bytes(fromHex: keyHex) else { fail("bad key hex") }
    guard key.count == profile.masterKeyLength + profile.masterSaltLength else { fail("key must be master key || salt") }
    let context = SRTPContext(profile: profile, masterKey: Array(key[..<16]), masterSalt: Array(key[16...]))
    var results: [Any] = []
    var offset = 0
    while offset + 2 <= input.count {
        let length = Int(input[offset]) << 8 | Int(input[offset + 1])
        offset += 2
        var buffer = Array(input[offset..<(offset + length)]) + [UInt8](repeating: 0, count: 32)
        offset += length
        let result: Result<Int, SRTPError> = buffer.withUnsafeMutableBytes { b in
            Result { () throws(SRTPError) in
                switch (op, kind) {
                case ("protect", "rtp"): return try context.protectRTP(b, length: length)
                case ("protect", _): return try context.protectRTCP(b, length: length)
                case (_, "rtp"): return try context.unprotectRTP(b, length: length)
                default: return try context.unprotectRTCP(b, length: length)
                }
            }
        }
        switch result {
        case .success(let n): results.append(hexString(Array(buffer[..<n])))
        case .failure(let e): results.append(["error": "\(e)"])
        }
    }
    let data = try! JSONSerialization.data(withJSONObject: results)
    FileHandle.standardOutput.write(data)

default:
    fail("unknown mode \(mode)")
}

/// Hex text (even length, no separators) to bytes; nil when malformed.
func bytes(fromHex text: String) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    for i in stride(from: 0, to: digits.count, by: 2) {
        guard let b = UInt8(String(decoding: digits[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
        out.append(b)
    }
    return out
}

func hexString(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
