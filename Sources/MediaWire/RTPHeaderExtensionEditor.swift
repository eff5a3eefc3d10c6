/// Edits RFC 8285 header extensions of a packet in its own buffer: rewrite a value in place, add
/// or replace an element, remove one. Adding and removing rebuild the block and move the payload
/// with one `memmove`; nothing is allocated on the heap (the new block is built on the stack).
///
/// `packet` is the whole buffer (its count is the capacity); the packet occupies `0..<length`.
public enum RTPHeaderExtensionEditor {
    /// Overwrites the value of the first element `id` when `value` has the same length.
    /// Returns false when there is no such element or the length differs (use `set`).
    @inline(__always)
    public static func rewrite(_ id: UInt8, value: UnsafeRawBufferPointer, in packet: UnsafeMutableRawBufferPointer,
                               header: RTPHeader) throws(WireError) -> Bool {
        guard let range = try RTPHeaderExtensionBlock.find(id, in: UnsafeRawBufferPointer(packet), header: header),
              range.count == value.count else { return false }
        // Short values (the common 1–3 byte cases) are copied inline, longer ones with memmove.
        if value.count <= 4 {
            for k in 0..<value.count { packet[range.lowerBound + k] = value[k] }
        } else if let base = value.baseAddress {
            (packet.baseAddress! + range.lowerBound).copyMemory(from: base, byteCount: value.count)
        }
        return true
    }

    /// Adds element `id` with `value`, replacing any elements with that ID. Returns the new length.
    public static func set(_ id: UInt8, value: UnsafeRawBufferPointer, in packet: UnsafeMutableRawBufferPointer,
                           length: Int) throws(WireError) -> Int {
        guard id >= 1 else { throw WireError(.rtpHeaderExtension, .invalidField("extension ID 0 is padding"), at: 0) }
        guard value.count <= 255 else { throw WireError(.rtpHeaderExtension, .invalidField("value longer than 255 bytes"), at: 0) }
        return try rebuild(packet: packet, length: length, dropping: id, adding: value)
    }

    /// Removes every element with `id`; removes the whole block when none remain. Returns the new length.
    public static func remove(_ id: UInt8, in packet: UnsafeMutableRawBufferPointer, length: Int) throws(WireError) -> Int {
        try rebuild(packet: packet, length: length, dropping: id, adding: nil)
    }

    private static func rebuild(packet: UnsafeMutableRawBufferPointer, length: Int, dropping id: UInt8,
                                adding value: UnsafeRawBufferPointer?) throws(WireError) -> Int {
        precondition(length <= packet.count)
        let view = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(packet)[0..<length])
        let header = try RTPHeader.parse(view)
        var oldForm: RTPHeaderExtensionForm? = nil
        if let profile = header.extensionProfile {
            guard let form = RTPHeaderExtensionForm(profile: profile) else {
                throw WireError(.rtpHeaderExtension, .invalidField("extension profile is not RFC 8285"), at: header.extensionHeaderOffset)
            }
            oldForm = form
        }
        // Pass 1: validate and measure what is kept.
        var keptCount = 0, keptValueBytes = 0, allFitOneByte = true
        try RTPHeaderExtensionBlock.forEach(in: view, header: header) { elementID, range in
            guard elementID != id else { return }
            keptCount += 1
            keptValueBytes += range.count
            if !RTPHeaderExtensionForm.oneByte.canEncode(id: elementID, length: range.count) { allFitOneByte = false }
        }
        if let value {
            keptCount += 1
            keptValueBytes += value.count
            if !RTPHeaderExtensionForm.oneByte.canEncode(id: id, length: value.count) { allFitOneByte = false }
        }
        let form: RTPHeaderExtensionForm
        if case .twoByte = oldForm { form = oldForm! } else { form = allFitOneByte ? .oneByte : .twoByte(appBits: 0) }
        let dataSize = keptValueBytes + keptCount * form.elementHeaderSize
        let blockSize = keptCount == 0 ? 0 : 4 + (dataSize + 3) & ~3
        let blockStart = header.extensionHeaderOffset
        let tail = length - header.payloadOffset
        let newLength = blockStart + blockSize + tail
        guard newLength <= packet.count else {
            throw WireError(.rtpHeaderExtension, .truncated(needed: newLength, available: packet.count), at: blockStart)
        }
        // Pass 2: build the new block on the stack, then move the payload and copy the block in.
        withUnsafeTemporaryAllocation(byteCount: max(blockSize, 1), alignment: 4) { scratch in
            var w = ByteWriter(UnsafeMutableRawBufferPointer(rebasing: scratch[0..<blockSize]))
            if blockSize > 0 {
                w.u16(form.profile)
                w.u16(UInt16((blockSize - 4) / 4))
                // forEach cannot fail here: pass 1 validated the same bytes.
                try? RTPHeaderExtensionBlock.forEach(in: view, header: header) { elementID, range in
                    guard elementID != id else { return }
                    writeElement(&w, form: form, id: elementID,
                                 value: UnsafeRawBufferPointer(rebasing: view[range]))
                }
                if let value { writeElement(&w, form: form, id: id, value: value) }
                w.zeros(blockSize - w.position)
            }
            let base = packet.baseAddress!
            if tail > 0 { (base + blockStart + blockSize).copyMemory(from: base + header.payloadOffset, byteCount: tail) }
            if blockSize > 0 { (base + blockStart).copyMemory(from: scratch.baseAddress!, byteCount: blockSize) }
        }
        packet[0] = blockSize > 0 ? packet[0] | 0x10 : packet[0] & ~0x10
        return newLength
    }

    @inline(__always)
    private static func writeElement(_ w: inout ByteWriter, form: RTPHeaderExtensionForm, id: UInt8,
                                     value: UnsafeRawBufferPointer) {
        if form == .oneByte { w.u8(id << 4 | UInt8(value.count - 1)) } else { w.u8(id); w.u8(UInt8(value.count)) }
        w.bytes(value)
    }
}
