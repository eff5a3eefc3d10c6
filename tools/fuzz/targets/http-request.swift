// libFuzzer target "http-request": see ProtocolFuzzing.httpRequest for the invariants it checks.
import ProtocolFuzzing

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    ProtocolFuzzing.httpRequest(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
