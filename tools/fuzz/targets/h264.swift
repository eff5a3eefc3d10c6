// libFuzzer target "h264": see WireFuzzing.h264 for the invariants it checks.
import WireFuzzing

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    WireFuzzing.h264(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
