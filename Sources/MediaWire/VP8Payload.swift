/// VP8 RTP payload descriptor (RFC 7741 §4.2) and the VP8 payload header with keyframe
/// dimensions (RFC 7741 §4.3, RFC 6386 §9.1).
///
///            0 1 2 3 4 5 6 7
///           +-+-+-+-+-+-+-+-+
///           |X|R|N|S|R| PID | (REQUIRED)
///           +-+-+-+-+-+-+-+-+
///      X:   |I|L|T|K| RSV   | (OPTIONAL)
///           +-+-+-+-+-+-+-+-+
///      I:   |M| PictureID   | (OPTIONAL)
///           +-+-+-+-+-+-+-+-+
///           |   PictureID   | (second byte when M = 1)
///           +-+-+-+-+-+-+-+-+
///      L:   |   TL0PICIDX   | (OPTIONAL)
///           +-+-+-+-+-+-+-+-+
///      T/K: |TID|Y| KEYIDX  | (OPTIONAL)
///           +-+-+-+-+-+-+-+-+
///
/// Errors: `.truncated` (descriptor longer than the payload), `.invalidField` (empty VP8 data).
public struct VP8PayloadDescriptor: Equatable, Sendable {
    /// The X bit: an extension byte follows even if it announces no optional field.
    public var extended: Bool = false
    public var nonReference: Bool = false
    public var startOfPartition: Bool = false
    public var partitionIndex: UInt8 = 0
    /// 7-bit or 15-bit picture ID (`pictureIDIsLong` says which form is on the wire).
    public var pictureID: UInt16?
    public var pictureIDIsLong: Bool = false
    public var tl0PictureIndex: UInt8?
    /// Temporal layer index (TID) when the T bit is set.
    public var temporalLayer: UInt8?
    public var layerSync: Bool = false
    public var keyIndex: UInt8?

    public init() {}

    /// Descriptor length in bytes (where the VP8 data begins in the RTP payload).
    public var serializedSize: Int {
        guard hasExtensionByte else { return 1 }
        var n = 2
        if pictureID != nil { n += pictureIDIsLong ? 2 : 1 }
        if tl0PictureIndex != nil { n += 1 }
        if temporalLayer != nil || keyIndex != nil { n += 1 }
        return n
    }

    var hasExtensionByte: Bool {
        extended || pictureID != nil || tl0PictureIndex != nil || temporalLayer != nil || keyIndex != nil
    }

    /// True at the first packet of a frame (RFC 7741 §4.2: S = 1 and PID = 0).
    public var isStartOfFrame: Bool { startOfPartition && partitionIndex == 0 }

    public static func parse(_ payload: UnsafeRawBufferPointer) throws(WireError) -> VP8PayloadDescriptor {
        var r = ByteReader(payload, format: .vp8)
        var d = VP8PayloadDescriptor()
        let b0 = try r.u8()
        d.nonReference = b0 & 0x20 != 0
        d.startOfPartition = b0 & 0x10 != 0
        d.partitionIndex = b0 & 0x0F
        if b0 & 0x80 != 0 {
            d.extended = true
            let x = try r.u8()
            if x & 0x80 != 0 {
                let p = try r.u8()
                if p & 0x80 != 0 {
                    d.pictureIDIsLong = true
                    d.pictureID = UInt16(p & 0x7F) << 8 | UInt16(try r.u8())
                } else {
                    d.pictureID = UInt16(p)
                }
            }
            if x & 0x40 != 0 { d.tl0PictureIndex = try r.u8() }
            if x & 0x30 != 0 {
                let tk = try r.u8()
                if x & 0x20 != 0 {
                    d.temporalLayer = tk >> 6
                    d.layerSync = tk & 0x20 != 0
                }
                if x & 0x10 != 0 { d.keyIndex = tk & 0x1F }
            }
        }
        guard !r.isAtEnd else { throw WireError(.vp8, .invalidField("no VP8 data after the descriptor"), at: r.absoluteOffset) }
        return d
    }

