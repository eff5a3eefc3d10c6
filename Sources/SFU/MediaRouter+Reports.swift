import MediaWire

/// RTCP reports generated per hop (RFC 3550 §6.4): the SFU terminates RTCP, so each leg gets
/// reports about what crossed that leg only.
///
/// - Toward a publisher: one RR per transport with a report block per published stream (loss,
///   jitter, LSR/DLSR so the publisher can compute its RTT), plus SDES CNAME (§6.1).
/// - Toward a subscriber: one SR per outgoing stream. Its NTP time is our wall clock; its RTP
///   timestamp is the publisher's clock at that moment, extrapolated from the publisher's last SR
///   (taken as read when it arrived) and mapped through the subscriber's rewrite offset. Audio
///   and video of one publisher share that delay, so lip sync survives the hop
///   (docs/forwarding.md, "RTCP reports").
///
/// Each transport reports at a random interval in [0.5, 1.5] × 1 s (§6.3.1 randomisation), its
/// first in the pass after it connects; a pass every 100 ms from `tick` takes the transports
/// that came due (`ReportWheel`).
extension MediaRouter {
    /// How often `tick` looks for due reports.
    static let reportPassInterval: UInt64 = 100_000_000
    /// Mean interval between reports on one stream or transport.
    static let reportInterval: UInt64 = 1_000_000_000
    /// SSRC our RTCP-only packets (RR, PLI, NACK) are sent from.
    static let rtcpSenderSSRC: UInt32 = 1
    static let rtcpDatagramLimit = 1200
    static let cname = "shihui"

    /// The report pass: the transports whose reports are due (`reportWheel`), each sent its RR
    /// (if it publishes) and its SRs (if it receives), then scheduled 0.5–1.5 s on.
    func sendReports(now: UInt64, send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        let ntp = NTPTimestamp.fromUnix(nanoseconds: unixTimeAtZero &+ now)
        reportWheel.take(now: now, into: &reportsDue)
        for id in reportsDue {
            guard let t = transports[id] else { continue }  // removed
            reportWheel.schedule(id, at: now &+ Self.randomizedInterval())
            guard t.isConnected else { continue }
            sendReceiverReport(on: t, now: now, send: send)
            sendSenderReports(on: t, ntp: ntp, now: now, send: send)
        }
        reportsDue.removeAll(keepingCapacity: true)
    }

    /// Toward a publisher: one RR with a block per stream it sends us, and our CNAME.
    private func sendReceiverReport(on t: WebRTCTransport, now: UInt64, send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        var blocks: [RTCPReportBlock] = []
        for track in t.publishedTracks {
            guard let ssrc = track.ssrc else { continue }
            blocks.append(track.receive.reportBlock(ssrc: ssrc, now: now))
        }
        guard !blocks.isEmpty else { return }
        let rr = RTCPReceiverReport(ssrc: Self.rtcpSenderSSRC, reports: Array(blocks.prefix(31)))
        sendRTCP([.receiverReport(rr), .sourceDescription(RTCPSourceDescription(source: Self.rtcpSenderSSRC, cname: Self.cname))],
                 on: t, send: send)
    }

    /// Toward a subscriber: one compound carrying an SR for each of its streams (RFC 8108 §5.3
    /// aggregation), not a datagram per stream: a meeting participant receiving 24 streams costs
    /// two SRTCP protects and sends a second, not 24. The SDES names the first SR's source only
    /// (§6.1 asks for one CNAME per compound; aiortc 1.9 misreads the padding of any SDES chunk
    /// but the last and drops the whole compound).
    private func sendSenderReports(on viewer: WebRTCTransport, ntp: UInt64, now: UInt64, send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
        var reports: [RTCPSenderReport] = []
        for sub in viewer.subscriptions {
            guard let rtp = sub.rewriter.outputTimestamp(at: now, sourceTimestamp: sourceTimestamp(of: sub.track, at: now)) else { continue }
            reports.append(RTCPSenderReport(ssrc: sub.rewriter.outboundSSRC, ntpTimestamp: ntp, rtpTimestamp: rtp,
                                            packetCount: sub.packetsSent, octetCount: sub.octetsSent))
        }
        // An SR is 28 bytes: 16 streams and the SDES stay well under the datagram limit.
        var rest = reports[...]
        while let first = rest.first {
            let part = rest.prefix(16)
            rest = rest.dropFirst(16)
            sendRTCP(part.map { .senderReport($0) } + [.sourceDescription(RTCPSourceDescription(source: first.ssrc, cname: Self.cname))],
                     on: viewer, send: send)
        }
    }

    /// The publisher's SR for one of its streams: remembered for LSR/DLSR and for the mapping.
    func senderReportReceived(_ sr: RTCPSenderReport, from t: WebRTCTransport, now: UInt64) {
        guard let track = tracksByTransport[t.id]?.first(where: { $0.ssrc == sr.ssrc }) else { return }
        track.receive.senderReport(ntpTimestamp: sr.ntpTimestamp, now: now)
        track.lastSenderReport = (sr.rtpTimestamp, now)
    }

    /// The publisher's RTP clock for `track` at `now`: from its last SR if it sent one, else from
    /// the newest packet (nil before any packet).
    func sourceTimestamp(of track: Track, at now: UInt64) -> UInt32? {
        guard let base = track.lastSenderReport.map({ ($0.rtpTimestamp, $0.at) }) ?? track.lastPacket.map({ ($0.timestamp, $0.at) }) else {
            return nil
        }
        let ticks = elapsed(now, since: base.1) * UInt64(track.clockRate) / 1_000_000_000
        return base.0 &+ UInt32(truncatingIfNeeded: ticks)
    }

    /// RFC 3550 §6.3.1: the interval is varied randomly over [0.5, 1.5] × the mean, so that
    /// reports from many streams do not synchronise into bursts.
    static func randomizedInterval() -> UInt64 {
        reportInterval / 2 + UInt64.random(in: 0..<reportInterval)
    }
}
