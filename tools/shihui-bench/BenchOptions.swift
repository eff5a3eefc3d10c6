import Glibc
import MediaWire

/// Command-line options of shihui-bench (`--help` lists them).
struct BenchOptions {
    enum Target: String { case shihui, janus, floor }
    enum Scenario: String { case broadcast, meeting, rooms, audio, joinStorm = "join-storm" }
    /// How viewers join: `meeting` — Shihui's WebSocket meeting protocol (one subscriber
    /// connection per participant), Janus's multistream subscriber; `whep` — one connection per
    /// viewed publisher (Shihui's WHEP, a Janus subscriber handle per feed).
    enum Signaling: String { case meeting, whep }

    var target = Target.shihui
    var scenario = Scenario.broadcast
    var signaling = Signaling.meeting
    var http = TransportAddress("127.0.0.1:7880")!
    var secret = ""
    var janus = TransportAddress("10.200.0.1:8088")!
    var floor = TransportAddress("127.0.0.1:9000")!
    var floorMode = MediaEngine.FloorMode.srtp
    var serverPID: Int32 = 0
    var bind = IPAddress("127.0.0.1")!
    var publishers = 1
    var subscribers = 10
    var rooms = 10
    var joins = 100
    var video = VideoShape(bitrate: 2_500_000, fps: 30, packetSize: 1200, keyframeSeconds: 2)
    var warmup = 2.0
    var duration = 10.0
    var authSample = 16
    var label = ""

    static let help = """
        Usage: shihui-bench [options]   (one JSON line with the results on stdout)
          --target shihui|janus|floor   what to load (default shihui)
          --scenario broadcast|meeting|rooms|audio|join-storm
          --signaling meeting|whep      meeting (default): Shihui's WebSocket meeting protocol and
                                        Janus's multistream subscriber, one subscriber connection
                                        per participant; whep: WHIP/WHEP and a Janus handle per feed,
                                        one connection per viewed publisher
          --http ADDR:PORT --secret S   Shihui's signaling address and token secret
          --janus ADDR:PORT             Janus's HTTP transport (path /janus)
          --floor ADDR:PORT --floor-mode plain|srtp   the C reflector
          --server-pid PID              process whose CPU and RSS are measured
          --bind IP                     local address of every client socket (default 127.0.0.1)
          --publishers P --subscribers S --rooms R --joins N   scenario sizes
          --bitrate BPS --fps F --packet-size B --keyframe-seconds K   synthetic VP8 shape
          --audio-ptime MS              Opus packet interval (default 20)
          --pacing F                    video leaves at F × bitrate, a packet at a time (default 2.5,
                                        libwebrtc's pacer); 0 sends each frame as one burst
          --warmup S --duration S       seconds before and of the measured window
          --auth-sample N               fully SRTP-verify (and time) one packet in N per stream
          --label TEXT                  copied into the result
        """

    static func parse(_ args: [String]) throws -> BenchOptions {
        var o = BenchOptions()
        var i = 0
        func value() throws -> String {
            guard i + 1 < args.count else { throw BenchError("\(args[i]) needs a value") }
            i += 1
            return args[i]
        }
        func int() throws -> Int {
            let v = try value()
            guard let n = Int(v), n >= 0 else { throw BenchError("\(args[i - 1]): not a count: \(v)") }
            return n
        }
        func address() throws -> TransportAddress {
            let v = try value()
            guard let a = TransportAddress(v) else { throw BenchError("not ADDR:PORT: \(v)") }
            return a
        }
        while i < args.count {
            switch args[i] {
            case "--target": guard let t = Target(rawValue: try value()) else { throw BenchError("unknown target") }; o.target = t
            case "--scenario": guard let s = Scenario(rawValue: try value()) else { throw BenchError("unknown scenario") }; o.scenario = s
            case "--signaling": guard let s = Signaling(rawValue: try value()) else { throw BenchError("unknown signaling") }; o.signaling = s
            case "--http": o.http = try address()
            case "--secret": o.secret = try value()
            case "--janus": o.janus = try address()
            case "--floor": o.floor = try address()
            case "--floor-mode": guard let m = MediaEngine.FloorMode(rawValue: try value()) else { throw BenchError("unknown floor mode") }; o.floorMode = m
            case "--server-pid": o.serverPID = Int32(try int())
            case "--bind": guard let ip = IPAddress(try value()) else { throw BenchError("bad --bind") }; o.bind = ip
            case "--publishers": o.publishers = max(1, try int())
            case "--subscribers": o.subscribers = try int()
            case "--rooms": o.rooms = max(1, try int())
            case "--joins": o.joins = max(1, try int())
            case "--bitrate": o.video.bitrate = try int()
            case "--fps": o.video.fps = max(1, try int())
            case "--packet-size": o.video.packetSize = min(1400, max(64, try int()))
            case "--keyframe-seconds": o.video.keyframeSeconds = max(1, try int())
            case "--audio-ptime": o.video.audioPtime = min(1000, max(10, try int()))
            case "--pacing": guard let f = Double(try value()), f >= 0, f <= 100 else { throw BenchError("--pacing: a factor 0…100") }; o.video.pacing = f
            case "--warmup": o.warmup = Double(try value()) ?? 2
            case "--duration": o.duration = Double(try value()) ?? 10
            case "--auth-sample": o.authSample = max(1, try int())
            case "--label": o.label = try value()
            case "--help": print(help); exit(0)
            default: throw BenchError("unknown option \(args[i]) (see --help)")
            }
            i += 1
        }
        return o
    }
}
