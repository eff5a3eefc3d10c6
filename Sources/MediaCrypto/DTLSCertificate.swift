import COpenSSL
import Foundation

/// The server's DTLS identity: an ECDSA P-256 key and a self-signed certificate (WebRTC peers
/// authenticate by the fingerprint in SDP, RFC 8122 / RFC 8842, not by a CA), persisted as PEM in the
/// data directory so the fingerprint survives restarts.
///
/// @unchecked Sendable: immutable after creation; OpenSSL key and certificate objects are only read
/// (reference-counted by OpenSSL when an SSL_CTX uses them).
public final class DTLSCertificate: @unchecked Sendable {
    let key: OpaquePointer
    let certificate: OpaquePointer
    /// SHA-256 of the DER certificate (for a=fingerprint).
    public let fingerprint: [UInt8]

    public enum Error: Swift.Error, Equatable { case generation(String), io(String), invalidPEM }

    private init(key: OpaquePointer, certificate: OpaquePointer) {
        self.key = key
        self.certificate = certificate
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        precondition(X509_digest(certificate, EVP_sha256(), &digest, &length) == 1 && length == 32)
        fingerprint = digest
    }

    deinit {
        EVP_PKEY_free(key)
        X509_free(certificate)
    }

    /// A new key pair and certificate (CN "shihui", valid from yesterday for 365 days).
    public static func generate() throws(Error) -> DTLSCertificate {
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw .generation("EVP_PKEY_CTX_new_from_name") }
        defer { EVP_PKEY_CTX_free(ctx) }
        var pkey: OpaquePointer? = nil
        guard EVP_PKEY_keygen_init(ctx) == 1, EVP_PKEY_CTX_set_group_name(ctx, "P-256") == 1,
              EVP_PKEY_generate(ctx, &pkey) == 1, let pkey else { throw .generation("P-256 key") }
        guard let x509 = X509_new() else { EVP_PKEY_free(pkey); throw .generation("X509_new") }
        X509_set_version(x509, 2)
        ASN1_INTEGER_set(X509_get_serialNumber(x509), Int(SecureRandom.uint32() & 0x7FFF_FFFF))
        X509_gmtime_adj(X509_getm_notBefore(x509), -86_400)
        X509_gmtime_adj(X509_getm_notAfter(x509), 365 * 86_400)
        X509_set_pubkey(x509, pkey)
        let name = X509_get_subject_name(x509)
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, "shihui", -1, -1, 0)
        X509_set_issuer_name(x509, name)
        guard X509_sign(x509, pkey, EVP_sha256()) > 0 else {
            EVP_PKEY_free(pkey)
            X509_free(x509)
            throw .generation("X509_sign")
        }
        return DTLSCertificate(key: pkey, certificate: x509)
    }

    /// PEM of the private key followed by the certificate.
    public func pem() -> String {
        let bio = BIO_new(BIO_s_mem())!
        defer { BIO_free(bio) }
        PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil)
        PEM_write_bio_X509(bio, certificate)
        var pointer: UnsafeMutablePointer<CChar>? = nil
        let n = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &pointer)
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: n), as: UTF8.self)
    }

    public static func load(pem: String) throws(Error) -> DTLSCertificate {
        let bytes = Array(pem.utf8)
        func bio() -> OpaquePointer { bytes.withUnsafeBytes { BIO_new_mem_buf($0.baseAddress, Int32($0.count))! } }
        let keyBIO = bio(), certBIO = bio()
        defer { BIO_free(keyBIO); BIO_free(certBIO) }
        guard let key = PEM_read_bio_PrivateKey(keyBIO, nil, nil, nil) else { throw .invalidPEM }
        guard let cert = PEM_read_bio_X509(certBIO, nil, nil, nil) else { EVP_PKEY_free(key); throw .invalidPEM }
        guard X509_check_private_key(cert, key) == 1 else { EVP_PKEY_free(key); X509_free(cert); throw .invalidPEM }
        return DTLSCertificate(key: key, certificate: cert)
    }

    /// Loads `path`, or generates a certificate and writes it there with mode 0600.
    public static func loadOrCreate(path: String) throws(Error) -> DTLSCertificate {
        if let pem = try? String(contentsOfFile: path, encoding: .utf8) { return try load(pem: pem) }
        let created = try generate()
        guard FileManager.default.createFile(atPath: path, contents: Data(created.pem().utf8), attributes: [.posixPermissions: 0o600]) else {
            throw .io("cannot write \(path)")
        }
        return created
    }
}
