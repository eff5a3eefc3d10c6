import MediaWire

/// One entry point per MediaWire parser, shared by the libFuzzer targets (tools/fuzz/targets) and
/// the regression test that replays Fixtures/fuzz. Each one parses hostile bytes and checks the
/// invariants a successful parse promises with `precondition`, so a violation is a crash the
/// fuzzer reports, not a silent pass.
public enum WireFuzzing {
    public static let targets: [String: @Sendable (UnsafeRawBufferPointer) -> Void] = [
        "rtp": rtp, "rtp-extension": rtpExtension, "rtcp": rtcp, "stun": stun, "sdp": sdp, "vp8": vp8, "opus": opus,
        "h264": h264, "h264-sps": h264SPS,
    ]

    /// H.264 payloads (RFC 6184): a payload that parses walks its NAL unit starts inside its
    /// bounds, aggregated counts agree with the walk, and keyframe detection never traps.
    public static func h264(_ bytes: UnsafeRawBufferPointer) {
        let keyframe = H264Payload.isKeyFrameStart(bytes)
        guard let p = try? H264Payload.parse(bytes) else {
            precondition(!keyframe, "a payload that does not parse was taken for a keyframe")
            return
        }
        var walked = 0
        try! H264Payload.forEachNALStart(in: bytes) { type in
            precondition((1...23).contains(type))
            walked += 1
        }
        switch p.packetization {
        case .stapA(let count): precondition(walked == count)
        case .single: precondition(walked == 1)
        case .fuA(_, let start, _): precondition(walked == (start ? 1 : 0))
        }
    }

    /// RTP header: framing offsets stay inside the packet; extension ranges too.
    public static func rtp(_ bytes: UnsafeRawBufferPointer) {
        _ = PacketDemultiplexer.classify(bytes)
        guard let h = try? RTPHeader.parse(bytes) else { return }
        precondition(h.payloadOffset + h.payloadLength + h.paddingLength == bytes.count)
        precondition(h.payloadOffset >= RTPHeader.fixedSize + 4 * h.csrcCount)
        try? RTPHeaderExtensionBlock.forEach(in: bytes, header: h) { _, range in
            precondition(range.lowerBound >= h.extensionOffset && range.upperBound <= h.extensionOffset + h.extensionLength)
        }
    }

