import AudioTranscoding
import SFU
import MediaWire
import MediaCrypto
import Signaling

/// What the ingress service needs of the media thread: its commands, and UDP sockets beside
/// the WebRTC port (`MediaIO.MediaLoop` provides them; bound on the caller's thread, then served
/// and closed on the media thread).
public protocol IngressMediaPlane: MediaThread {
    func bindUDPSocket(_ address: TransportAddress) -> Result<(fd: Int32, address: TransportAddress), IngressService.SocketError>
    func serve(socket: Int32, handler: @escaping DatagramHandler)
    func closeSocket(_ socket: Int32)
}

/// Plain-RTP ingresses on the control thread (docs/api.md, "Ingress"): each is a UDP port from
/// the configured range with a receiver on the media thread and a source in the router, whose
/// participant the signaling layer adds to the room. Removed by DELETE, with its participant,
/// or when nothing arrived for `idleTimeout`.
public final class IngressService {
    public struct SocketError: Error, Sendable {
        public let message: String
        /// The port is held by another program (try the next one).
        public let inUse: Bool
        public init(message: String, inUse: Bool) {
            self.message = message
            self.inUse = inUse
        }
    }

    public struct Limits: Sendable {
        /// Ingresses per room.
        public var maxPerRoom: Int
        /// Nanoseconds without RTP (since creation, or since the last packet) after which an
        /// ingress is removed and its port given back.
        public var idleTimeout: UInt64
        public init(maxPerRoom: Int = 64, idleTimeout: UInt64 = 300_000_000_000) {
            self.maxPerRoom = maxPerRoom
            self.idleTimeout = idleTimeout
        }
    }

    /// One ingress as the control plane keeps it.
    public struct Ingress: Sendable {
        public let id: String
        public let room: String
        public var request: IngressRequest
        public let address: TransportAddress
        public let session: SessionID
        public let createdAt: UInt64
        public let counters: IngressCounters
        let socket: Int32
        /// The SRTP master key and salt the sender uses (30 bytes), if it protects its packets.
        public let srtpKey: [UInt8]?
        public var key: ParticipantKey { ParticipantKey(room: room, identity: request.identity) }

        /// The tracks it publishes, as the router's source declares them.
        public var sourceTracks: [MediaRouter.SourceTrack] {
            var out: [MediaRouter.SourceTrack] = []
            if let v = request.video { out.append(.init(codec: v.codec, payloadType: v.payloadType)) }
            if let a = request.audio { out.append(.init(codec: .opus, payloadType: a.g711 == nil ? a.payloadType : transcodedPayloadType)) }
            return out
        }

        var transcodedPayloadType: UInt8 { IngressService.transcodedPayloadType(request) }
        let job: AudioTranscoder.Job?
    }

    /// Why a create was refused: HTTP status, stable code, sentence.
    public struct Refusal: Error, Equatable, Sendable {
        public let status: Int
        public let code: String
        public let message: String
    }

    /// Media-thread state: receivers by the router source they feed (for its feedback).
    /// @unchecked Sendable: touched only in media-thread commands and the loop's `onEvent`.
    public final class MediaThreadState: @unchecked Sendable {
        var receivers: [SourceID: PlainRTPReceiver] = [:]
        /// Receivers whose G.711 is transcoded, whose Opus output `pump` takes.
        var transcoded: [PlainRTPReceiver] = []

        /// Moves the transcoder's Opus packets into the router (media thread, each wake-up).
        public func pump(router: MediaRouter, now: UInt64, send: (UnsafeRawBufferPointer, TransportAddress) -> Void) {
            for r in transcoded { r.pump(router: router, now: now, send: send) }
        }
        /// The RTCP answering a router event for an ingress's source, and where it goes
        /// (media thread only).
        public func feedback(for event: MediaRouter.Event) -> (bytes: [UInt8], to: TransportAddress, socket: Int32)? {
            let id: SourceID
            switch event {
            case .keyframeRequested(let s, _), .retransmissionRequested(let s, _, _): id = s
            default: return nil
            }
            guard let r = receivers[id], let to = r.sender, let bytes = r.feedback(for: event) else { return nil }
            return (bytes, to, r.socket)
        }
    }
    public let mediaState = MediaThreadState()

    /// The payload type of the Opus the transcoder makes from G.711 (one the video does not use).
    static func transcodedPayloadType(_ request: IngressRequest) -> UInt8 { request.video?.payloadType == 111 ? 110 : 111 }
    /// The G.711 → Opus worker, shared by every ingress that needs it.
    public let transcoder = AudioTranscoder()

    let plane: any IngressMediaPlane
    let bindIP: IPAddress
    public let limits: Limits
    public private(set) var pool: IngressPortPool
    public private(set) var ingresses: [String: Ingress] = [:]

    public init(plane: any IngressMediaPlane, bindIP: IPAddress, ports: ClosedRange<UInt16>, limits: Limits = Limits()) {
        self.plane = plane
        self.bindIP = bindIP
        self.limits = limits
        pool = IngressPortPool(range: ports)
    }

    public func list(room: String) -> [Ingress] { ingresses.values.filter { $0.room == room }.sorted { $0.createdAt < $1.createdAt } }

