import MediaCrypto
import MediaWire

/// Placeholder until Janus's JSON API lands in the next step.
struct JanusSignaling: Joiner {
    init(http: TransportAddress, context: DTLSContext, shape: VideoShape, publishers: Int) throws {
        throw BenchError("janus target not implemented yet")
    }
    func publish(_ e: Endpoint, _ p: Topology.Publisher) throws {}
    func view(_ e: Endpoint, _ v: Topology.Viewer) throws {}
}
