// libFuzzer target "rtcp": see WireFuzzing.rtcp for the invariants it checks.
import WireFuzzing

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    WireFuzzing.rtcp(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
