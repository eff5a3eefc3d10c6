import Glibc
import MediaWire
import SocketAddress

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
        return SocketAddress.transportAddress(storage)
    }

    static func withSockaddr<R>(_ address: TransportAddress, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        SocketAddress.withSockaddr(address, body)
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
