/// A binary min-heap of (due time, slot): the sender's schedule of stream frames, so that a pass
/// costs O(log n) per frame due rather than a visit of every stream (rooms 1000×3: 6,000
/// streams at phases of their own made the visits the generator's limit).
struct DueQueue {
    private var items: [(due: UInt64, slot: Int)] = []

    var isEmpty: Bool { items.isEmpty }
    /// The earliest due time, nil when empty.
    var earliest: UInt64? { items.first?.due }

    mutating func push(_ due: UInt64, slot: Int) {
        items.append((due, slot))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].due < items[parent].due else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    /// Removes and returns the earliest entry.
    mutating func pop() -> (due: UInt64, slot: Int)? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count, items[l].due < items[m].due { m = l }
                if r < items.count, items[r].due < items[m].due { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
