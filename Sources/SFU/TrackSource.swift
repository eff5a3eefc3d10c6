/// What a track shows or carries, as its participant labels it (LiveKit's track source): a
/// participant publishes at most one track per source, so a track is found by (participant,
/// source) across renegotiations and republishes.
public enum TrackSource: String, Sendable, Hashable, CaseIterable {
    case microphone, camera, screen
    case screenAudio = "screen_audio"

    public var kind: MediaKind {
        switch self {
        case .microphone, .screenAudio: .audio
        case .camera, .screen: .video
        }
    }

    /// The source a participant's first section of `kind` is, when nothing labels it.
    public static func primary(_ kind: MediaKind) -> TrackSource { kind == .audio ? .microphone : .camera }

    /// The sources of `kind` in the order unlabelled sections take them (camera, then screen).
    public static func inOrder(_ kind: MediaKind) -> [TrackSource] { kind == .audio ? [.microphone, .screenAudio] : [.camera, .screen] }

    /// The track id in a subscriber's `msid`: the primary sources keep `<identity>-audio` and
    /// `<identity>-video`, as before there were two of a kind.
    public var trackIDSuffix: String {
        switch self {
        case .microphone: "audio"
        case .camera: "video"
        case .screen, .screenAudio: rawValue
        }
    }

    /// Labels a publisher's sections (mid and kind, in offer order): a mid keeps the source it
    /// had (`kept`), then a hint of the right kind that is still free, then the next free
    /// source of its kind; a section left without one (a third video) is not published.
    public static func assign(_ sections: [(mid: String, kind: MediaKind)], kept: [String: TrackSource] = [:],
                              hints: [String: TrackSource] = [:]) -> [String: TrackSource] {
        var out: [String: TrackSource] = [:]
        var used: Set<TrackSource> = []
        for s in sections {
            if let k = kept[s.mid], k.kind == s.kind, !used.contains(k) { out[s.mid] = k; used.insert(k) }
        }
        for s in sections where out[s.mid] == nil {
            if let h = hints[s.mid], h.kind == s.kind, !used.contains(h) { out[s.mid] = h; used.insert(h) }
        }
        for s in sections where out[s.mid] == nil {
            if let free = inOrder(s.kind).first(where: { !used.contains($0) }) { out[s.mid] = free; used.insert(free) }
        }
        return out
    }
}