    public func write(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var w = ByteWriter(buffer)
        let size = serializedSize
        w.u8((size > 1 ? 0x80 : 0) | (nonReference ? 0x20 : 0) | (startOfPartition ? 0x10 : 0) | (partitionIndex & 0x0F))
        if size > 1 {
            let hasTK = temporalLayer != nil || keyIndex != nil
            w.u8((pictureID != nil ? 0x80 : 0) | (tl0PictureIndex != nil ? 0x40 : 0)
                 | (temporalLayer != nil ? 0x20 : 0) | (keyIndex != nil ? 0x10 : 0))
            if let pid = pictureID {
                if pictureIDIsLong { w.u16(0x8000 | (pid & 0x7FFF)) } else { w.u8(UInt8(pid & 0x7F)) }
            }
            if let t = tl0PictureIndex { w.u8(t) }
            if hasTK { w.u8((temporalLayer ?? 0) << 6 | (layerSync ? 0x20 : 0) | ((keyIndex ?? 0) & 0x1F)) }
        }
        return w.position
    }

    public func serialized() -> [UInt8] { serializeToArray(size: serializedSize) { write(into: $0) } }

    /// Rewrites picture ID and TL0PICIDX in place, keeping the wire form (an SFU switching sources
    /// keeps them continuous). Fields absent from the descriptor are left alone.
    public static func rewrite(pictureID: UInt16, tl0PictureIndex: UInt8, in payload: UnsafeMutableRawBufferPointer) throws(WireError) {
        let d = try parse(UnsafeRawBufferPointer(payload))
        var offset = 2
        if d.pictureID != nil {
            if d.pictureIDIsLong { payload.writeU16(0x8000 | (pictureID & 0x7FFF), at: offset); offset += 2 }
            else { payload[offset] = UInt8(pictureID & 0x7F); offset += 1 }
        }
        if d.tl0PictureIndex != nil { payload[offset] = tl0PictureIndex }
    }
}

/// The VP8 frame tag and, for keyframes, the frame dimensions (RFC 6386 §9.1; RFC 7741 §4.3):
///
///      0 1 2 3 4 5 6 7
///     +-+-+-+-+-+-+-+-+
///     |Size0|H| VER |P|      P = 0: keyframe (inverse key frame flag); H = show_frame
///     +-+-+-+-+-+-+-+-+
///     |     Size1     |
///     +-+-+-+-+-+-+-+-+
///     |     Size2     |
///     +-+-+-+-+-+-+-+-+
///     | 0x9d 0x01 0x2a |  start code, then width and height (14 bits + 2 scale bits, little-endian)
public struct VP8FrameHeader: Equatable, Sendable {
    public var isKeyFrame: Bool
    public var version: UInt8
    public var showFrame: Bool
    public var firstPartitionSize: UInt32
    /// Keyframes only; 0 otherwise.
    public var width: UInt16 = 0
    public var height: UInt16 = 0
    public var horizontalScale: UInt8 = 0
    public var verticalScale: UInt8 = 0

    /// Parses the frame header at the start of VP8 data (the first packet of a frame, after the
    /// payload descriptor). Errors: `.truncated`, `.invalidField` (bad keyframe start code).
    public static func parse(_ data: UnsafeRawBufferPointer, baseOffset: Int = 0) throws(WireError) -> VP8FrameHeader {
        var r = ByteReader(data, format: .vp8, baseOffset: baseOffset)
        let tag = try r.u24()
        let b0 = UInt8(tag >> 16), b1 = UInt8((tag >> 8) & 0xFF), b2 = UInt8(tag & 0xFF)
        var h = VP8FrameHeader(isKeyFrame: b0 & 0x01 == 0, version: (b0 >> 1) & 0x07, showFrame: b0 & 0x10 != 0,
                               firstPartitionSize: UInt32(b0 >> 5) | UInt32(b1) << 3 | UInt32(b2) << 11)
        if h.isKeyFrame {
            let startCodeOffset = r.absoluteOffset
            guard try r.u24() == 0x9D012A else {
                throw WireError(.vp8, .invalidField("keyframe start code is not 9d 01 2a"), at: startCodeOffset)
            }
            let w = try r.u16(), hgt = try r.u16()
            let width = w.byteSwapped, height = hgt.byteSwapped  // little-endian on the wire
            h.width = width & 0x3FFF
            h.horizontalScale = UInt8(width >> 14)
            h.height = height & 0x3FFF
            h.verticalScale = UInt8(height >> 14)
        }
        return h
    }
}

extension VP8PayloadDescriptor {
    /// Whether the RTP payload starts a keyframe: S = 1, PID = 0 and the P bit clear.
    public static func isKeyFrameStart(_ payload: UnsafeRawBufferPointer) -> Bool {
        guard let d = try? parse(payload), d.isStartOfFrame else { return false }
        return payload[d.serializedSize] & 0x01 == 0
    }
}
