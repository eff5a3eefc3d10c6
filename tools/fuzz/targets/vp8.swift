// libFuzzer target "vp8": see WireFuzzing.vp8 for the invariants it checks.
import WireFuzzing

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    WireFuzzing.vp8(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
