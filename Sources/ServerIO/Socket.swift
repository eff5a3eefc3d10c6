import Glibc
import MediaWire

/// Thin POSIX socket helpers for the server loop (the only TCP socket code in Shihui).
enum Socket {
    /// A non-blocking listening TCP socket on `address` (IPv4 or IPv6). Returns fd or throws errno text.
    static func listen(on address: TransportAddress, backlog: Int32 = 1024) throws(SocketError) -> Int32 {
        let family = address.ip.isV4 ? AF_INET : AF_INET6
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket", errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let result = withSockaddr(address) { sa, len in bind(fd, sa, len) }
        guard result == 0 else {
            let e = errno
            close(fd)
            throw SocketError("bind \(address)", e)
        }
        guard Glibc.listen(fd, backlog) == 0 else {
            let e = errno
            close(fd)
            throw SocketError("listen", e)
        }
        return fd
    }

    /// The address a socket is bound to (to learn an ephemeral port).
    static func localAddress(_ fd: Int32) -> TransportAddress? {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let r = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        guard r == 0 else { return nil }
        return transportAddress(storage)
    }

    static func transportAddress(_ storage: sockaddr_storage) -> TransportAddress? {
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

    static func withSockaddr<R>(_ address: TransportAddress, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
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
}

public struct SocketError: Error, CustomStringConvertible {
    public let operation: String
    public let code: Int32
    init(_ operation: String, _ code: Int32) {
        self.operation = operation
        self.code = code
    }
    public var description: String { "\(operation): \(String(cString: strerror(code)))" }
}
