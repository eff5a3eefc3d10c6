/// What a browser's decoder needs to know of an H.264 stream, read from its sequence parameter
/// set (ITU-T H.264 §7.3.2.1.1, with the VUI of Annex E.1.1): profile, chroma format, bit depth,
/// frame or field coding, picture size and, when the VUI says, whether pictures are reordered
/// (B-frames). Parsed from the NAL unit (its header first), emulation prevention bytes removed.
///
/// Errors: `.truncated` (the bits end inside a field), `.invalidField` (not an SPS, a value out
/// of its range), `.tooMany` (a unit longer than any real SPS).
public struct H264SequenceParameterSet: Equatable, Sendable {
    public var profileIDC: UInt8
    public var levelIDC: UInt8
    /// 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4 (1 when the profile does not say).
    public var chromaFormatIDC: Int
    public var bitDepthLuma: Int
    public var bitDepthChroma: Int
    /// False: fields (interlaced) may be coded.
    public var frameMBsOnly: Bool
    public var width: Int
    public var height: Int
    /// From the VUI's bitstream restriction, if present: frames a decoder must hold back for
    /// reordering (0: no B-frames reorder the output).
    public var maxNumReorderFrames: Int?

    static let maximumBytes = 4096

    /// Why a WebRTC viewer (a browser's decoder: 8-bit 4:2:0 progressive, no reordering) cannot
    /// show this stream; nil when it can.
    public var browserIncompatibility: String? {
        if !frameMBsOnly { return "interlaced video (frame_mbs_only_flag 0)" }
        if chromaFormatIDC != 1 { return "chroma format \(["4:0:0 (monochrome)", "4:2:0", "4:2:2", "4:4:4"][chromaFormatIDC]) (browsers decode 4:2:0)" }
        if bitDepthLuma != 8 || bitDepthChroma != 8 { return "\(max(bitDepthLuma, bitDepthChroma))-bit samples (browsers decode 8-bit)" }
        if let r = maxNumReorderFrames, r > 0 { return "B-frames (the SPS reorders up to \(r) frames; WebRTC decoders play in order)" }
        return nil
    }

    public static func parse(_ nal: UnsafeRawBufferPointer) throws(WireError) -> H264SequenceParameterSet {
        guard nal.count <= maximumBytes else { throw WireError(.h264, .tooMany("SPS bytes", limit: maximumBytes), at: 0) }
        guard let header = nal.first else { throw WireError(.h264, .truncated(needed: 1, available: 0), at: 0) }
        guard header & 0x1F == H264Payload.NALType.sequenceParameterSet else {
            throw WireError(.h264, .invalidField("NAL unit of type \(header & 0x1F) is not an SPS"), at: 0)
        }
        // §7.4.1: 0x000003 escapes a start-code-like run; the 03 is not part of the RBSP.
        var rbsp: [UInt8] = []
        rbsp.reserveCapacity(nal.count)
        var zeros = 0
        for byte in nal.dropFirst() {
            if zeros >= 2 && byte == 3 { zeros = 0; continue }
            zeros = byte == 0 ? zeros + 1 : 0
            rbsp.append(byte)
        }
        var b = BitReader(rbsp)
        let profile = UInt8(try b.bits(8))
        _ = try b.bits(8)  // constraint_set flags
        let level = UInt8(try b.bits(8))
        _ = try b.ue(max: 31)  // seq_parameter_set_id
        var chroma = 1, depthLuma = 8, depthChroma = 8
        if [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].contains(profile) {
            chroma = try b.ue(max: 3)
            if chroma == 3 { _ = try b.bits(1) }  // separate_colour_plane_flag
            depthLuma = 8 + (try b.ue(max: 6))
            depthChroma = 8 + (try b.ue(max: 6))
            _ = try b.bits(1)  // qpprime_y_zero_transform_bypass_flag
            if try b.bits(1) == 1 {  // seq_scaling_matrix_present_flag
                for i in 0..<(chroma == 3 ? 12 : 8) where try b.bits(1) == 1 {
                    var last = 8, next = 8
                    for _ in 0..<(i < 6 ? 16 : 64) where next != 0 {
                        next = (last + (try b.se(limit: 128)) + 256) % 256
                        last = next == 0 ? last : next
                    }
                }
            }
        }
        _ = try b.ue(max: 12)  // log2_max_frame_num_minus4
        let pocType = try b.ue(max: 2)
        if pocType == 0 {
            _ = try b.ue(max: 12)
        } else if pocType == 1 {
            _ = try b.bits(1)
            _ = try b.se(limit: 1 << 31)
            _ = try b.se(limit: 1 << 31)
            let cycle = try b.ue(max: 255)
            for _ in 0..<cycle { _ = try b.se(limit: 1 << 31) }
        }
        _ = try b.ue(max: 32)  // max_num_ref_frames
        _ = try b.bits(1)  // gaps_in_frame_num_value_allowed_flag
        let widthMBs = try b.ue(max: 1023) + 1
        let heightUnits = try b.ue(max: 1023) + 1
        let frameMBsOnly = try b.bits(1) == 1
        if !frameMBsOnly { _ = try b.bits(1) }  // mb_adaptive_frame_field_flag
        _ = try b.bits(1)  // direct_8x8_inference_flag
        var crop = (left: 0, right: 0, top: 0, bottom: 0)
        if try b.bits(1) == 1 {
            crop = (try b.ue(max: 8192), try b.ue(max: 8192), try b.ue(max: 8192), try b.ue(max: 8192))
        }
        // §7.4.2.1.1: crop units by chroma format and field coding.
        let cropX = chroma == 1 || chroma == 2 ? 2 : 1
        let cropY = (chroma == 1 ? 2 : 1) * (frameMBsOnly ? 1 : 2)
        let width = widthMBs * 16 - cropX * (crop.left + crop.right)
        let height = heightUnits * 16 * (frameMBsOnly ? 1 : 2) - cropY * (crop.top + crop.bottom)
        guard width > 0, height > 0 else { throw WireError(.h264, .invalidField("SPS cropping leaves no picture"), at: 0) }
        var reorder: Int? = nil
        if try b.bits(1) == 1 { reorder = try vuiReorderFrames(&b) }
        return H264SequenceParameterSet(profileIDC: profile, levelIDC: level, chromaFormatIDC: chroma, bitDepthLuma: depthLuma,
                                        bitDepthChroma: depthChroma, frameMBsOnly: frameMBsOnly, width: width, height: height,
                                        maxNumReorderFrames: reorder)
    }

