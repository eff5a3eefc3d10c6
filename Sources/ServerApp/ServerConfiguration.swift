import Foundation
import Ingest
import MediaCrypto
import MediaWire
import ServerIO
import Signaling

/// The server's options. Public contract (operators' scripts depend on these names):
/// `--http` / `SHIHUI_HTTP`, `--udp` / `SHIHUI_UDP`, `--data` / `SHIHUI_DATA`, `--secret` /
/// `SHIHUI_SECRET`, `--config FILE` (JSON with keys http, udp, data, secret).
/// Precedence: flag > environment > config file > default.
public struct ServerConfiguration: Equatable, Sendable {
    public var http = TransportAddress(ip: .loopbackV4, port: 7880)
    public var udp = TransportAddress(ip: .loopbackV4, port: 7882)
    public var dataDirectory = "./data"
    public var secret: String? = nil
    /// Tuning (seconds): request timeout (slowloris), WebSocket ping interval and silence timeout.
    public var requestTimeout = 10.0
    public var webSocketPingInterval = 15.0
    public var webSocketTimeout = 45.0
    /// SRTP protection profiles offered in DTLS, in preference order (`--srtp-profiles gcm,cm`).
    public var srtpProfiles: [SRTPProfile] = [.aeadAes128Gcm, .aes128CmHmacSha1_80]
    /// RFC 7675 consent timeout in seconds (`--ice-consent-timeout`).
    public var iceConsentTimeout = 30.0
    /// Address put in ICE candidates instead of the bound one (NAT / 1:1 deployments).
    public var announceIP: IPAddress? = nil
    /// Test-only: fraction of incoming RTP dropped before the SFU (`--test-inbound-loss 0.05`).
    public var testInboundLoss = 0.0
    /// A media transport not connected this many seconds after its offer is closed (`--connect-timeout`).
    public var connectTimeout = 20.0
    /// Media transports waiting to connect, server-wide (`--max-pending-transports`).
    public var maxPendingTransports = 5_000
    /// WHEP sessions one identity may hold in one room (`--max-viewer-sessions`).
    public var maxViewerSessions = 4
    /// Longest token lifetime accepted, seconds (`--max-token-lifetime`).
    public var maxTokenLifetime: Int64 = TokenVerifier.defaultMaximumLifetime
    /// WebSocket messages a second per session; bursts of five times as many (`--ws-message-rate`).
    public var webSocketMessageRate = 20
    /// UDP ports plain-RTP ingresses take (`--ingress-ports`), on the media address's IP.
    public var ingressPorts: ClosedRange<UInt16> = 40_000...40_199
    /// An ingress with no RTP for this many seconds is removed (`--ingress-idle-timeout`).
    public var ingressIdleTimeout = 300.0
    /// Ingresses per room (`--max-ingresses`).
    public var maxIngressesPerRoom = 64
    /// Bytes each ingested video track keeps from its last keyframe for new viewers (`--keyframe-cache-bytes`; 0: none).
    public var keyframeCacheBytes = 4 << 20

    public init() {}

