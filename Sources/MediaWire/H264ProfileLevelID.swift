/// The `profile-level-id` of an H.264 `a=fmtp` line (RFC 6184 §8.1): three bytes in hex,
/// profile_idc, profile-iop (the constraint flags) and level_idc. Two descriptions match when
/// their profiles are the same, whatever the level (RFC 6184 §8.2.2: the level is negotiated
/// down, or may differ per direction with `level-asymmetry-allowed`); profiles are named from
/// profile_idc and the constraint flags as H.264 Annex A defines them, so 42e01f and 42c01f are
/// both Constrained Baseline.
public struct H264ProfileLevelID: Equatable, Hashable, Sendable, CustomStringConvertible {
    public enum Profile: String, Sendable, Hashable {
        case constrainedBaseline, baseline, main, extended, high, constrainedHigh, high10, high422, high444
    }

    public var profile: Profile
    public var profileIDC: UInt8
    public var profileIOP: UInt8
    public var levelIDC: UInt8

    /// RFC 6184 §8.1: without the parameter, Baseline at level 1.0 (42000a) is meant.
    public static let `default` = H264ProfileLevelID(profileIDC: 0x42, profileIOP: 0x00, levelIDC: 0x0A)!

    public init?(profileIDC: UInt8, profileIOP: UInt8, levelIDC: UInt8) {
        let set1 = profileIOP & 0x40 != 0
        let set4 = profileIOP & 0x08 != 0, set5 = profileIOP & 0x04 != 0
        let profile: Profile
        switch profileIDC {
        case 0x42: profile = set1 ? .constrainedBaseline : .baseline
        case 0x4D: profile = set1 ? .constrainedBaseline : .main  // Main with constraint_set1 is decodable as Constrained Baseline
        case 0x58: profile = set1 ? .constrainedBaseline : .extended
        case 0x64: profile = set4 && set5 ? .constrainedHigh : .high
        case 0x6E: profile = .high10
        case 0x7A: profile = .high422
        case 0xF4: profile = .high444
        default: return nil
        }
        self.profile = profile
        self.profileIDC = profileIDC
        self.profileIOP = profileIOP
        self.levelIDC = levelIDC
    }

    /// Parses six hex digits; nil for anything else or an unknown profile_idc.
    public init?(_ text: some StringProtocol) {
        guard text.utf8.count == 6, let v = UInt32(text, radix: 16) else { return nil }
        self.init(profileIDC: UInt8(v >> 16), profileIOP: UInt8((v >> 8) & 0xFF), levelIDC: UInt8(v & 0xFF))
    }

    /// The profile-level-id of an fmtp parameter list (`a=fmtp:102 level-asymmetry-allowed=1;
    /// packetization-mode=1;profile-level-id=42e01f`), the default when absent, nil when malformed.
    public static func from(fmtp parameters: some StringProtocol) -> H264ProfileLevelID? {
        guard let value = fmtpValue("profile-level-id", in: parameters) else { return .default }
        return H264ProfileLevelID(value)
    }

    /// RFC 6184 §8.1: packetization-mode, 0 when absent.
    public static func packetizationMode(fmtp parameters: some StringProtocol) -> Int {
        fmtpValue("packetization-mode", in: parameters).flatMap { Int($0) } ?? 0
    }

    static func fmtpValue(_ name: String, in parameters: some StringProtocol) -> Substring? {
        for item in String(parameters).split(separator: ";") {
            let pair = item.split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0].trimmingSpaces().lowercased() == name { return pair[1].trimmingSpaces() }
        }
        return nil
    }

    /// Same profile (levels may differ).
    public func matches(_ other: H264ProfileLevelID) -> Bool { profile == other.profile }

    public var description: String {
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: [profileIDC, profileIOP, levelIDC].flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 0xF)]] }, as: UTF8.self)
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
