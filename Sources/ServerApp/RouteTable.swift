import HTTP
import ServerIO

/// The server's HTTP routes: each part of the application (the web client, WHIP/WHEP, REST,
/// later recordings, snapshots, the office) registers its paths and methods here instead of
/// growing one switch. A path that matches no route is 404; one that matches with another
/// method is 405 with `Allow` listing the methods registered for it (RFC 9110 §15.5.6).
struct RouteTable {
    /// `parameters` are the decoded `{name}` segments of the path, in order.
    typealias Handler = (_ request: HTTPRequest, _ parameters: [String], _ connection: ConnectionID, _ now: UInt64) -> (HTTPReply, [ConnectionAction])

    enum Segment: Equatable {
        case literal(String)
        case parameter
    }

    struct Route {
        let pattern: [Segment]
        let method: String
        let handler: Handler
    }

    private(set) var routes: [Route] = []

    /// Registers `handler` for `method` on `path` ("/api/v1/rooms/{room}"); GET routes answer
    /// HEAD too.
    mutating func add(_ method: String, _ path: String, _ handler: @escaping Handler) {
        let pattern = path.split(separator: "/").map { s -> Segment in
            s.hasPrefix("{") && s.hasSuffix("}") ? .parameter : .literal(String(s))
        }
        precondition(!routes.contains { $0.pattern == pattern && $0.method == method }, "route \(method) \(path) registered twice")
        routes.append(Route(pattern: pattern, method: method, handler: handler))
    }

    /// What the request's path and method reach.
    enum Match {
        case route(Handler, parameters: [String])
        case methodNotAllowed(allow: String)
        case notFound
    }

    func match(method: String, segments: [String]) -> Match {
        var allowed: [String] = []
        for route in routes {
            guard let parameters = Self.parameters(route.pattern, segments) else { continue }
            if route.method == method || (method == "HEAD" && route.method == "GET") { return .route(route.handler, parameters: parameters) }
            allowed.append(route.method)
            if route.method == "GET" { allowed.append("HEAD") }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allow: allowed.joined(separator: ", "))
    }

    static func parameters(_ pattern: [Segment], _ segments: [String]) -> [String]? {
        guard pattern.count == segments.count else { return nil }
        var out: [String] = []
        for (p, s) in zip(pattern, segments) {
            switch p {
            case .literal(let l): guard l == s else { return nil }
            case .parameter: out.append(s)
            }
        }
        return out
    }
}
