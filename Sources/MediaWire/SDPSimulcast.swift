/// RID and simulcast attributes (RFC 8851, RFC 8853).

/// a=rid:<rid-id> <send|recv> [pt=<fmt>,...;<restriction>=<value>;...] (RFC 8851 §10).
public struct SDPRID: SDPAttributeValue {
    public static let attributeName = "rid"
    public enum Direction: String, Sendable { case send, recv }

    public var id: String
    public var direction: Direction
    /// Parameter text after the direction, kept as is (nil when absent).
    public var parameterText: String?

    public init(id: String, direction: Direction, parameterText: String? = nil) {
        self.id = id
        self.direction = direction
        self.parameterText = parameterText
    }

    public init(parsing value: Substring, line: Int) throws(WireError) {
        let f = try SDPText.fields(value, min: 2, "rid", line: line)
        guard f.count <= 3, let d = Direction(rawValue: String(f[1])) else { throw WireError(.sdp, .malformedLine("rid"), at: line) }
        // RFC 8851 §10: rid-id is 1*(alpha-numeric / "-" / "_").
        guard f[0].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw WireError(.sdp, .malformedLine("rid id"), at: line)
        }
        self.init(id: String(f[0]), direction: d, parameterText: f.count == 3 ? String(f[2]) : nil)
    }

    /// Payload types restricted by `pt=` (empty when unrestricted).
    public var payloadTypes: [UInt8] {
        restrictions.first { $0.key == "pt" }.map { $0.value.split(separator: ",").compactMap { UInt8($0) } } ?? []
    }

    /// All `key=value` restrictions, `pt` included (e.g. max-width, max-fps).
    public var restrictions: [(key: String, value: String)] {
        (parameterText ?? "").split(separator: ";").map { item in
            if let eq = item.firstIndex(of: "=") { return (String(item[..<eq]), String(item[item.index(after: eq)...])) }
            return (String(item), "")
        }
    }

    public var description: String { "\(id) \(direction.rawValue)" + (parameterText.map { " \($0)" } ?? "") }
}

/// a=simulcast:<send|recv> <streams> [<recv|send> <streams>] (RFC 8853 §5.1). Streams are
/// separated by ";", alternatives within a stream by ","; "~" marks a paused RID.
public struct SDPSimulcast: SDPAttributeValue {
    public static let attributeName = "simulcast"

    public struct RID: Equatable, Sendable {
        public var id: String
        public var paused: Bool
        public init(id: String, paused: Bool = false) {
            self.id = id
            self.paused = paused
        }
        var text: String { (paused ? "~" : "") + id }
    }

    public var send: [[RID]]
    public var recv: [[RID]]
    /// Whether "send" was written first (kept for exact round trips).
    public var sendFirst: Bool

    public init(send: [[RID]] = [], recv: [[RID]] = [], sendFirst: Bool = true) {
        self.send = send
        self.recv = recv
        self.sendFirst = sendFirst
    }

    public init(parsing value: Substring, line: Int) throws(WireError) {
        let f = try SDPText.fields(value, min: 2, "simulcast", line: line)
        guard f.count == 2 || f.count == 4 else { throw WireError(.sdp, .malformedLine("simulcast"), at: line) }
        self.init()
        var seen: Set<Substring> = []
        for i in stride(from: 0, to: f.count, by: 2) {
            guard f[i] == "send" || f[i] == "recv", seen.insert(f[i]).inserted else {
                throw WireError(.sdp, .malformedLine("simulcast direction"), at: line)
            }
            var streams: [[RID]] = []
            for stream in f[i + 1].split(separator: ";", omittingEmptySubsequences: false) {
                var alternatives: [RID] = []
                for alt in stream.split(separator: ",", omittingEmptySubsequences: false) {
                    let paused = alt.hasPrefix("~")
                    let id = paused ? alt.dropFirst() : alt
                    guard !id.isEmpty else { throw WireError(.sdp, .malformedLine("simulcast rid"), at: line) }
                    alternatives.append(RID(id: String(id), paused: paused))
                }
                streams.append(alternatives)
            }
            if f[i] == "send" { send = streams } else { recv = streams }
            if i == 0 { sendFirst = f[i] == "send" }
        }
    }

    public var description: String {
        func list(_ s: [[RID]]) -> String { s.map { $0.map(\.text).joined(separator: ",") }.joined(separator: ";") }
        var parts: [String] = []
        let sendPart = send.isEmpty ? nil : "send \(list(send))"
        let recvPart = recv.isEmpty ? nil : "recv \(list(recv))"
        if sendFirst { parts = [sendPart, recvPart].compactMap { $0 } } else { parts = [recvPart, sendPart].compactMap { $0 } }
        return parts.joined(separator: " ")
    }
}