    /// RFC 8285 editing: set, rewrite and remove on a copy with spare capacity never corrupt framing.
    public static func rtpExtension(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 2 else { return }
        let id = bytes[0] % 20, valueLength = Int(bytes[1] % 24)
        let packet = UnsafeRawBufferPointer(rebasing: bytes[2...])
        guard (try? RTPHeader.parse(packet)) != nil else { return }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: packet.count + 300, alignment: 8)
        defer { buffer.deallocate() }
        buffer.copyMemory(from: packet)
        let value = [UInt8](repeating: 0xA5, count: valueLength)
        var length = packet.count
        if let n = value.withUnsafeBytes({ v in try? RTPHeaderExtensionEditor.set(id, value: v, in: buffer, length: length) }) {
            length = n
            let view = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<length])
            let h = try! RTPHeader.parse(view)
            let found = try! RTPHeaderExtensionBlock.find(id, in: view, header: h)
            precondition(found?.count == valueLength)
        }
        if let n = try? RTPHeaderExtensionEditor.remove(id, in: buffer, length: length) {
            let view = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<n])
            let h = try! RTPHeader.parse(view)
            precondition(try! RTPHeaderExtensionBlock.find(id, in: view, header: h) == nil)
        }
    }

    /// RTCP compounds: what parses re-serialises to bytes that parse to the same packets.
    public static func rtcp(_ bytes: UnsafeRawBufferPointer) {
        guard let packets = try? RTCPCompound.parse(bytes) else { return }
        let again = RTCPCompound.serialize(packets)
        precondition((try? RTCPCompound.parse(again)) == packets, "RTCP re-serialisation changed meaning")
    }

    /// STUN: parsed attributes re-encode and parse back identically; verification never traps.
    public static func stun(_ bytes: UnsafeRawBufferPointer) {
        guard let m = try? STUNMessage.parse(bytes) else { return }
        _ = STUNIntegrity.verifyMessageIntegrity(m, raw: bytes, key: UnsafeRawBufferPointer(start: nil, count: 0))
        _ = STUNIntegrity.verifyFingerprint(m, raw: bytes)
        _ = m.xorMappedAddress
        _ = m.errorCode
        _ = m.username
        let plain = m.attributes.filter {
            $0.type != STUNAttributeType.messageIntegrity && $0.type != STUNAttributeType.fingerprint
        }
        let again = try! STUNMessage.parse(STUNMessage(method: m.method, class: m.messageClass,
                                                         transactionID: m.transactionID, attributes: plain).encoded())
        precondition(again.attributes == plain && again.transactionID == m.transactionID)
    }

    /// SDP: what parses serialises back to the same model; typed attribute decoders never trap.
    public static func sdp(_ bytes: UnsafeRawBufferPointer) {
        guard let text = String(validating: bytes, as: UTF8.self), let sdp = try? SessionDescription.parse(text) else { return }
        precondition((try? SessionDescription.parse(sdp.serialized())) == sdp, "SDP re-serialisation changed meaning")
        var containers: [any SDPLineContainer] = [sdp]
        containers += sdp.media
        for c in containers {
            for value in (try? c.values(SDPRTPMap.self)) ?? [] { precondition((try? SDPRTPMap(parsing: value.description[...], line: 0)) == value) }
            for value in (try? c.values(SDPICECandidate.self)) ?? [] { precondition((try? SDPICECandidate(parsing: value.description[...], line: 0)) == value) }
            for value in (try? c.values(SDPSimulcast.self)) ?? [] { precondition((try? SDPSimulcast(parsing: value.description[...], line: 0)) == value) }
            _ = try? c.values(SDPFingerprint.self)
            _ = try? c.values(SDPExtMap.self)
            _ = try? c.values(SDPFormatParameters.self).map(\.parameters)
            _ = try? c.values(SDPRTCPFeedback.self)
            _ = try? c.values(SDPSSRC.self)
            _ = try? c.values(SDPSSRCGroup.self)
            _ = try? c.values(SDPRID.self).map(\.restrictions)
            _ = try? c.values(SDPSetupRole.self)
            _ = try? c.values(SDPMediaStreamID.self)
            _ = try? c.values(SDPGroup.self)
        }
    }

    /// VP8: descriptor length stays inside the payload and re-serialises to the same fields.
    public static func vp8(_ bytes: UnsafeRawBufferPointer) {
        _ = VP8PayloadDescriptor.isKeyFrameStart(bytes)
        guard let d = try? VP8PayloadDescriptor.parse(bytes) else { return }
        precondition(d.serializedSize < bytes.count)
        // Re-serialised (reserved bits cleared) and followed by one data byte, it parses to the same fields.
        let again = d.serialized() + [0]
        precondition(again.withUnsafeBytes { try? VP8PayloadDescriptor.parse($0) } == d, "VP8 descriptor round trip")
        if d.isStartOfFrame {
            _ = try? VP8FrameHeader.parse(UnsafeRawBufferPointer(rebasing: bytes[d.serializedSize...]))
        }
    }

    /// Opus: a valid packet never claims more than 120 ms or more frames than 48.
    public static func opus(_ bytes: UnsafeRawBufferPointer) {
        guard let p = try? OpusPacket.parse(bytes) else { return }
        precondition(p.samples <= OpusPacket.maximumSamples && p.frameCount >= 1 && p.frameCount <= 63)
    }

    /// A parsed SPS describes a picture that exists: positive size within the field limits,
    /// a chroma format and bit depths of the standard's ranges; the reason given for refusing
    /// it, if any, is a sentence.
    public static func h264SPS(_ bytes: UnsafeRawBufferPointer) {
        guard let s = try? H264SequenceParameterSet.parse(bytes) else { return }
        precondition(s.width > 0 && s.width <= 16 * 1024 && s.height > 0 && s.height <= 32 * 1024, "impossible picture size")
        precondition((0...3).contains(s.chromaFormatIDC) && (8...14).contains(s.bitDepthLuma) && (8...14).contains(s.bitDepthChroma))
        if let why = s.browserIncompatibility { precondition(!why.isEmpty) }
    }
}
