import AudioTranscoding
import MediaCrypto
import MediaWire
import SFU
import Synchronization

/// What one ingress port has received, written on the media thread and read by the control
/// plane (the listing, the idle check) through atomics; the latched address, set once per
/// sender, behind a mutex.
public final class IngressCounters: Sendable {
    let packets = Atomic<Int>(0)
    let bytes = Atomic<Int>(0)
    let rtcpPackets = Atomic<Int>(0)
    let droppedOtherSender = Atomic<Int>(0)
    /// G.711 packets the transcoder's ring had no room for.
    let transcoderDrops = Atomic<Int>(0)
    /// SRTP/SRTCP packets that failed authentication (or replay checks): dropped.
    let srtpFailures = Atomic<Int>(0)
    /// Why the video is not forwarded (an SPS no browser decodes), set when it is seen.
    let videoRefusal = Mutex<String?>(nil)
    /// Media-thread clock of the last RTP packet; 0 before the first.
    let lastPacketAt = Atomic<UInt64>(0)
    let latched = Mutex<TransportAddress?>(nil)

    public init() {}

    public struct Snapshot: Equatable, Sendable {
        public var packets: Int, bytes: Int, rtcpPackets: Int, droppedOtherSender: Int, transcoderDrops: Int, srtpFailures: Int
        public var lastPacketAt: UInt64?
        public var latched: TransportAddress?
        public var videoRefusal: String?
    }

    public var snapshot: Snapshot {
        let last = lastPacketAt.load(ordering: .relaxed)
        return Snapshot(packets: packets.load(ordering: .relaxed), bytes: bytes.load(ordering: .relaxed),
                        rtcpPackets: rtcpPackets.load(ordering: .relaxed), droppedOtherSender: droppedOtherSender.load(ordering: .relaxed),
                        transcoderDrops: transcoderDrops.load(ordering: .relaxed), srtpFailures: srtpFailures.load(ordering: .relaxed),
                        lastPacketAt: last == 0 ? nil : last, latched: latched.withLock { $0 }, videoRefusal: videoRefusal.withLock { $0 })
    }
}

/// One plain-RTP ingress port on the media thread: the first address to send is latched
/// (comedia) and every other is dropped and counted; RTCP (rtcp-mux, RFC 5761 §4) is told
/// from RTP by its packet type and counted; RTP goes to the router as the source's packets,
/// which finds the track by payload type. Keyframe requests and NACKs for the source come back
/// as RTCP to the latched address (`feedback`).
///
/// @unchecked Sendable: confined to the media thread. The socket's handler and the router's
/// event handler, both run there, are the only ones that touch it; the control plane reads
/// `counters` only.
public final class PlainRTPReceiver: @unchecked Sendable {
    public let counters: IngressCounters
    /// The socket it is served on, which its feedback leaves from.
    public let socket: Int32
    /// Set by the command that added the source, which runs before the socket is served.
    public var source: SourceID?
    public private(set) var sender: TransportAddress?
    /// G.711 audio: its payload type, the ring to the transcoder, and the ring back from it.
    public var transcoding: (payloadType: UInt8, job: AudioTranscoder.Job)?
    /// H.264 video's payload type: its sequence parameter sets are checked, and a stream no
    /// browser can decode is not forwarded (a clear reason instead of a black tile).
    public var h264PayloadType: UInt8?
    private var lastSPS: [UInt8] = []
    private var videoRefused = false
    /// H.264 is held back until its first SPS: no decoder starts without one, and it says
    /// whether a browser can decode the stream at all.
    private var spsAccepted = false

    /// SRTP from the sender (nil: clear RTP), and where its packets are unprotected.
    let srtp: SRTPContext?
    private let scratch: UnsafeMutableRawBufferPointer?