    /// Annex E.1.1 up to `max_num_reorder_frames`; nil without a bitstream restriction.
    static func vuiReorderFrames(_ b: inout BitReader) throws(WireError) -> Int? {
        if try b.bits(1) == 1 { if try b.bits(8) == 255 { _ = try b.bits(16); _ = try b.bits(16) } }  // aspect ratio
        if try b.bits(1) == 1 { _ = try b.bits(1) }  // overscan
        if try b.bits(1) == 1 {  // video signal type
            _ = try b.bits(4)
            if try b.bits(1) == 1 { _ = try b.bits(24) }
        }
        if try b.bits(1) == 1 { _ = try b.ue(max: 5); _ = try b.ue(max: 5) }  // chroma location
        if try b.bits(1) == 1 { _ = try b.bits(32); _ = try b.bits(32); _ = try b.bits(1) }  // timing
        let nal = try b.bits(1) == 1
        if nal { try hrd(&b) }
        let vcl = try b.bits(1) == 1
        if vcl { try hrd(&b) }
        if nal || vcl { _ = try b.bits(1) }  // low_delay_hrd_flag
        _ = try b.bits(1)  // pic_struct_present_flag
        guard try b.bits(1) == 1 else { return nil }
        _ = try b.bits(1)
        for _ in 0..<4 { _ = try b.ue(max: 16) }
        let reorder = try b.ue(max: 16)
        _ = try b.ue(max: 16)
        return reorder
    }

    static func hrd(_ b: inout BitReader) throws(WireError) {
        let count = try b.ue(max: 31) + 1
        _ = try b.bits(8)
        for _ in 0..<count { _ = try b.ue(max: 1 << 31); _ = try b.ue(max: 1 << 31); _ = try b.bits(1) }
        _ = try b.bits(20)
    }
}

/// Reads bits most significant first, and Exp-Golomb codes (H.264 §9.1), from an RBSP.
struct BitReader {
    let bytes: [UInt8]
    private(set) var position = 0  // in bits

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func bits(_ n: Int) throws(WireError) -> Int {
        guard position + n <= bytes.count * 8 else {
            throw WireError(.h264, .truncated(needed: (position + n + 7) / 8 + 1, available: bytes.count + 1), at: position / 8 + 1)
        }
        var v = 0
        for _ in 0..<n {
            v = v << 1 | Int(bytes[position >> 3] >> (7 - UInt8(position & 7)) & 1)
            position += 1
        }
        return v
    }

    /// ue(v), refused above `max` (no field of an SPS is larger; a longer prefix is hostile).
    mutating func ue(max: Int) throws(WireError) -> Int {
        var zeros = 0
        while try bits(1) == 0 {
            zeros += 1
            guard zeros <= 31 else { throw WireError(.h264, .invalidField("Exp-Golomb code longer than 32 bits"), at: position / 8 + 1) }
        }
        let value = (1 << zeros) - 1 + (try bits(zeros))
        guard value <= max else { throw WireError(.h264, .invalidField("SPS field value \(value) above \(max)"), at: position / 8 + 1) }
        return value
    }

    /// se(v) (§9.1.1), its magnitude at most `limit`.
    mutating func se(limit: Int) throws(WireError) -> Int {
        let k = try ue(max: 2 * limit)
        return k & 1 == 1 ? (k + 1) / 2 : -(k / 2)
    }
}
