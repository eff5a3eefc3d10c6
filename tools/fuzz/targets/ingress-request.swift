// libFuzzer target "ingress-request": see IngestFuzzing.ingressRequest for the invariants it checks.
import IngestFuzzing

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    IngestFuzzing.ingressRequest(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