    public init(counters: IngressCounters, socket: Int32, srtp: SRTPContext? = nil) {
        self.counters = counters
        self.socket = socket
        self.srtp = srtp
        scratch = srtp == nil ? nil : UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 16)
    }

    deinit { scratch?.deallocate() }

    public func receive(_ datagram: UnsafeRawBufferPointer, from: TransportAddress, now: UInt64, router: MediaRouter,
                        send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        guard let srtp, let scratch else { return receiveClear(datagram, from: from, now: now, router: router, send: send) }
        // Unprotected before anything else: only the key's holder can be latched.
        guard datagram.count >= 2, datagram.count <= scratch.count else { counters.srtpFailures.add(1, ordering: .relaxed); return }
        scratch.copyMemory(from: datagram)
        let rtcp = (192...223).contains(datagram[1])
        let length: Int
        do throws(SRTPError) {
            length = rtcp ? try srtp.unprotectRTCP(scratch, length: datagram.count) : try srtp.unprotectRTP(scratch, length: datagram.count)
        } catch {
            counters.srtpFailures.add(1, ordering: .relaxed)
            return
        }
        receiveClear(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(scratch)[0..<length]), from: from, now: now, router: router, send: send)
    }

    private func receiveClear(_ datagram: UnsafeRawBufferPointer, from: TransportAddress, now: UInt64, router: MediaRouter,
                              send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        if let sender, sender != from {
            counters.droppedOtherSender.add(1, ordering: .relaxed)
            return
        }
        if sender == nil {
            sender = from
            counters.latched.withLock { $0 = from }
        }
        // RFC 5761 §4: on a muxed port, a second byte of 192–223 is an RTCP packet type.
        if datagram.count >= 2, (192...223).contains(datagram[1]) {
            counters.rtcpPackets.add(1, ordering: .relaxed)
            return
        }
        guard let source else { return }
        counters.packets.add(1, ordering: .relaxed)
        counters.bytes.add(datagram.count, ordering: .relaxed)
        counters.lastPacketAt.store(max(now, 1), ordering: .relaxed)
        if let t = transcoding, datagram.count >= 2, datagram[1] & 0x7F == t.payloadType {
            if !t.job.input.push(datagram, arrival: now) { counters.transcoderDrops.add(1, ordering: .relaxed) }
            return
        }
        if let pt = h264PayloadType, datagram.count >= 2, datagram[1] & 0x7F == pt {
            checkParameterSets(datagram)
            if videoRefused || !spsAccepted { return }
        }
        router.ingest(source: source, packet: datagram, now: now, send: send)
    }

    /// Reads a new SPS (alone or in a STAP-A, RFC 6184 §5.7.1) and refuses the video when a
    /// browser cannot decode it, or accepts it again when a later SPS says it can.
    private func checkParameterSets(_ packet: UnsafeRawBufferPointer) {
        guard let header = try? RTPHeader.parse(packet) else { return }
        let payload = header.payload(in: packet)
        // Most packets are FU-A fragments of slices: only a lone SPS or an aggregation can hold one.
        guard let first = payload.first, first & 0x1F == H264Payload.NALType.sequenceParameterSet || first & 0x1F == H264Payload.NALType.stapA else { return }
        try? H264Payload.forEachWholeUnit(in: payload) { type, range in
            guard type == H264Payload.NALType.sequenceParameterSet else { return }
            let sps = UnsafeRawBufferPointer(rebasing: payload[range])
            guard !sps.elementsEqual(lastSPS) else { return }
            lastSPS = Array(sps)
            let why: String?
            do throws(WireError) { why = try H264SequenceParameterSet.parse(sps).browserIncompatibility } catch { why = "an SPS that does not parse (\(error.sentence))" }
            videoRefused = why != nil
            spsAccepted = why == nil
            counters.videoRefusal.withLock { $0 = why }
        }
    }

    /// The transcoder's Opus packets, into the router as the source's audio (media thread).
    func pump(router: MediaRouter, now: UInt64, send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        guard let t = transcoding, let source else { return }
        t.job.output.drain { packet, _ in router.ingest(source: source, packet: packet, now: now, send: send) }
    }

    /// The SSRC our RTCP feedback names as its sender.
    static let feedbackSSRC: UInt32 = 0x5348_4955  // "SHIU"

    /// RTCP for a router event about this source: a PLI (RFC 4585 §6.3.1) for a keyframe
    /// request, a generic NACK (§6.2.1) for lost packets; nil for other events or before
    /// anyone has sent.
    public func feedback(for event: MediaRouter.Event) -> [UInt8]? {
        guard sender != nil else { return nil }
        switch event {
        case .keyframeRequested(let id, let ssrc) where id == source:
            return RTCPPacket.pictureLossIndication(RTCPPictureLossIndication(senderSSRC: Self.feedbackSSRC, mediaSSRC: ssrc)).serialized()
        case .retransmissionRequested(let id, let ssrc, let lost) where id == source:
            return RTCPPacket.nack(RTCPNack(senderSSRC: Self.feedbackSSRC, mediaSSRC: ssrc, lost: lost)).serialized()
        default:
            return nil
        }
    }
}
