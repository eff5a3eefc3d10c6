/// H.264 RTP payload (RFC 6184, packetization-mode 1): a single NAL unit, an aggregation of
/// several (STAP-A, §5.7.1) or one fragment of a NAL unit (FU-A, §5.8). Every form opens with a
/// NAL unit header (§1.3, §5.3):
///
///      +---------------+
///      |0|1|2|3|4|5|6|7|
///      +-+-+-+-+-+-+-+-+
///      |F|NRI|  Type   |      Type 1–23: a single NAL unit; 24: STAP-A; 28: FU-A
///      +---------------+
///
/// STAP-A: the header, then per NAL unit a 16-bit size and the unit. FU-A: the FU indicator (a
/// NAL header with type 28), then the FU header |S|E|R| Type | naming the fragmented unit's type.
/// Parsing is a zero-copy walk over the caller's buffer; nothing is allocated.
///
/// Errors: `.truncated` (a header or size past the end), `.badLength` (a STAP-A unit larger than
/// what is left), `.invalidField` (forbidden bit set, a type of packetization mode 2 or none,
/// an FU with both S and E, an empty aggregation or unit).
public struct H264Payload: Equatable, Sendable {
    /// NAL unit types this server looks at (ITU-T H.264 Table 7-1).
    public enum NALType {
        public static let nonIDRSlice: UInt8 = 1
        public static let idrSlice: UInt8 = 5
        public static let sei: UInt8 = 6
        public static let sequenceParameterSet: UInt8 = 7
        public static let pictureParameterSet: UInt8 = 8
        public static let accessUnitDelimiter: UInt8 = 9
        public static let stapA: UInt8 = 24
        public static let fuA: UInt8 = 28
    }

    public enum Packetization: Equatable, Sendable {
        /// One NAL unit of this type fills the payload (§5.6).
        case single(type: UInt8)
        /// Several NAL units (§5.7.1); `count` of them.
        case stapA(count: Int)
        /// A fragment of one NAL unit of `type` (§5.8): `start` is its first, `end` its last.
        case fuA(type: UInt8, start: Bool, end: Bool)
    }

    public var packetization: Packetization
    /// The NRI of the outer header (§5.3: 0 means no decoder needs it).
    public var nri: UInt8

    /// Parses and validates the payload.
    public static func parse(_ payload: UnsafeRawBufferPointer) throws(WireError) -> H264Payload {
        var r = ByteReader(payload, format: .h264)
        let header = try r.u8()
        guard header & 0x80 == 0 else { throw WireError(.h264, .invalidField("forbidden_zero_bit is set"), at: 0) }
        let nri = (header >> 5) & 0x03
        let type = header & 0x1F
        switch type {
        case 1...23:
            guard !r.isAtEnd || type == NALType.accessUnitDelimiter else {
                throw WireError(.h264, .invalidField("NAL unit of type \(type) has no body"), at: 1)
            }
            return H264Payload(packetization: .single(type: type), nri: nri)
        case NALType.stapA:
            var count = 0
            while !r.isAtEnd {
                let at = r.absoluteOffset
                let size = Int(try r.u16())
                guard size > 0 else { throw WireError(.h264, .invalidField("STAP-A unit of size 0"), at: at) }
                guard size <= r.remaining else { throw WireError(.h264, .badLength(declared: size, available: r.remaining), at: at) }
                let unitHeader = payload[r.position]
                guard unitHeader & 0x80 == 0 else { throw WireError(.h264, .invalidField("forbidden_zero_bit is set in an aggregated unit"), at: r.absoluteOffset) }
                guard (1...23).contains(unitHeader & 0x1F) else {
                    throw WireError(.h264, .invalidField("aggregated unit of type \(unitHeader & 0x1F)"), at: r.absoluteOffset)
                }
                try r.skip(size)
                count += 1
            }
            guard count > 0 else { throw WireError(.h264, .invalidField("STAP-A aggregates no NAL unit"), at: 1) }
            return H264Payload(packetization: .stapA(count: count), nri: nri)
        case NALType.fuA:
            let fu = try r.u8()
            let start = fu & 0x80 != 0, end = fu & 0x40 != 0
            guard !(start && end) else { throw WireError(.h264, .invalidField("FU-A header has both start and end set"), at: 1) }
            let inner = fu & 0x1F
            guard (1...23).contains(inner) else { throw WireError(.h264, .invalidField("FU-A fragments a unit of type \(inner)"), at: 1) }
            guard !r.isAtEnd else { throw WireError(.h264, .invalidField("FU-A carries no fragment"), at: 2) }
            return H264Payload(packetization: .fuA(type: inner, start: start, end: end), nri: nri)
        case 25, 26, 27, 29:
            throw WireError(.h264, .invalidField("type \(type) needs packetization-mode 2 (interleaved), which is not negotiated"), at: 0)
        default:
            throw WireError(.h264, .invalidField("NAL unit type \(type) is reserved"), at: 0)
        }
    }

    /// Calls `body` with the type of each NAL unit whose start this payload carries: the single
    /// unit, each aggregated unit, or a fragmented unit's type on its first fragment only.
    public static func forEachNALStart(in payload: UnsafeRawBufferPointer, _ body: (UInt8) -> Void) throws(WireError) {
        if case .fuA(let type, let start, _) = try parse(payload).packetization {
            if start { body(type) }
            return
        }
        try forEachWholeUnit(in: payload) { type, _ in body(type) }
    }

    /// Calls `body` with the type and byte range of each whole NAL unit in the payload: the
    /// single unit, or each aggregated one (a fragment of a unit is not one).
    public static func forEachWholeUnit(in payload: UnsafeRawBufferPointer, _ body: (UInt8, Range<Int>) -> Void) throws(WireError) {
        switch try parse(payload).packetization {
        case .single(let type): body(type, 0..<payload.count)
        case .fuA: return
        case .stapA:
            var offset = 1
            while offset + 2 < payload.count {  // sizes were checked by `parse`
                let size = Int(payload.readU16(offset))
                body(payload[offset + 2] & 0x1F, (offset + 2)..<(offset + 2 + size))
                offset += 2 + size
            }
        }
    }

    /// What starts in this payload that a decoder joining now needs (RFC 6184 §8.4, H.264 §7.4.1.2).
    public struct Starts: Equatable, Sendable {
        public var idr = false
        public var sequenceParameterSet = false
        public var pictureParameterSet = false
        public init(idr: Bool = false, sequenceParameterSet: Bool = false, pictureParameterSet: Bool = false) {
            self.idr = idr
            self.sequenceParameterSet = sequenceParameterSet
            self.pictureParameterSet = pictureParameterSet
        }
    }

    /// The IDR slices and parameter sets that start in this payload; nothing for a bad one.
    public static func starts(in payload: UnsafeRawBufferPointer) -> Starts {
        var s = Starts()
        do throws(WireError) {
            try forEachNALStart(in: payload) { type in
                switch type {
                case NALType.idrSlice: s.idr = true
                case NALType.sequenceParameterSet: s.sequenceParameterSet = true
                case NALType.pictureParameterSet: s.pictureParameterSet = true
                default: break
                }
            }
        } catch { return Starts() }
        return s
    }

    /// Whether the payload starts a keyframe: a packet from which a decoder can begin. Encoders
    /// send SPS and PPS ahead of each IDR (alone, or in one STAP-A with it), so the first of
    /// those is where a new viewer's stream starts; an IDR with no parameter sets starts one too.
    public static func isKeyFrameStart(_ payload: UnsafeRawBufferPointer) -> Bool {
        let s = starts(in: payload)
        return s.idr || s.sequenceParameterSet
    }
}
