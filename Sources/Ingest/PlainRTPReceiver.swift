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
    /// Media-thread clock of the last RTP packet; 0 before the first.
    let lastPacketAt = Atomic<UInt64>(0)
    let latched = Mutex<TransportAddress?>(nil)

    public init() {}

    public struct Snapshot: Equatable, Sendable {
        public var packets: Int, bytes: Int, rtcpPackets: Int, droppedOtherSender: Int, transcoderDrops: Int, srtpFailures: Int
        public var lastPacketAt: UInt64?
        public var latched: TransportAddress?
    }

    public var snapshot: Snapshot {
        let last = lastPacketAt.load(ordering: .relaxed)
        return Snapshot(packets: packets.load(ordering: .relaxed), bytes: bytes.load(ordering: .relaxed),
                        rtcpPackets: rtcpPackets.load(ordering: .relaxed), droppedOtherSender: droppedOtherSender.load(ordering: .relaxed),
                        transcoderDrops: transcoderDrops.load(ordering: .relaxed), srtpFailures: srtpFailures.load(ordering: .relaxed),
                        lastPacketAt: last == 0 ? nil : last, latched: latched.withLock { $0 })
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
        router.ingest(source: source, packet: datagram, now: now, send: send)
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
