/// The UDP ports ingresses may take (`--ingress-ports`), lowest free first. Pure bookkeeping:
/// a port is taken when its socket is bound and given back when the ingress goes.
public struct IngressPortPool: Sendable {
    public let range: ClosedRange<UInt16>
    private var taken: Set<UInt16> = []

    public init(range: ClosedRange<UInt16>) { self.range = range }

    public var available: Int { range.count - taken.count }

    /// The lowest free port not in `skip` (ports another program holds), marked taken.
    public mutating func take(skipping skip: Set<UInt16> = []) -> UInt16? {
        guard let port = range.first(where: { !taken.contains($0) && !skip.contains($0) }) else { return nil }
        taken.insert(port)
        return port
    }

    public mutating func release(_ port: UInt16) { taken.remove(port) }

    /// `"40000-40099"` → the range; nil for anything else (reversed, zero, not numbers).
    public static func parseRange(_ text: String) -> ClosedRange<UInt16>? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let lo = UInt16(parts[0]), let hi = UInt16(parts[1]), lo > 0, lo <= hi else { return nil }
        return lo...hi
    }
}
