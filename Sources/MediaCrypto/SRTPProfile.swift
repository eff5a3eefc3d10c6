/// The SRTP protection profiles Shihui negotiates over DTLS-SRTP (RFC 5764 §4.1.2, RFC 7714 §14.2).
public enum SRTPProfile: Sendable, Equatable {
    /// SRTP_AES128_CM_HMAC_SHA1_80 (0x0001): AES-128 counter mode, HMAC-SHA1 truncated to 80 bits.
    case aes128CmHmacSha1_80
    /// SRTP_AEAD_AES_128_GCM (0x0007): AES-128-GCM, 128-bit tag.
    case aeadAes128Gcm

    /// IANA "DTLS-SRTP Protection Profiles" value.
    public var dtlsValue: UInt16 { self == .aes128CmHmacSha1_80 ? 0x0001 : 0x0007 }
    /// OpenSSL's name for `SSL_CTX_set_tlsext_use_srtp`.
    public var openSSLName: String { self == .aes128CmHmacSha1_80 ? "SRTP_AES128_CM_SHA1_80" : "SRTP_AEAD_AES_128_GCM" }

    public init?(dtlsValue: UInt16) {
        switch dtlsValue {
        case 0x0001: self = .aes128CmHmacSha1_80
        case 0x0007: self = .aeadAes128Gcm
        default: return nil
        }
    }

    public var masterKeyLength: Int { 16 }
    /// Master (and session) salt: 112 bits for AES-CM (RFC 3711 §8.2), 96 bits for GCM (RFC 7714 §12).
    public var masterSaltLength: Int { self == .aes128CmHmacSha1_80 ? 14 : 12 }
    /// Bytes appended to each SRTP packet.
    public var tagLength: Int { self == .aes128CmHmacSha1_80 ? 10 : 16 }
    var authKeyLength: Int { self == .aes128CmHmacSha1_80 ? 20 : 0 }
}

/// Why an SRTP or SRTCP packet was refused (the caller counts and drops it).
public enum SRTPError: Error, Equatable, Sendable {
    /// Shorter than its header (and tag) require, or its header is malformed.
    case malformed
    /// The authentication tag does not verify (forged, corrupted, or wrong keys).
    case authenticationFailed
    /// Already received, or older than the replay window (RFC 3711 §3.3.2).
    case replayed
    /// The caller's buffer cannot hold the tag that protection appends.
    case noCapacity
}
