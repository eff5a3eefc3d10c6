// libFuzzer target "websocket-frame": see ProtocolFuzzing.webSocketFrame for the invariants it checks.
import ProtocolFuzzing

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    ProtocolFuzzing.webSocketFrame(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
