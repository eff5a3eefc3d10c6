import HTTP
import ServerIO
import Testing
@testable import ServerApp

/// The route table the parts of the server register into: 404 for an unknown path, 405 with
/// `Allow` for a known one with another method (RFC 9110 §15.5.6), HEAD wherever GET is.
struct RouteTableTests {
    static func table() -> RouteTable {
        var t = RouteTable()
        func reply(_ text: String) -> RouteTable.Handler { { _, p, _, _ in (.response(.text(200, ([text] + p).joined(separator: " "))), []) } }
        t.add("GET", "/api/v1/rooms", reply("list"))
        t.add("POST", "/api/v1/rooms", reply("create"))
        t.add("GET", "/api/v1/rooms/{room}", reply("get"))
        t.add("DELETE", "/api/v1/rooms/{room}/participants/{identity}", reply("kick"))
        return t
    }

    static func body(_ m: RouteTable.Match) -> String? {
        guard case .route(let handler, let parameters) = m else { return nil }
        let request = HTTPRequest(method: "GET", target: "/")
        guard case .response(let r) = handler(request, parameters, 0, 0).0 else { return nil }
        return String(decoding: r.body, as: UTF8.self)
    }

    @Test func pathsParametersAndMethods() {
        let t = Self.table()
        #expect(Self.body(t.match(method: "GET", segments: ["api", "v1", "rooms"])) == "list")
        #expect(Self.body(t.match(method: "HEAD", segments: ["api", "v1", "rooms", "应急"])) == "get 应急")
        #expect(Self.body(t.match(method: "DELETE", segments: ["api", "v1", "rooms", "r", "participants", "li"])) == "kick r li")
        guard case .methodNotAllowed(let allow) = t.match(method: "PUT", segments: ["api", "v1", "rooms"]) else { Issue.record("no 405"); return }
        #expect(allow == "GET, HEAD, POST")
        guard case .notFound = t.match(method: "GET", segments: ["api", "v1", "rooms", "r", "x"]) else { Issue.record("no 404"); return }
        guard case .notFound = t.match(method: "GET", segments: []) else { Issue.record("no 404 for /"); return }
    }
}
