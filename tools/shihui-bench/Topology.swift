/// Who publishes and who views whom in a scenario (docs/PERFORMANCE.md, "Scenarios").
///
/// With `--signaling meeting` a participant receives everything it views on one subscriber
/// connection (`publisher` is `*`, `expectedTracks` how many tracks it carries); with `whep`
/// each viewed publisher is a connection of its own.
struct Topology {
    struct Publisher { var room: String; var identity: String; var video: Bool; var subscribes = false }
    struct Viewer { var room: String; var publisher: String; var viewer: String; var video: Bool; var expectedTracks = 0 }
    var publishers: [Publisher] = []
    var viewers: [Viewer] = []

    static let everyone = "*"

    static func make(_ o: BenchOptions) -> Topology {
        var t = Topology()
        let perParticipant = o.signaling == .meeting
        /// `viewer` views `sources` (identities with their video flag) in `room`.
        func views(room: String, viewer: String, sources: [(String, Bool)]) {
            if perParticipant {
                let tracks = sources.reduce(0) { $0 + ($1.1 ? 2 : 1) }
                t.viewers.append(.init(room: room, publisher: everyone, viewer: viewer, video: true, expectedTracks: tracks))
            } else {
                for (s, video) in sources { t.viewers.append(.init(room: room, publisher: s, viewer: "\(viewer)-sees-\(s)", video: video)) }
            }
        }
        /// A meeting: everyone publishes and views every other publisher.
        func meeting(room: String, size: Int) {
            let names = (0..<size).map { "p\($0)" }
            for n in names { t.publishers.append(.init(room: room, identity: n, video: true, subscribes: perParticipant)) }
            for me in names { views(room: room, viewer: me, sources: names.filter { $0 != me }.map { ($0, true) }) }
        }
        switch o.scenario {
        case .broadcast, .joinStorm:
            t.publishers.append(.init(room: "broadcast", identity: "p0", video: true))
            let count = o.scenario == .joinStorm ? o.joins : o.subscribers
            for i in 0..<count { views(room: "broadcast", viewer: "v\(i)", sources: [("p0", true)]) }
        case .meeting:
            meeting(room: "meeting", size: o.publishers)
        case .rooms:
            for r in 0..<o.rooms { meeting(room: "room\(r)", size: 3) }
        case .audio:
            let speakers = (0..<o.publishers).map { "s\($0)" }
            for s in speakers { t.publishers.append(.init(room: "audio", identity: s, video: false)) }
            for l in 0..<o.subscribers { views(room: "audio", viewer: "l\(l)", sources: speakers.map { ($0, false) }) }
        }
        return t
    }
}

/// How the generator joins a room on the server under test.
protocol Joiner: Sendable {
    func publish(_ e: Endpoint, _ p: Topology.Publisher) throws
    func view(_ e: Endpoint, _ v: Topology.Viewer) throws
    /// Every viewer is signaled: keep whatever signaling stays open alive from now on.
    func signalingDone()
}

extension Joiner {
    func signalingDone() {}
}

extension ShihuiSignaling: Joiner {
    func publish(_ e: Endpoint, _ p: Topology.Publisher) throws {
        try publish(e, room: p.room, identity: p.identity, video: p.video)
    }
    func view(_ e: Endpoint, _ v: Topology.Viewer) throws {
        try view(e, room: v.room, identity: v.publisher, viewer: v.viewer, video: v.video)
    }
}

/// The C reflector (tools/floor): no signaling; viewers register with a datagram, the publisher
/// sends the same synthetic streams to it.
struct FloorJoiner: Joiner, Sendable {
    let address: MediaWire.TransportAddress
    let shape: VideoShape

    func publish(_ e: Endpoint, _ p: Topology.Publisher) throws {
        e.remote = address
        _ = e.addSyntheticStreams(video: p.video, shape: shape)
    }

    func view(_ e: Endpoint, _ v: Topology.Viewer) throws {
        e.remote = address
        e.send(Array("JOIN".utf8))
    }
}

import MediaWire
