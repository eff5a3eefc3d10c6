// OpenSSL 3 for Swift. Macros and constants Swift cannot import become inline functions here.
#ifndef SHIHUI_COPENSSL_SHIM_H
#define SHIHUI_COPENSSL_SHIM_H
/* The low-level SHA1_* calls (SRTP's HMAC with precomputed pads, MediaCrypto/SRTPCipher) are
   deprecated in OpenSSL 3 but present; this keeps their declarations free of the attribute. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/ssl.h>
#include <openssl/sha.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/pem.h>
#include <openssl/ec.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/srtp.h>
#include <sys/time.h>

static inline uint64_t shihui_SSL_OP_NO_QUERY_MTU(void) { return SSL_OP_NO_QUERY_MTU; }
static inline uint64_t shihui_SSL_OP_NO_TICKET(void) { return SSL_OP_NO_TICKET; }
static inline uint64_t shihui_SSL_OP_CIPHER_SERVER_PREFERENCE(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
static inline long shihui_SSL_set_mtu(SSL *ssl, long mtu) { return SSL_set_mtu(ssl, mtu); }
static inline long shihui_DTLS_set_link_mtu(SSL *ssl, long mtu) { return DTLS_set_link_mtu(ssl, mtu); }
static inline size_t shihui_BIO_pending(BIO *b) { return BIO_pending(b); }
static inline long shihui_BIO_set_mem_eof_return(BIO *b, long v) { return BIO_set_mem_eof_return(b, v); }
static inline int shihui_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) { return (int)SSL_CTX_set1_groups_list(ctx, list); }
static inline int shihui_SSL_get_negotiated_group(SSL *ssl) { return (int)SSL_get_negotiated_group(ssl); }
static inline long shihui_SSL_CTX_set_options(SSL_CTX *ctx, uint64_t op) { return (long)SSL_CTX_set_options(ctx, op); }
static inline long shihui_SSL_CTX_set_mode_release_buffers(SSL_CTX *ctx) { return (long)SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS); }
static inline long shihui_SSL_CTX_set_max_send_fragment(SSL_CTX *ctx, long n) { return SSL_CTX_set_max_send_fragment(ctx, n); }
static inline int shihui_SSL_CTX_set_read_ahead(SSL_CTX *ctx, int on) { return (int)SSL_CTX_set_read_ahead(ctx, on); }
static inline const EVP_MD *shihui_EVP_sha1(void) { return EVP_sha1(); }
/* DTLS timer macros (SSL_ctrl wrappers). */
static inline int shihui_DTLSv1_get_timeout_us(SSL *ssl, long long *microseconds) {
    struct timeval tv;
    if (DTLSv1_get_timeout(ssl, &tv) != 1) return 0;
    *microseconds = (long long)tv.tv_sec * 1000000 + tv.tv_usec;
    return 1;
}
static inline int shihui_DTLSv1_handle_timeout(SSL *ssl) { return (int)DTLSv1_handle_timeout(ssl); }
static inline int shihui_SSL_set_tlsext_host_name_none(SSL *ssl) { (void)ssl; return 1; }
static inline const EVP_MD *shihui_EVP_sha256(void) { return EVP_sha256(); }
#endif
