// libFuzzer target "rtp": see WireFuzzing.rtp for the invariants it checks.
import WireFuzzing

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    WireFuzzing.rtp(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
