import Glibc
import MediaWire

/// Conversions between `TransportAddress` and POSIX `sockaddr_in`/`sockaddr_in6`, shared by the
/// two I/O modules (ServerIO for TCP, MediaIO for UDP).
public enum SocketAddress {
    /// The address in a `sockaddr_storage` filled by the kernel (nil for other families).
    public static func transportAddress(_ storage: sockaddr_storage) -> TransportAddress? {
        var s = storage
        switch Int32(s.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &s) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p in
                TransportAddress(ip: .v4(UInt32(bigEndian: p.pointee.sin_addr.s_addr)), port: UInt16(bigEndian: p.pointee.sin_port))
            } }
        case AF_INET6:
            return withUnsafePointer(to: &s) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                let b = withUnsafeBytes(of: p.pointee.sin6_addr) { Array($0) }
                var hi: UInt64 = 0, lo: UInt64 = 0
                for i in 0..<8 { hi = hi << 8 | UInt64(b[i]) }
                for i in 8..<16 { lo = lo << 8 | UInt64(b[i]) }
                return TransportAddress(ip: .v6(hi, lo), port: UInt16(bigEndian: p.pointee.sin6_port))
            } }
        default:
            return nil
        }
    }

    /// Calls `body` with a `sockaddr` for `address` and its length.
    public static func withSockaddr<R>(_ address: TransportAddress, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        switch address.ip {
        case .v4(let a):
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = address.port.bigEndian
            sin.sin_addr.s_addr = a.bigEndian
            return withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        case .v6(let hi, let lo):
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = address.port.bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { b in
                for i in 0..<8 { b[i] = UInt8(truncatingIfNeeded: hi >> UInt64(56 - 8 * i)) }
                for i in 0..<8 { b[8 + i] = UInt8(truncatingIfNeeded: lo >> UInt64(56 - 8 * i)) }
            }
            return withUnsafePointer(to: &sin6) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        }
    }

    /// Writes `address` into a `sockaddr_storage` (for sendmmsg names).
    public static func store(_ address: TransportAddress, into storage: inout sockaddr_storage) {
        withUnsafeMutablePointer(to: &storage) { p in
            withSockaddr(address) { sa, len in UnsafeMutableRawPointer(p).copyMemory(from: sa, byteCount: Int(len)) }
        }
    }

    /// The length of the sockaddr held in `storage`.
    public static func length(_ storage: sockaddr_storage) -> socklen_t {
        socklen_t(Int32(storage.ss_family) == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
    }
}
