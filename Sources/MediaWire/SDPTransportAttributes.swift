/// Typed values of the ICE and DTLS attributes (RFC 8839, RFC 8122, RFC 5763).

/// a=fingerprint:<hash-func> <hex:pairs> (RFC 8122 §5).
public struct SDPFingerprint: SDPAttributeValue {
    public static let attributeName = "fingerprint"
    /// Lower-case hash function name: "sha-256", "sha-1", ...
    public var hashFunction: String
    public var digest: [UInt8]

    public init(hashFunction: String, digest: [UInt8]) {
        self.hashFunction = hashFunction
        self.digest = digest
    }

    public init(parsing value: Substring, line: Int) throws(WireError) {
        let f = try SDPText.fields(value, min: 2, "fingerprint", line: line)
        guard f.count == 2 else { throw WireError(.sdp, .malformedLine("fingerprint"), at: line) }
        var digest: [UInt8] = []
        for pair in f[1].split(separator: ":", omittingEmptySubsequences: false) {
            guard pair.count == 2, let b = UInt8(pair, radix: 16) else { throw WireError(.sdp, .malformedLine("fingerprint hex"), at: line) }
            digest.append(b)
        }
        guard digest.count <= 64 else { throw WireError(.sdp, .tooMany("fingerprint bytes", limit: 64), at: line) }
        self.init(hashFunction: f[0].lowercased(), digest: digest)
    }

    /// Upper-case colon-separated hex, as RFC 8122's grammar and browsers write it.
    public var description: String {
        let hexDigits: [Character] = Array("0123456789ABCDEF")
        let hex = digest.map { String([hexDigits[Int($0 >> 4)], hexDigits[Int($0 & 0xF)]]) }.joined(separator: ":")
        return "\(hashFunction) \(hex)"
    }
}

/// a=setup (RFC 4145 §4, RFC 5763 §5): which side is the DTLS client.
public enum SDPSetupRole: String, SDPAttributeValue, CaseIterable {
    case actpass, active, passive, holdconn
    public static let attributeName = "setup"

    public init(parsing value: Substring, line: Int) throws(WireError) {
        guard let v = SDPSetupRole(rawValue: String(value)) else { throw WireError(.sdp, .malformedLine("setup"), at: line) }
        self = v
    }

    public var description: String { rawValue }

    /// The role an answerer takes (RFC 8842 §5.3: answering actpass with active is recommended).
    public var answer: SDPSetupRole {
        switch self {
        case .actpass: .active
        case .active: .passive
        case .passive: .active
        case .holdconn: .holdconn
        }
    }
}

/// a=candidate (RFC 8839 §5.1):
/// `<foundation> <component> <transport> <priority> <address> <port> typ <type>
///  [raddr <address>] [rport <port>] *(<name> <value>)`.
public struct SDPICECandidate: SDPAttributeValue {
    public static let attributeName = "candidate"
    public var foundation: String
    public var component: UInt16
    public var transport: String
    public var priority: UInt32
    /// An IP address or an FQDN (e.g. an mDNS ".local" name).
    public var address: String
    public var port: UInt16
    public var type: String
    public var relatedAddress: String?
    public var relatedPort: UInt16?
    /// Extension name/value pairs in order (generation, network-id, tcptype, ufrag...).
    public var extensions: [(name: String, value: String)]

    public init(foundation: String, component: UInt16 = 1, transport: String = "udp", priority: UInt32,
                address: String, port: UInt16, type: String = "host", relatedAddress: String? = nil,
                relatedPort: UInt16? = nil, extensions: [(name: String, value: String)] = []) {
        self.foundation = foundation
        self.component = component
        self.transport = transport
        self.priority = priority
        self.address = address
        self.port = port
        self.type = type
        self.relatedAddress = relatedAddress
        self.relatedPort = relatedPort
        self.extensions = extensions
    }

    public init(parsing value: Substring, line: Int) throws(WireError) {
        let f = try SDPText.fields(value, min: 8, "candidate", line: line)
        guard f[6] == "typ" else { throw WireError(.sdp, .malformedLine("candidate: expected typ"), at: line) }
        guard (1...32).contains(f[0].count) else { throw WireError(.sdp, .malformedLine("candidate foundation"), at: line) }
        self.init(foundation: String(f[0]), component: try SDPText.integer(f[1], "candidate component", line: line),
                  transport: String(f[2]), priority: try SDPText.integer(f[3], "candidate priority", line: line),
                  address: String(f[4]), port: try SDPText.integer(f[5], "candidate port", line: line), type: String(f[7]))
        var i = 8
        while i < f.count {
            guard i + 1 < f.count else { throw WireError(.sdp, .malformedLine("candidate: extension without value"), at: line) }
            switch f[i] {
            case "raddr" where relatedAddress == nil && extensions.isEmpty: relatedAddress = String(f[i + 1])
            case "rport" where relatedPort == nil && extensions.isEmpty:
                relatedPort = try SDPText.integer(f[i + 1], "candidate rport", line: line)
            default: extensions.append((String(f[i]), String(f[i + 1])))
            }
            i += 2
        }
    }

    public var description: String {
        var s = "\(foundation) \(component) \(transport) \(priority) \(address) \(port) typ \(type)"
        if let relatedAddress { s += " raddr \(relatedAddress)" }
        if let relatedPort { s += " rport \(relatedPort)" }
        for e in extensions { s += " \(e.name) \(e.value)" }
        return s
    }

    public static func == (l: Self, r: Self) -> Bool { l.description == r.description }

    /// RFC 8445 §5.1.2.1 priority: (2^24)·type preference + (2^8)·local preference + (256 − component).
    public static func priority(typePreference: UInt32, localPreference: UInt32, component: UInt32) -> UInt32 {
        (typePreference << 24) | (localPreference << 8) | (256 - component)
    }
}