    public func ingress(session: SessionID) -> Ingress? { ingresses.values.first { $0.session == session } }

    /// Binds a port, adds the source to the router and serves the port. The caller has checked
    /// that no participant of the room has the identity.
    public func create(_ request: IngressRequest, room: String, session: SessionID, now: UInt64) throws(Refusal) -> Ingress {
        if ingresses.values.contains(where: { $0.room == room && $0.request.identity == request.identity }) {
            throw Refusal(status: 409, code: "identity_taken", message: "an ingress of room \(room) already has the identity \(request.identity)")
        }
        guard list(room: room).count < limits.maxPerRoom else {
            throw Refusal(status: 429, code: "too_many_ingresses", message: "room \(room) has \(limits.maxPerRoom) ingresses already; delete one first")
        }
        var skipped: Set<UInt16> = []
        var bound: (fd: Int32, address: TransportAddress)? = nil
        var taken: UInt16? = nil
        while bound == nil, let port = pool.take(skipping: skipped) {
            switch plane.bindUDPSocket(TransportAddress(ip: bindIP, port: port)) {
            case .success(let b):
                bound = b
                taken = port
            case .failure(let e) where e.inUse:
                pool.release(port)
                skipped.insert(port)  // another program's: try the next
            case .failure(let e):
                pool.release(port)
                throw Refusal(status: 500, code: "socket_failed", message: "could not open a UDP port: \(e.message)")
            }
        }
        guard let bound, taken != nil else {
            throw Refusal(status: 503, code: "no_ports", message: "every ingress port (\(pool.range.lowerBound)-\(pool.range.upperBound)) is taken")
        }
        let id = HexText.lowercase(SecureRandom.bytes(8))
        let counters = IngressCounters()
        let srtpKey = request.srtp ? SecureRandom.bytes(30) : nil
        var job: AudioTranscoder.Job? = nil
        if let a = request.audio, let law = a.g711 {
            guard let converter = try? G711ToOpus(law: law, payloadType: Self.transcodedPayloadType(request), ssrc: SecureRandom.uint32() | 1,
                                                  firstSequence: UInt16(truncatingIfNeeded: SecureRandom.uint32()), firstTimestamp: SecureRandom.uint32()) else {
                plane.closeSocket(bound.fd)
                pool.release(bound.address.port)
                throw Refusal(status: 500, code: "transcoder_failed", message: "the Opus encoder could not be created")
            }
            job = AudioTranscoder.Job(input: TapRing(capacity: 256), output: TapRing(capacity: 256), converter: converter)
        }
        let ingress = Ingress(id: "IN_" + id, room: room, request: request, address: bound.address, session: session, createdAt: now,
                              counters: counters, socket: bound.fd, srtpKey: srtpKey, job: job)
        let receiver = PlainRTPReceiver(counters: counters, socket: bound.fd,
                                        srtp: srtpKey.map { SRTPContext(profile: .aes128CmHmacSha1_80, masterKey: Array($0[0..<16]), masterSalt: Array($0[16..<30])) })
        if let v = request.video, v.codec == .h264 { receiver.h264PayloadType = v.payloadType }
        if let job, let a = request.audio {
            receiver.transcoding = (a.payloadType, job)
            transcoder.add(job)
        }
        let state = mediaState, key = ingress.key, tracks = ingress.sourceTracks
        plane.perform { router in
            let source = router.addSource(publisher: key, tracks: tracks)
            receiver.source = source
            state.receivers[source] = receiver
            if receiver.transcoding != nil { state.transcoded.append(receiver) }
        }
        plane.serve(socket: bound.fd) { router, datagram, from, now, send in
            receiver.receive(datagram, from: from, now: now, router: router, send: send)
        }
        ingresses[ingress.id] = ingress
        return ingress
    }

    /// Removes an ingress: its port closes, its source leaves the router. Its participant is
    /// the caller's to remove.
    @discardableResult
    public func remove(_ id: String) -> Ingress? {
        guard let ingress = ingresses.removeValue(forKey: id) else { return nil }
        plane.closeSocket(ingress.socket)
        let state = mediaState, socket = ingress.socket
        plane.perform { router in
            guard let (source, _) = state.receivers.first(where: { $0.value.socket == socket }) else { return }
            state.receivers[source] = nil
            state.transcoded.removeAll { $0.socket == socket }
            router.removeSource(source)
        }
        pool.release(ingress.address.port)
        if let job = ingress.job { transcoder.remove(job) }
        return ingress
    }

    /// Updates an ingress's name and metadata (a drone's position).
    public func update(_ id: String, name: String?, metadata: String?) -> Ingress? {
        guard var ingress = ingresses[id] else { return nil }
        if let name { ingress.request.name = name }
        if let metadata { ingress.request.metadata = metadata }
        ingresses[id] = ingress
        return ingress
    }

    /// Ingresses with nothing for `limits.idleTimeout`: the caller removes them.
    public func idle(now: UInt64) -> [Ingress] {
        ingresses.values.filter { i in
            let last = i.counters.snapshot.lastPacketAt ?? i.createdAt
            return now > last && now - last > limits.idleTimeout
        }
    }
}
