import MediaWire

/// A short list of transport addresses whose first entry is stored inline: nearly every peer
/// connection uses one address for its life, and an array for it was a heap chunk per
/// transport, twice (the ICE agent's validated addresses and the router's routed ones, ~170
/// bytes per viewer with malloc's overhead, massif). Order is kept.
struct AddressList: Sequence {
    private var first: TransportAddress? = nil
    private var rest: [TransportAddress] = []

    var count: Int { (first == nil ? 0 : 1) + rest.count }
    var isEmpty: Bool { first == nil }

    func contains(_ address: TransportAddress) -> Bool { first == address || (!rest.isEmpty && rest.contains(address)) }

    mutating func append(_ address: TransportAddress) {
        if first == nil { first = address } else { rest.append(address) }
    }

    mutating func removeFirst() {
        first = rest.isEmpty ? nil : rest.removeFirst()
    }

    mutating func removeAll(where shouldRemove: (TransportAddress) -> Bool) {
        let kept = filter { !shouldRemove($0) }
        first = kept.first
        rest = Array(kept.dropFirst())
    }

    func makeIterator() -> some IteratorProtocol<TransportAddress> {
        var head = first
        var tail = rest.makeIterator()
        return AnyIterator {
            if let h = head { head = nil; return h }
            return tail.next()
        }
    }
}
