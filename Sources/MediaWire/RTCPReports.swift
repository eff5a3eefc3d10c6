/// Sender and receiver reports (RFC 3550 §6.4.1, §6.4.2) and their report blocks.
///
///  SR: |V=2|P|    RC   |   PT=SR=200   |             length            |
///      |                         SSRC of sender                        |
///      |              NTP timestamp, most significant word             |
///      |             NTP timestamp, least significant word             |
///      |                         RTP timestamp                         |
///      |                     sender's packet count                     |
///      |                      sender's octet count                     |
///      |                 report block 1 ... RC (24 bytes each)          |
///      |                  profile-specific extensions                  |
///
///  RR: |V=2|P|    RC   |   PT=RR=201   |             length            |
///      |                     SSRC of packet sender                     |
///      |                 report block 1 ... RC                          |
public struct RTCPReportBlock: Equatable, Sendable {
    public static let size = 24

    public var ssrc: UInt32
    /// Fraction lost since the previous report, in 1/256 (§6.4.1).
    public var fractionLost: UInt8
    /// Cumulative number of packets lost: 24-bit signed (may be negative with duplicates).
    public var cumulativeLost: Int32
    public var extendedHighestSequence: UInt32
    public var jitter: UInt32
    /// Middle 32 bits of the NTP timestamp of the last SR received (LSR).
    public var lastSenderReport: UInt32
    /// Delay since that SR, in 1/65536 s (DLSR).
    public var delaySinceLastSenderReport: UInt32

    public init(ssrc: UInt32, fractionLost: UInt8 = 0, cumulativeLost: Int32 = 0, extendedHighestSequence: UInt32 = 0,
                jitter: UInt32 = 0, lastSenderReport: UInt32 = 0, delaySinceLastSenderReport: UInt32 = 0) {
        self.ssrc = ssrc
        self.fractionLost = fractionLost
        self.cumulativeLost = cumulativeLost
        self.extendedHighestSequence = extendedHighestSequence
        self.jitter = jitter
        self.lastSenderReport = lastSenderReport
        self.delaySinceLastSenderReport = delaySinceLastSenderReport
    }

    static func parse(_ r: inout ByteReader) throws(WireError) -> RTCPReportBlock {
        let ssrc = try r.u32()
        let lost = try r.u32()
        let raw24 = lost & 0x00FF_FFFF
        // Sign-extend the 24-bit cumulative loss.
        let cumulative = Int32(bitPattern: raw24 << 8) >> 8
        return RTCPReportBlock(ssrc: ssrc, fractionLost: UInt8(lost >> 24), cumulativeLost: cumulative,
                               extendedHighestSequence: try r.u32(), jitter: try r.u32(),
                               lastSenderReport: try r.u32(), delaySinceLastSenderReport: try r.u32())
    }

    func write(_ w: inout ByteWriter) {
        w.u32(ssrc)
        w.u32(UInt32(fractionLost) << 24 | (UInt32(bitPattern: cumulativeLost) & 0x00FF_FFFF))
        w.u32(extendedHighestSequence)
        w.u32(jitter)
        w.u32(lastSenderReport)
        w.u32(delaySinceLastSenderReport)
    }
}

public struct RTCPSenderReport: RTCPBody {
    public static let packetType = RTCPPacketType.senderReport
    public var ssrc: UInt32
    /// 64-bit NTP timestamp (RFC 5905 format: seconds since 1900 << 32 | fraction).
    public var ntpTimestamp: UInt64
    public var rtpTimestamp: UInt32
    public var packetCount: UInt32
    public var octetCount: UInt32
    public var reports: [RTCPReportBlock]
    /// Profile-specific extension bytes after the report blocks, kept opaque (multiple of 4).
    public var profileExtension: [UInt8]

    public init(ssrc: UInt32, ntpTimestamp: UInt64, rtpTimestamp: UInt32, packetCount: UInt32, octetCount: UInt32,
                reports: [RTCPReportBlock] = [], profileExtension: [UInt8] = []) {
        self.ssrc = ssrc
        self.ntpTimestamp = ntpTimestamp
        self.rtpTimestamp = rtpTimestamp
        self.packetCount = packetCount
        self.octetCount = octetCount
        self.reports = reports
        self.profileExtension = profileExtension
    }

    public var countField: UInt8 { UInt8(reports.count) }
    public var bodySize: Int { 24 + reports.count * RTCPReportBlock.size + profileExtension.count }

    public func writeBody(_ w: inout ByteWriter) {
        w.u32(ssrc)
        w.u64(ntpTimestamp)
        w.u32(rtpTimestamp)
        w.u32(packetCount)
        w.u32(octetCount)
        for b in reports { b.write(&w) }
        w.bytes(profileExtension)
    }

    public static func parseBody(_ r: inout ByteReader, count: UInt8) throws(WireError) -> RTCPSenderReport {
        let ssrc = try r.u32()
        let ntp = try r.u64()
        let rtp = try r.u32()
        let packets = try r.u32()
        let octets = try r.u32()
        try r.require(Int(count) * RTCPReportBlock.size)
        var reports: [RTCPReportBlock] = []
        reports.reserveCapacity(Int(count))
        for _ in 0..<count { reports.append(try RTCPReportBlock.parse(&r)) }
        return RTCPSenderReport(ssrc: ssrc, ntpTimestamp: ntp, rtpTimestamp: rtp, packetCount: packets,
                                octetCount: octets, reports: reports, profileExtension: try r.copyBytes(r.remaining))
    }
}

public struct RTCPReceiverReport: RTCPBody {
    public static let packetType = RTCPPacketType.receiverReport
    public var ssrc: UInt32
    public var reports: [RTCPReportBlock]
    public var profileExtension: [UInt8]

    public init(ssrc: UInt32, reports: [RTCPReportBlock] = [], profileExtension: [UInt8] = []) {
        self.ssrc = ssrc
        self.reports = reports
        self.profileExtension = profileExtension
    }

    public var countField: UInt8 { UInt8(reports.count) }
    public var bodySize: Int { 4 + reports.count * RTCPReportBlock.size + profileExtension.count }

    public func writeBody(_ w: inout ByteWriter) {
        w.u32(ssrc)
        for b in reports { b.write(&w) }
        w.bytes(profileExtension)
    }

    public static func parseBody(_ r: inout ByteReader, count: UInt8) throws(WireError) -> RTCPReceiverReport {
        let ssrc = try r.u32()
        try r.require(Int(count) * RTCPReportBlock.size)
        var reports: [RTCPReportBlock] = []
        reports.reserveCapacity(Int(count))
        for _ in 0..<count { reports.append(try RTCPReportBlock.parse(&r)) }
        return RTCPReceiverReport(ssrc: ssrc, reports: reports, profileExtension: try r.copyBytes(r.remaining))
    }
}
