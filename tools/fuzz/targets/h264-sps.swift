// libFuzzer target "h264-sps": see WireFuzzing.h264SPS for the invariants it checks.
import WireFuzzing

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    WireFuzzing.h264SPS(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
