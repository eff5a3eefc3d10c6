/// A participant as the media graph knows it: its room and its identity, kept apart. Keyed by
/// the pair, never by a joined string, so that no name can reach into another room (room `a/b`
/// with identity `c` and room `a` with identity `b/c` are different participants).
public struct ParticipantKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var room: String
    public var identity: String

    public init(room: String, identity: String) {
        self.room = room
        self.identity = identity
    }

    public static func < (a: ParticipantKey, b: ParticipantKey) -> Bool {
        a.room != b.room ? a.room < b.room : a.identity < b.identity
    }

    public var description: String { "\(identity) in room \(room)" }
}