    public static let help = """
        Usage: shihui-server [options]
               shihui-server token --room R --identity I [--name N] [--publish] [--subscribe] [--admin] [--record] [--ttl SECONDS]

        Options (flag > environment variable > --config file > default):
          --http ADDR:PORT    signaling HTTP/WebSocket listen address   SHIHUI_HTTP    default 127.0.0.1:7880
          --udp ADDR:PORT     media UDP address (media plane)           SHIHUI_UDP     default 127.0.0.1:7882
          --data DIR          data directory                            SHIHUI_DATA    default ./data
          --secret S          API secret that signs access tokens       SHIHUI_SECRET  default: generated into DIR/secret
          --config FILE       JSON file with keys "http", "udp", "data", "secret"
          --help              this text

        Tuning (seconds; flags only):
          --request-timeout S        a request must arrive within S of its first byte (default 10)
          --ws-ping-interval S       the server pings each WebSocket every S (default 15)
          --ws-timeout S             a WebSocket silent for S (no data, no pong) is closed (default 45)
          --srtp-profiles LIST       DTLS-SRTP profiles in preference order: gcm, cm (default gcm,cm)
          --announce-ip IP           address put in ICE candidates instead of the --udp address (NAT, 1:1)
          --ice-consent-timeout S    a media transport with no ICE check for S is closed (default 30, RFC 7675)
          --test-inbound-loss F      TEST ONLY: drop this fraction (0-0.5) of incoming RTP (loss tests)

        Limits (docs/signaling.md, "Limits"):
          --connect-timeout S        a media transport not connected (ICE, DTLS) S after its offer is closed (default 20)
          --max-pending-transports N media transports waiting to connect, server-wide (default 5000)
          --max-viewer-sessions N    WHEP sessions per identity per room (default 4)
          --max-token-lifetime S     tokens valid longer than S are refused (default 604800, a week)
          --ws-message-rate N        WebSocket messages per second per session, bursts of 5×N (default 20)
          --ingress-ports LO-HI      UDP ports for plain-RTP ingresses (default 40000-40199)
          --ingress-idle-timeout S   an ingress that receives nothing for S is removed (default 300)
          --max-ingresses N          ingresses per room (default 64)
          --keyframe-cache-bytes N   bytes of each ingested video's group since its last keyframe, sent to a
                                     new viewer at once (default 4194304; 0 turns the cache off)

        Token options:
          --room R            room the token admits to ("" with --admin: every room, for the REST API)
          --identity I        participant identity (JWT sub)
          --name N            display name
          --publish --subscribe --admin --record   grants
          --ttl SECONDS       lifetime, default 21600 (6 h), at most --max-token-lifetime
        """

    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        public let description: String
        init(_ d: String) { description = d }
    }

    /// Resolves options from arguments (without the program name), environment and file.
    public static func resolve(arguments: [String], environment: [String: String],
                               readFile: (String) throws -> Data = { try Data(contentsOf: URL(fileURLWithPath: $0)) }) throws(Error) -> ServerConfiguration {
        var flags: [String: String] = [:]
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            guard ["--http", "--udp", "--data", "--secret", "--config", "--request-timeout", "--ws-ping-interval", "--ws-timeout", "--srtp-profiles", "--test-inbound-loss", "--announce-ip", "--ice-consent-timeout",
                    "--connect-timeout", "--max-pending-transports", "--max-viewer-sessions", "--max-token-lifetime", "--ws-message-rate",
                    "--ingress-ports", "--ingress-idle-timeout", "--max-ingresses", "--keyframe-cache-bytes"].contains(a) else {
                throw Error("unknown option \(a) (see --help)")
            }
            guard i + 1 < arguments.count else { throw Error("\(a) needs a value") }
            flags[a] = arguments[i + 1]
            i += 2
        }
        var config = ServerConfiguration()
        if let path = flags["--config"] {
            let data: Data
            do { data = try readFile(path) } catch { throw Error("cannot read config file \(path)") }
            let parsed: JSONValue
            do throws(JSONReader.Error) { parsed = try JSONValue.parse(Array(data)) } catch { throw Error("config file \(path) is not JSON: \(error)") }
            guard let object = parsed.object else { throw Error("config file \(path) is not a JSON object") }
            for key in object.keys where !["http", "udp", "data", "secret"].contains(key) { throw Error("config file: unknown key \(key)") }
            // Strings as strings; any other value as itself, which `apply` refuses with its reason.
            func value(_ key: String) -> Any? { object[key].map { $0.string ?? $0 } }
            try config.apply(http: value("http"), udp: value("udp"), data: value("data"), secret: value("secret"), source: "config file")
        }
        try config.apply(http: environment["SHIHUI_HTTP"], udp: environment["SHIHUI_UDP"], data: environment["SHIHUI_DATA"],
                         secret: environment["SHIHUI_SECRET"], source: "environment")
        try config.apply(http: flags["--http"], udp: flags["--udp"], data: flags["--data"], secret: flags["--secret"], source: "flag")
        func seconds(_ flag: String) throws(Error) -> Double? {
            guard let v = flags[flag] else { return nil }
            guard let d = Double(v), d > 0, d <= 86_400 else { throw Error("\(flag) must be a number of seconds above 0") }
            return d
        }
        if let d = try seconds("--request-timeout") { config.requestTimeout = d }
        if let d = try seconds("--ws-ping-interval") { config.webSocketPingInterval = d }
        if let d = try seconds("--ws-timeout") { config.webSocketTimeout = d }
        if let d = try seconds("--ice-consent-timeout") { config.iceConsentTimeout = d }
        if let d = try seconds("--connect-timeout") {
            guard d <= 300 else { throw Error("--connect-timeout must be at most 300 seconds") }
            config.connectTimeout = d
        }
        func count(_ flag: String, _ range: ClosedRange<Int>) throws(Error) -> Int? {
            guard let v = flags[flag] else { return nil }
            guard let n = Int(v), range.contains(n) else { throw Error("\(flag) must be an integer from \(range.lowerBound) to \(range.upperBound)") }
            return n
        }
        if let n = try count("--max-pending-transports", 1...1_000_000) { config.maxPendingTransports = n }
        if let n = try count("--max-viewer-sessions", 1...1_000) { config.maxViewerSessions = n }
        if let n = try count("--max-token-lifetime", 60...(366 * 86_400)) { config.maxTokenLifetime = Int64(n) }
        if let n = try count("--ws-message-rate", 1...10_000) { config.webSocketMessageRate = n }
        if let n = try count("--max-ingresses", 1...10_000) { config.maxIngressesPerRoom = n }
        if let n = try count("--keyframe-cache-bytes", 0...(64 << 20)) { config.keyframeCacheBytes = n }
        if let d = try seconds("--ingress-idle-timeout") { config.ingressIdleTimeout = d }
        if let v = flags["--ingress-ports"] {
            guard let range = IngressPortPool.parseRange(v) else { throw Error("--ingress-ports must be LO-HI, two ports with LO <= HI") }
            config.ingressPorts = range
        }
        if let v = flags["--announce-ip"] {
            guard let ip = IPAddress(v) else { throw Error("--announce-ip must be an IPv4 or IPv6 address") }
            config.announceIP = ip
        }
        if let v = flags["--test-inbound-loss"] {
            guard let f = Double(v), (0...0.5).contains(f) else { throw Error("--test-inbound-loss takes a fraction from 0 to 0.5") }
            config.testInboundLoss = f
        }
        if let list = flags["--srtp-profiles"] {
            var profiles: [SRTPProfile] = []
            for name in list.split(separator: ",") {
                switch name {
                case "gcm": profiles.append(.aeadAes128Gcm)
                case "cm": profiles.append(.aes128CmHmacSha1_80)
                default: throw Error("--srtp-profiles takes gcm and/or cm, comma-separated")
                }
            }
            guard !profiles.isEmpty else { throw Error("--srtp-profiles takes gcm and/or cm, comma-separated") }
            config.srtpProfiles = profiles
        }
        return config
    }

    private mutating func apply(http: Any?, udp: Any?, data: Any?, secret: Any?, source: String) throws(Error) {
        func address(_ v: Any?, _ name: String) throws(Error) -> TransportAddress? {
            guard let v else { return nil }
            guard let s = v as? String, let a = TransportAddress(s) else { throw Error("\(source): \(name) must be ADDR:PORT (e.g. 127.0.0.1:7880 or [::1]:7880)") }
            return a
        }
        if let a = try address(http, "http") { self.http = a }
        if let a = try address(udp, "udp") { self.udp = a }
        if let d = data {
            guard let s = d as? String, !s.isEmpty else { throw Error("\(source): data must be a directory path") }
            dataDirectory = s
        }
        if let s = secret {
            guard let text = s as? String, text.utf8.count >= 16 else { throw Error("\(source): secret must be at least 16 characters") }
            self.secret = text
        }
    }

    /// Server limits derived from the tuning options.
    public var serverLimits: ServerLimits {
        var l = ServerLimits()
        l.requestTimeout = UInt64(requestTimeout * 1e9)
        l.webSocketPingInterval = UInt64(webSocketPingInterval * 1e9)
        l.webSocketTimeout = UInt64(webSocketTimeout * 1e9)
        return l
    }

    /// The API secret: the configured one, else `data/secret` (created with mode 0600 holding 32
    /// random bytes in hex when missing). Returns the secret and a note when one was generated.
    public func resolveSecret() throws(Error) -> (secret: String, generatedAt: String?) {
        if let secret { return (secret, nil) }
        let path = (dataDirectory as NSString).appendingPathComponent("secret")
        if let existing = try? String(contentsOfFile: path, encoding: .utf8) {
            let trimmed = existing.trimmingCharacters(in: .whitespacesAndNewlines)
            guard trimmed.utf8.count >= 16 else { throw Error("\(path) holds a secret shorter than 16 characters") }
            return (trimmed, nil)
        }
        do {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        } catch { throw Error("cannot create data directory \(dataDirectory)") }
        let generated = SecureRandom.bytes(32).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        guard FileManager.default.createFile(atPath: path, contents: Data((generated + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw Error("cannot write \(path)")
        }
        return (generated, path)
    }
}
