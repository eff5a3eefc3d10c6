import Foundation
import MediaWire
import SFU

/// An RTSP 1.0 client session (RFC 2326) as a state machine: `start`, then each response and
/// the clock in, requests out. OPTIONS, DESCRIBE (answering a 401 once with Basic or Digest),
/// SETUP of each video and audio track over TCP, interleaved (§10.12: RTP on channel 2i, RTCP on
/// 2i+1), PLAY, then a keep-alive within the session's timeout; `stop` sends TEARDOWN. No I/O:
/// the caller owns the connection.
public struct RTSPClientSession: Sendable {
    /// A track the camera describes (its SDP media section).
    public struct Track: Equatable, Sendable {
        public var kind: MediaKind
        public var payloadType: UInt8
        public var encodingName: String
        public var clockRate: UInt32
        public var formatParameters: String
        /// The URL its SETUP names (`a=control`, resolved against Content-Base).
        public var control: String
        /// Interleaved channel of its RTP (RTCP is the next one).
        public var channel: UInt8
    }

    public enum State: Equatable, Sendable { case idle, options, describing, settingUp(Int), starting, playing, failed(String), closed }

    public enum Action: Equatable, Sendable {
        case send([UInt8])
        /// PLAY was answered: media flows on the tracks' channels.
        case playing([Track])
        case failed(String)
    }

    public let url: RTSPURL
    public private(set) var state: State = .idle
    public private(set) var tracks: [Track] = []
    public private(set) var session: String?
    /// Seconds the server keeps a silent session (`Session: …;timeout=`, RFC 2326 §12.37; 60 by default).
    public private(set) var sessionTimeout = 60
    /// An answer not come in this long fails the session.
    public var responseTimeout: UInt64 = 10_000_000_000

    private var cseq = 0
    private var pending: (cseq: Int, method: String, uri: String, sentAt: UInt64)?
    private var challenge: RTSPAuthentication.Challenge?
    private var nonceCount = 0
    private var retriedAuthentication = false
    private var lastRequestAt: UInt64 = 0
    private let clientNonce: String
    static let userAgent = "shihui"

    public init(url: RTSPURL, clientNonce: String) {
        self.url = url
        self.clientNonce = clientNonce
    }

    public mutating func start(now: UInt64) -> [Action] {
        state = .options
        return [request("OPTIONS", url.requestURL, now: now)]
    }

    public mutating func stop(now: UInt64) -> [Action] {
        defer { state = .closed }
        guard session != nil, state == .playing || state == .starting else { return [] }
        return [request("TEARDOWN", url.requestURL, now: now)]
    }

    private mutating func fail(_ why: String) -> [Action] {
        state = .failed(why)
        return [.failed(why)]
    }

