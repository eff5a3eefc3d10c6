/// A viewer's subscriptions, in the order they were made. Nearly every viewer receives one or
/// two streams (a publisher's audio and video), so the first two are kept inline: an array for
/// them was a heap chunk of its own per viewer (64 bytes, massif). More (a meeting participant
/// receiving everyone) go to an array after them.
struct SubscriptionList: Sequence {
    private var first: MediaRouter.Subscription? = nil
    private var second: MediaRouter.Subscription? = nil
    private var rest: [MediaRouter.Subscription] = []

    var isEmpty: Bool { first == nil }
    var count: Int { first == nil ? 0 : second == nil ? 1 : 2 + rest.count }

    mutating func append(_ s: MediaRouter.Subscription) {
        if first == nil { first = s } else if second == nil { second = s } else { rest.append(s) }
    }

    /// Keeps the others in order.
    mutating func removeAll(where shouldRemove: (MediaRouter.Subscription) -> Bool) {
        guard contains(where: shouldRemove) else { return }
        let kept = filter { !shouldRemove($0) }
        self = SubscriptionList()
        for s in kept { append(s) }
    }

    func makeIterator() -> Iterator { Iterator(list: self) }

    /// Walks the inline two, then the rest; allocates nothing.
    struct Iterator: IteratorProtocol {
        let list: SubscriptionList
        var position = 0

        mutating func next() -> MediaRouter.Subscription? {
            defer { position += 1 }
            switch position {
            case 0: return list.first
            case 1: return list.second
            default: return position - 2 < list.rest.count ? list.rest[position - 2] : nil
            }
        }
    }
}
