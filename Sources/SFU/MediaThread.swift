/// How the control plane reaches the thread that owns a `MediaRouter`: it hands over closures,
/// run there in order. `MediaIO.MediaLoop` is the real one; tests run them inline on a router
/// of their own, with no socket.
public protocol MediaThread: AnyObject, Sendable {
    func perform(_ command: @escaping @Sendable (MediaRouter) -> Void)
}
