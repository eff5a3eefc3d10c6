import CShims
import Dispatch
import Foundation
import Ingest
import Glibc
import ServerIO
import Signaling
import MediaCrypto
import MediaIO
import MediaWire
import MediaSessions
import SFU

/// Entry points of the shihui-server executable: `run` (serve) and `token` (mint a token).
/// Carries a loop-thread object into a closure posted from another thread.
/// @unchecked Sendable: `value` is only dereferenced inside `LoopPoster.post` work, which runs on
/// the HTTP loop thread that owns it.
final class LoopBound<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

public enum ServerMain {
    /// Returns the process exit status.
    public static func main(arguments: [String], environment: [String: String]) -> Int32 {
        // Before anything calls OpenSSL (it takes allocator functions only before its first
        // allocation). SHIHUI_CRYPTO_HEAP=malloc leaves OpenSSL on malloc, for A/B measurements.
        if environment["SHIHUI_CRYPTO_HEAP"] != "malloc" { CryptoHeap.install() }
        if arguments.first == "token" { return token(Array(arguments.dropFirst()), environment: environment) }
        if arguments.contains("--help") || arguments.contains("-h") {
            print(ServerConfiguration.help)
            return 0
        }
        let config: ServerConfiguration
        let secret: String
        do {
            config = try ServerConfiguration.resolve(arguments: arguments, environment: environment)
            let (s, generatedAt) = try config.resolveSecret()
            secret = s
            if let generatedAt { say("No --secret or SHIHUI_SECRET: generated a development secret in \(generatedAt) (mode 0600).") }
        } catch {
            FileHandle.standardError.write("shihui-server: \(error)\n".data(using: .utf8)!)
            return 2
        }
        var options = RoomRegistry.Options()
        options.messageRate = config.webSocketMessageRate
        options.messageBurst = 5 * config.webSocketMessageRate
        let app = SignalingApplication(secret: secret, options: options, maxTokenLifetime: config.maxTokenLifetime)
        let mediaLoop: MediaLoop
        do {
            try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
            let certificate = try DTLSCertificate.loadOrCreate(path: (config.dataDirectory as NSString).appendingPathComponent("dtls.pem"))
            let credentials = ICECredentialMinter()  // the control plane's SDP and the router's checks agree
            let router = MediaRouter(dtlsContext: DTLSContext(certificate: certificate, profiles: config.srtpProfiles), iceCredentials: credentials)
            router.consentTimeout = UInt64(config.iceConsentTimeout * 1e9)
            router.connectTimeout = UInt64(config.connectTimeout * 1e9)
            router.keyframeCacheBytes = config.keyframeCacheBytes
            mediaLoop = try MediaLoop(address: config.udp, router: router)
            mediaLoop.trimHeaps = {
                _ = shihui_malloc_trim()
                CryptoHeap.releaseEmptySlabs()
            }
            let announced = TransportAddress(ip: config.announceIP ?? mediaLoop.localAddress.ip, port: mediaLoop.localAddress.port)
            let limits = MediaService.Limits(maxPendingTransports: config.maxPendingTransports, maxViewerSessionsPerIdentity: config.maxViewerSessions)
            app.media = MediaService(loop: mediaLoop, certificate: certificate, candidateAddress: announced, credentials: credentials, limits: limits)
            app.mediaLoop = mediaLoop
            app.ingress = IngressService(plane: mediaLoop, bindIP: mediaLoop.localAddress.ip, ports: config.ingressPorts,
                                         limits: IngressService.Limits(maxPerRoom: config.maxIngressesPerRoom,
                                                                       idleTimeout: UInt64(config.ingressIdleTimeout * 1e9)))
        } catch {
            FileHandle.standardError.write("shihui-server: media plane: \(error)\n".data(using: .utf8)!)
            return 1
        }
        mediaLoop.inboundRTPLoss = config.testInboundLoss
        if config.testInboundLoss > 0 { say("TEST MODE: dropping \(config.testInboundLoss * 100)% of incoming RTP") }
        let server: HTTPServer
        raiseFileLimit()
        do { server = try HTTPServer(address: config.http, limits: config.serverLimits, application: app) } catch {
            FileHandle.standardError.write("shihui-server: \(error)\n".data(using: .utf8)!)
            return 1
        }
        app.server = server
        // Router events (media thread) → the participant (HTTP loop thread).
        if let media = app.media, let ingress = app.ingress {
            let poster = server.poster, state = media.mediaState, appRef = LoopBound(app), ingressState = ingress.mediaState
            mediaLoop.onEvent = { event, router in
                switch event {
                case .connected(let id):
                    guard let resource = state.resource(of: id, in: router) else { return }
                    poster.post { _ in appRef.value.media?.transportConnected(resource: resource); return [] }
                case .failed(let id, let reason):
                    guard let resource = state.resource(of: id, in: router) else { return }
                    poster.post { now in appRef.value.mediaTransportFailed(resource: resource, reason: reason, now: now) }
                case .keyframeRequested, .retransmissionRequested:
                    // A viewer wants a keyframe of an ingress (or its lost packets): RTCP to its sender.
                    guard let (bytes, to, socket) = ingressState.feedback(for: event) else { return }
                    bytes.withUnsafeBytes { mediaLoop.send($0, to: to, fromSocket: socket) }
                }
            }
        }
        if let ingress = app.ingress {
            let state = ingress.mediaState
            mediaLoop.onWake = { router, now, send in state.pump(router: router, now: now, send: send) }
        }
        mediaLoop.start()  // after onEvent and onWake are set: the media thread reads them
        let trigger = server.shutdownTrigger
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { trigger.fire() }
            source.resume()
            sources.append(source)
        }
        say("shihui-server listening on http://\(server.localAddress) (media UDP \(mediaLoop.localAddress), data \(config.dataDirectory))")
        server.run()
        mediaLoop.stop()
        app.ingress?.transcoder.stop()
        say("shihui-server stopped")
        withExtendedLifetime(sources) {}
        return 0
    }

    /// Lifts the soft open-file limit to the hard limit: each connection is a file descriptor.
    static func raiseFileLimit() {
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
    }

    /// Unbuffered line on stdout (scripts and tests wait for the "listening" line).
    static func say(_ line: String) { FileHandle.standardOutput.write((line + "\n").data(using: .utf8)!) }

    static func token(_ arguments: [String], environment: [String: String]) -> Int32 {
        var room: String? = nil, identity: String? = nil, name = ""
        var grants = Grants()
        var ttl: Int64 = 6 * 3600
        var serverArgs: [String] = []
        var i = 0
        func fail(_ m: String) -> Int32 {
            FileHandle.standardError.write("shihui-server token: \(m)\n".data(using: .utf8)!)
            return 2
        }
        while i < arguments.count {
            let a = arguments[i]
            func value() -> String? { i + 1 < arguments.count ? arguments[i + 1] : nil }
            switch a {
            case "--room": guard let v = value() else { return fail("--room needs a value") }; room = v; i += 2
            case "--identity": guard let v = value() else { return fail("--identity needs a value") }; identity = v; i += 2
            case "--name": guard let v = value() else { return fail("--name needs a value") }; name = v; i += 2
            case "--ttl": guard let v = value(), let n = Int64(v), n > 0 else { return fail("--ttl needs a positive number of seconds") }; ttl = n; i += 2
            case "--publish": grants.publish = true; i += 1
            case "--subscribe": grants.subscribe = true; i += 1
            case "--admin": grants.admin = true; i += 1
            case "--record": grants.record = true; i += 1
            case "--secret", "--data", "--config", "--http", "--udp", "--max-token-lifetime":
                guard let v = value() else { return fail("\(a) needs a value") }
                serverArgs += [a, v]; i += 2
            default: return fail("unknown option \(a)")
            }
        }
        guard let room else { return fail("--room is required (use --room \"\" with --admin for every room)") }
        guard let identity else { return fail("--identity is required") }
        // The server's own rules: a token it would refuse is not minted.
        do throws(NameRule.Violation) { try NameRule.check(identity) } catch { return fail("--identity \(error)") }
        if room.isEmpty {
            guard grants.admin else { return fail("--room \"\" (every room) is for --admin tokens only") }
        } else {
            do throws(NameRule.Violation) { try NameRule.check(room) } catch { return fail("--room \(error)") }
        }
        do {
            let config = try ServerConfiguration.resolve(arguments: serverArgs, environment: environment)
            guard ttl <= config.maxTokenLifetime else { return fail("--ttl \(ttl) is longer than the server accepts (--max-token-lifetime \(config.maxTokenLifetime))") }
            let (secret, _) = try config.resolveSecret()
            let now = Int64(time(nil))
            let t = AccessToken(identity: identity, name: name, room: room, grants: grants, notBefore: now, expires: now + ttl)
            print(t.signed(secret: Array(secret.utf8)))
            return 0
        } catch {
            return fail("\(error)")
        }
    }
}
