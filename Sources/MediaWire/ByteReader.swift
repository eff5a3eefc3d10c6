/// A bounds-checked big-endian cursor over a borrowed buffer: every read checks the remaining
/// length first and throws `WireError.truncated` with the absolute offset, so parsers built on it
/// cannot read out of bounds. Reads use `loadUnaligned`, never per-element array indexing.
public struct ByteReader {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var position: Int
    /// Added to `position` in errors, so nested readers report offsets in the outer packet.
    public let baseOffset: Int
    public let format: WireError.Format

    public init(_ bytes: UnsafeRawBufferPointer, format: WireError.Format, baseOffset: Int = 0) {
        self.bytes = bytes
        self.position = 0
        self.baseOffset = baseOffset
        self.format = format
    }

    public var remaining: Int { bytes.count - position }
    public var isAtEnd: Bool { position >= bytes.count }
    /// Absolute offset of the cursor (for error reports).
    public var absoluteOffset: Int { baseOffset + position }

    @inline(__always)
    public func require(_ count: Int) throws(WireError) {
        if count < 0 || remaining < count {
            throw WireError(format, .truncated(needed: count, available: remaining), at: absoluteOffset)
        }
    }

    @inline(__always)
    public mutating func u8() throws(WireError) -> UInt8 {
        try require(1)
        defer { position += 1 }
        return bytes[position]
    }

    @inline(__always)
    public mutating func u16() throws(WireError) -> UInt16 {
        try require(2)
        defer { position += 2 }
        return bytes.readU16(position)
    }

    @inline(__always)
    public mutating func u24() throws(WireError) -> UInt32 {
        try require(3)
        defer { position += 3 }
        return UInt32(bytes[position]) << 16 | UInt32(bytes[position + 1]) << 8 | UInt32(bytes[position + 2])
    }

    @inline(__always)
    public mutating func u32() throws(WireError) -> UInt32 {
        try require(4)
        defer { position += 4 }
        return bytes.readU32(position)
    }

    public mutating func u64() throws(WireError) -> UInt64 {
        try require(8)
        defer { position += 8 }
        return UInt64(bytes.readU32(position)) << 32 | UInt64(bytes.readU32(position + 4))
    }

    /// Returns the next `count` bytes as a slice of the borrowed buffer (no copy).
    public mutating func slice(_ count: Int) throws(WireError) -> UnsafeRawBufferPointer {
        try require(count)
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
    }

    /// Copies the next `count` bytes into a new array (an explicit, named copy).
    public mutating func copyBytes(_ count: Int) throws(WireError) -> [UInt8] {
        Array(try slice(count))
    }

    @inline(__always)
    public mutating func skip(_ count: Int) throws(WireError) {
        try require(count)
        position += count
    }
}

/// Sequential big-endian writer into a caller's buffer. Capacity is a programmer contract
/// (callers size the buffer with `serializedSize` first), so overflow traps instead of corrupting.
public struct ByteWriter {
    public let buffer: UnsafeMutableRawBufferPointer
    public private(set) var position: Int = 0

    public init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    @inline(__always)
    private func ensure(_ count: Int) {
        precondition(position + count <= buffer.count, "ByteWriter overflow: caller under-sized the buffer")
    }

    public mutating func u8(_ v: UInt8) { ensure(1); buffer[position] = v; position += 1 }
    public mutating func u16(_ v: UInt16) { ensure(2); buffer.writeU16(v, at: position); position += 2 }
    public mutating func u24(_ v: UInt32) {
        ensure(3)
        buffer[position] = UInt8(truncatingIfNeeded: v >> 16)
        buffer[position + 1] = UInt8(truncatingIfNeeded: v >> 8)
        buffer[position + 2] = UInt8(truncatingIfNeeded: v)
        position += 3
    }
    public mutating func u32(_ v: UInt32) { ensure(4); buffer.writeU32(v, at: position); position += 4 }
    public mutating func u64(_ v: UInt64) { u32(UInt32(truncatingIfNeeded: v >> 32)); u32(UInt32(truncatingIfNeeded: v)) }
    public mutating func bytes(_ source: UnsafeRawBufferPointer) {
        ensure(source.count)
        if let base = source.baseAddress, source.count > 0 {
            (buffer.baseAddress! + position).copyMemory(from: base, byteCount: source.count)
        }
        position += source.count
    }
    public mutating func bytes(_ source: [UInt8]) { source.withUnsafeBytes { bytes($0) } }
    /// Moves past `count` bytes that were filled through another view of the buffer.
    public mutating func advance(_ count: Int) { ensure(count); position += count }
    public mutating func zeros(_ count: Int) {
        ensure(count)
        for i in 0..<count { buffer[position + i] = 0 }
        position += count
    }
}

extension UnsafeRawBufferPointer {
    /// Big-endian 16-bit read at `offset`; the caller has checked bounds.
    @inline(__always)
    public func readU16(_ offset: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    /// Big-endian 32-bit read at `offset`; the caller has checked bounds.
    @inline(__always)
    public func readU32(_ offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    public func writeU16(_ value: UInt16, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }
    @inline(__always)
    public func writeU32(_ value: UInt32, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }
}

/// The serialising trio's convenience member: allocate exactly `size` bytes and let `write` fill them.
@inline(__always)
func serializeToArray(size: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
        let written = write(UnsafeMutableRawBufferPointer(buffer))
        precondition(written == size, "serializedSize and write disagree")
        initialized = written
    }
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` for parsers with typed throws (the standard one rethrows untyped errors).
    public func withWireBytes<R>(_ body: (UnsafeRawBufferPointer) throws(WireError) -> R) throws(WireError) -> R {
        let result: Result<R, WireError> = withUnsafeBytes { bytes in
            do throws(WireError) { return .success(try body(bytes)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
