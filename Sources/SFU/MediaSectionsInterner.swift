/// One shared copy of each distinct list of negotiated sections (a flyweight): the viewers of a
/// briefing negotiate the same sections, and each kept its own array, strings and extension
/// maps (~420 bytes per viewer, massif). Arrays are copy-on-write, so handing out the stored
/// copy shares its storage. Bounded: past `limit` distinct lists it starts over (lists already
/// handed out stay valid; they just stop being shared with later ones).
struct MediaSectionsInterner {
    static let limit = 256
    private var lists: Set<[MediaSection]> = []

    var count: Int { lists.count }

    mutating func shared(_ media: [MediaSection]) -> [MediaSection] {
        if let i = lists.firstIndex(of: media) { return lists[i] }
        if lists.count >= Self.limit { lists.removeAll() }
        lists.insert(media)
        return media
    }
}
