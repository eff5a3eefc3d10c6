// libFuzzer target "rtsp-messages": see IngestFuzzing.rtspMessages for the invariants it checks.
import IngestFuzzing

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    IngestFuzzing.rtspMessages(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
