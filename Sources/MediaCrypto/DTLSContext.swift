import COpenSSL

/// The shared OpenSSL SSL_CTX for DTLS-SRTP (RFC 5764): our certificate, peer certificates
/// requested but accepted whatever their issuer (the SDP fingerprint authenticates them, checked
/// by `DTLSTransport` after the handshake), and the SRTP profiles in preference order.
///
/// @unchecked Sendable: configured once in `init`, then only used to create SSL objects, which
/// OpenSSL allows from any thread.
public final class DTLSContext: @unchecked Sendable {
    let ctx: OpaquePointer
    public let certificate: DTLSCertificate
    public let profiles: [SRTPProfile]

    public init(certificate: DTLSCertificate, profiles: [SRTPProfile] = [.aeadAes128Gcm, .aes128CmHmacSha1_80]) {
        self.certificate = certificate
        self.profiles = profiles
        ctx = SSL_CTX_new(DTLS_method())!
        precondition(SSL_CTX_use_certificate(ctx, certificate.certificate) == 1)
        precondition(SSL_CTX_use_PrivateKey(ctx, certificate.key) == 1)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT) { _, _ in 1 }
        // 0 means success for this call (unlike most of OpenSSL).
        precondition(SSL_CTX_set_tlsext_use_srtp(ctx, profiles.map(\.openSSLName).joined(separator: ":")) == 0)
        // No session tickets: WebRTC peers do not resume DTLS sessions, and issuing a ticket to a
        // client that offers the extension (OpenSSL's does) encrypts the whole session into a
        // NewSessionTicket: 880–985 → 755–862 µs per in-memory handshake pair (sfu-bench --memory).
        _ = shihui_SSL_CTX_set_options(ctx, shihui_SSL_OP_NO_QUERY_MTU() | shihui_SSL_OP_NO_TICKET())
        // X25519 first, as browsers offer it: its ECDHE needs no public-key check, where P-256's
        // (EVP_PKEY_public_check, a full scalar multiplication in OpenSSL 3.0) was 12.6 % of a
        // handshake pair's instructions (callgrind of sfu-bench --memory).
        _ = shihui_SSL_CTX_set1_groups_list(ctx, "X25519:P-256")
        _ = shihui_SSL_CTX_set_read_ahead(ctx, 1)
        // After the handshake a DTLS-SRTP association is idle (SRTP bypasses it): let OpenSSL
        // free its record buffers between uses (~34 KiB per peer connection).
        _ = shihui_SSL_CTX_set_mode_release_buffers(ctx)
        // Records never exceed one datagram (MTU 1200), so the write buffer need not hold 16 KiB.
        _ = shihui_SSL_CTX_set_max_send_fragment(ctx, 1200)
    }

    deinit { SSL_CTX_free(ctx) }
}
