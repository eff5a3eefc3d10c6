// libFuzzer target "media-datagram": see MediaFuzzing.datagram for what it checks.
import MediaFuzzing

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    MediaFuzzing.datagram(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
