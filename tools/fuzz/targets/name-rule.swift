// libFuzzer target "name-rule": see ProtocolFuzzing.nameRule for the invariants it checks.
import ProtocolFuzzing

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    ProtocolFuzzing.nameRule(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