    private mutating func request(_ method: String, _ uri: String, headers extra: [String] = [], now: UInt64) -> Action {
        cseq += 1
        var lines = ["\(method) \(uri) RTSP/1.0", "CSeq: \(cseq)", "User-Agent: \(Self.userAgent)"]
        if let session { lines.append("Session: \(session)") }
        if let challenge, let user = url.user {
            nonceCount += 1
            lines.append("Authorization: " + RTSPAuthentication.authorization(challenge, user: user, password: url.password ?? "", method: method,
                                                                             uri: uri, nonceCount: nonceCount, clientNonce: clientNonce))
        }
        lines += extra
        pending = (cseq, method, uri, now)
        lastRequestAt = now
        return .send(Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8))
    }

    public mutating func receive(_ response: RTSPMessageParser.Response, now: UInt64) -> [Action] {
        guard let sent = pending else { return [] }  // unsolicited: ignored
        guard response.header("CSeq").flatMap({ Int($0) }) == sent.cseq else { return fail("answer with CSeq \(response.header("CSeq") ?? "none") to request \(sent.cseq)") }
        pending = nil
        if response.status == 401 {
            guard url.user != nil else { return fail("the camera wants credentials (401) and the URL has none") }
            guard !retriedAuthentication, let header = response.header("WWW-Authenticate"), let c = RTSPAuthentication.challenge(header) else {
                return fail("the camera refused the credentials (401 to \(sent.method))")
            }
            challenge = c
            retriedAuthentication = true
            return [request(sent.method, sent.uri, headers: transportHeader(for: sent.method), now: now)]
        }
        guard (200..<300).contains(response.status) else { return fail("\(sent.method) answered \(response.status) \(response.reason)") }
        retriedAuthentication = false
        switch state {
        case .options:
            state = .describing
            return [request("DESCRIBE", url.requestURL, headers: ["Accept: application/sdp"], now: now)]
        case .describing:
            guard response.header("Content-Type")?.lowercased().hasPrefix("application/sdp") == true,
                  let text = String(validating: response.body, as: UTF8.self) else { return fail("DESCRIBE answered no SDP") }
            let sdp: SessionDescription
            do throws(WireError) { sdp = try SessionDescription.parse(text) } catch { return fail("the camera's SDP: \(error.sentence)") }
            let base = response.header("Content-Base") ?? response.header("Content-Location") ?? url.requestURL
            tracks = Self.tracks(in: sdp, base: base)
            guard !tracks.isEmpty else { return fail("the camera's SDP has no video or audio with an rtpmap") }
            state = .settingUp(0)
            return [request("SETUP", tracks[0].control, headers: transportHeader(for: "SETUP"), now: now)]
        case .settingUp(let i):
            guard let header = response.header("Session") else { return fail("SETUP answered no Session") }
            let parts = header.split(separator: ";")
            session = parts.first.map { String($0).trimmingCharacters(in: .whitespaces) }
            for p in parts.dropFirst() where p.trimmingCharacters(in: .whitespaces).lowercased().hasPrefix("timeout=") {
                if let t = Int(p.split(separator: "=")[1]), (5...3600).contains(t) { sessionTimeout = t }
            }
            if i + 1 < tracks.count {
                state = .settingUp(i + 1)
                return [request("SETUP", tracks[i + 1].control, headers: transportHeader(for: "SETUP"), now: now)]
            }
            state = .starting
            return [request("PLAY", url.requestURL, headers: ["Range: npt=0.000-"], now: now)]
        case .starting:
            state = .playing
            return [.playing(tracks)]
        default:
            return []  // a keep-alive's answer
        }
    }

    /// The Transport header of the SETUP in flight (its track's channel pair).
    private func transportHeader(for method: String) -> [String] {
        guard method == "SETUP", case .settingUp(let i) = state else { return [] }
        return ["Transport: RTP/AVP/TCP;unicast;interleaved=\(tracks[i].channel)-\(tracks[i].channel + 1)"]
    }

    /// Keep-alive (GET_PARAMETER at half the session timeout) and the answer timeout.
    public mutating func tick(now: UInt64) -> [Action] {
        if let sent = pending, now > sent.sentAt, now - sent.sentAt > responseTimeout {
            return fail("no answer to \(sent.method) within \(responseTimeout / 1_000_000_000) s")
        }
        guard state == .playing, pending == nil, now > lastRequestAt, now - lastRequestAt >= UInt64(sessionTimeout) * 500_000_000 else { return [] }
        return [request("GET_PARAMETER", url.requestURL, now: now)]
    }

    /// Video and audio sections with an rtpmap, each with its control URL and channel pair.
    static func tracks(in sdp: SessionDescription, base: String) -> [Track] {
        var out: [Track] = []
        for m in sdp.media {
            guard let kind = MediaKind(sdp: m.kind), let pt = m.payloadTypes.first,
                  let map = (try? m.values(SDPRTPMap.self))?.first(where: { $0.payloadType == pt }) else { continue }
            let fmtp = (try? m.values(SDPFormatParameters.self))?.first { $0.payloadType == pt }?.text ?? ""
            let control = m.attribute("control") ?? "*"
            let resolved: String
            if control.lowercased().hasPrefix("rtsp://") { resolved = control }
            else if control == "*" { resolved = base }
            else { resolved = base.hasSuffix("/") ? base + control : base + "/" + control }
            out.append(Track(kind: kind, payloadType: pt, encodingName: map.encodingName, clockRate: map.clockRate, formatParameters: fmtp,
                             control: resolved, channel: UInt8(2 * out.count)))
            if out.count == 2 { break }
        }
        return out
    }
}
