import MediaWire

/// How the control plane reaches the thread that owns a `MediaRouter`: it hands over closures,
/// run there in order. `MediaIO.MediaLoop` is the real one; tests run them inline on a router
/// of their own, with no socket.
public protocol MediaThread: AnyObject, Sendable {
    func perform(_ command: @escaping @Sendable (MediaRouter) -> Void)
}

/// What the media thread does with each datagram of a socket beside the WebRTC port (a
/// plain-RTP ingress): hand it to the router (`MediaRouter.ingest`), answer through `send`
/// (which leaves from that socket), or drop it.
public typealias DatagramHandler = @Sendable (_ router: MediaRouter, _ datagram: UnsafeRawBufferPointer, _ from: TransportAddress, _ now: UInt64,
                                              _ send: (UnsafeRawBufferPointer, TransportAddress) -> Void) -> Void
