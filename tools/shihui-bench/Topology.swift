/// Who publishes and who views whom in a scenario (docs/PERFORMANCE.md, "Scenarios").
struct Topology {
    struct Publisher { var room: String; var identity: String; var video: Bool }
    struct Viewer { var room: String; var publisher: String; var viewer: String; var video: Bool }
    var publishers: [Publisher] = []
    var viewers: [Viewer] = []

    static func make(_ o: BenchOptions) -> Topology {
        var t = Topology()
        /// A meeting: everyone publishes and views every other publisher (one connection each).
        func meeting(room: String, size: Int) {
            let names = (0..<size).map { "p\($0)" }
            for n in names { t.publishers.append(.init(room: room, identity: n, video: true)) }
            for me in names { for other in names where other != me { t.viewers.append(.init(room: room, publisher: other, viewer: "\(me)-sees-\(other)", video: true)) } }
        }
        switch o.scenario {
        case .broadcast, .joinStorm:
            t.publishers.append(.init(room: "broadcast", identity: "p0", video: true))
            let count = o.scenario == .joinStorm ? o.joins : o.subscribers
            for i in 0..<count { t.viewers.append(.init(room: "broadcast", publisher: "p0", viewer: "v\(i)", video: true)) }
        case .meeting:
            meeting(room: "meeting", size: o.publishers)
        case .rooms:
            for r in 0..<o.rooms { meeting(room: "room\(r)", size: 3) }
        case .audio:
            let speakers = (0..<o.publishers).map { "s\($0)" }
            for s in speakers { t.publishers.append(.init(room: "audio", identity: s, video: false)) }
            for l in 0..<o.subscribers { for s in speakers { t.viewers.append(.init(room: "audio", publisher: s, viewer: "l\(l)-\(s)", video: false)) } }
        }
        return t
    }
}

/// How the generator joins a room on the server under test.
protocol Joiner: Sendable {
    func publish(_ e: Endpoint, _ p: Topology.Publisher) throws
    func view(_ e: Endpoint, _ v: Topology.Viewer) throws
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
