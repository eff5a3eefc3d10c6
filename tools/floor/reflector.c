// The physical floor for forwarding on this machine (issue 5): a minimal C reflector on the
// same packet pattern as the SFU. It receives RTP on one UDP socket (recvmmsg) and fans every
// packet out to every registered destination (sendmmsg, 64 per call). A destination registers
// by sending the 4-byte datagram "JOIN".
//
// srtp mode does the SFU's cryptographic work per packet with OpenSSL EVP, contexts reused:
// once per input packet HMAC-SHA1 over the packet and AES-128-CTR over its payload (the cost of
// an SRTP unprotect, RFC 3711 §3.3), and per destination AES-128-CTR over the payload plus an
// HMAC-SHA1-80 tag over header, payload and ROC (an SRTP protect). Keys are random per
// destination; the output is not meant to be decrypted, only to cost what SRTP costs (but see
// CLEAR: the send time stays readable).
//
// Usage: reflector ADDR PORT plain|srtp      (runs until SIGTERM/SIGINT)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH_IN 32
#define BATCH_OUT 64
#define SLOT 1600
#define MAX_DESTS 4096
#define TAG 10

typedef struct {
    struct sockaddr_in addr;
    EVP_CIPHER_CTX *cipher;
    EVP_MAC_CTX *mac;
    unsigned char salt[14];
} dest_t;

static volatile sig_atomic_t stop_flag = 0;
static void on_signal(int s) { (void)s; stop_flag = 1; }

static dest_t dests[MAX_DESTS];
static int ndests = 0;
static EVP_MAC *hmac_alg;

static EVP_MAC_CTX *new_mac(void) {
    unsigned char key[20];
    RAND_bytes(key, sizeof key);
    EVP_MAC_CTX *m = EVP_MAC_CTX_new(hmac_alg);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA1", 0), OSSL_PARAM_construct_end()};
    if (!m || !EVP_MAC_init(m, key, sizeof key, params)) { fprintf(stderr, "hmac init failed\n"); exit(1); }
    return m;
}

static EVP_CIPHER_CTX *new_cipher(void) {
    unsigned char key[16], iv[16] = {0};
    RAND_bytes(key, sizeof key);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c || !EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, key, iv)) { fprintf(stderr, "cipher init failed\n"); exit(1); }
    return c;
}

// RFC 3711 §4.1.1 counter: salt XOR (SSRC << 64 | index << 16).
static void make_iv(unsigned char iv[16], const unsigned char salt[14], const unsigned char *rtp) {
    memset(iv, 0, 16);
    memcpy(iv + 4, rtp + 8, 4);  // SSRC
    iv[12] = rtp[2];
    iv[13] = rtp[3];  // sequence number (ROC 0)
    for (int i = 0; i < 14; i++) iv[i] ^= salt[i];
}

static int header_length(const unsigned char *p, int n) {
    int h = 12 + 4 * (p[0] & 0x0F);
    if ((p[0] & 0x10) && h + 4 <= n) h += 4 + 4 * ((p[h + 2] << 8) | p[h + 3]);
    return h <= n ? h : n;
}

// HMAC-SHA1 over data||ROC, truncated to TAG bytes into out.
static void auth_tag(EVP_MAC_CTX *m, const unsigned char *data, int n, unsigned char *out) {
    static const unsigned char roc[4] = {0, 0, 0, 0};
    unsigned char full[20];
    size_t len = 0;
    EVP_MAC_init(m, NULL, 0, NULL);
    EVP_MAC_update(m, data, n);
    EVP_MAC_update(m, roc, 4);
    EVP_MAC_final(m, full, &len, sizeof full);
    memcpy(out, full, TAG);
}

// The first CLEAR payload bytes (the VP8 payload descriptor or Opus TOC, then the generator's
// 8-byte send time) are left unencrypted so that the generator can time the srtp floor as it
// times the SFU: 12 of ~1,180 bytes, 1 % less AES work than an SRTP protect.
#define CLEAR 12

static void ctr(EVP_CIPHER_CTX *c, const unsigned char salt[14], unsigned char *rtp, int n) {
    unsigned char iv[16];
    int h = header_length(rtp, n), out = 0;
    if (n - h > CLEAR) h += CLEAR;
    make_iv(iv, salt, rtp);
    EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv);
    EVP_EncryptUpdate(c, rtp + h, &out, rtp + h, n - h);
}

// Sends `pending` queued datagrams (a full socket buffer drops the rest, as UDP does); returns 0.
static int flush(int fd, struct mmsghdr *msgs, int pending) {
    int off = 0;
    while (off < pending) {
        int s = sendmmsg(fd, msgs + off, pending - off, MSG_DONTWAIT);
        if (s <= 0) break;
        off += s;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4 || (strcmp(argv[3], "plain") && strcmp(argv[3], "srtp"))) {
        fprintf(stderr, "usage: reflector ADDR PORT plain|srtp\n");
        return 2;
    }
    int srtp = strcmp(argv[3], "srtp") == 0;
    hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int size = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &local.sin_addr) != 1 || bind(fd, (struct sockaddr *)&local, sizeof local) != 0) {
        perror("bind");
        return 1;
    }
    struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};  // wake to notice SIGTERM
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    // The input side's contexts (one "unprotect" per received packet).
    EVP_CIPHER_CTX *in_cipher = new_cipher();
    EVP_MAC_CTX *in_mac = new_mac();
    unsigned char in_salt[14];
    RAND_bytes(in_salt, sizeof in_salt);

    static unsigned char in_buf[BATCH_IN][SLOT], out_buf[BATCH_OUT][SLOT];
    struct mmsghdr in_msgs[BATCH_IN], out_msgs[BATCH_OUT];
    struct iovec in_iov[BATCH_IN], out_iov[BATCH_OUT];
    struct sockaddr_in from[BATCH_IN];
    int pending = 0;
    printf("reflector listening on %s:%s (%s)\n", argv[1], argv[2], argv[3]);
    fflush(stdout);
    while (!stop_flag) {
        for (int i = 0; i < BATCH_IN; i++) {
            in_iov[i] = (struct iovec){in_buf[i], SLOT};
            in_msgs[i].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = sizeof from[i], .msg_iov = &in_iov[i], .msg_iovlen = 1};
        }
        int got = recvmmsg(fd, in_msgs, BATCH_IN, MSG_WAITFORONE, NULL);
        if (got <= 0) continue;
        for (int i = 0; i < got; i++) {
            unsigned char *p = in_buf[i];
            int n = (int)in_msgs[i].msg_len;
            if (n == 4 && memcmp(p, "JOIN", 4) == 0) {
                if (ndests < MAX_DESTS) {
                    dests[ndests].addr = from[i];
                    dests[ndests].cipher = new_cipher();
                    dests[ndests].mac = new_mac();
                    RAND_bytes(dests[ndests].salt, 14);
                    ndests++;
                }
                continue;
            }
            if (n < 12 || (p[0] & 0xC0) != 0x80 || n + TAG > SLOT) continue;
            if (srtp) {  // "unprotect": verify (tag ignored, as the sender does not make one) + decrypt
                unsigned char tag[TAG];
                n -= TAG;
                auth_tag(in_mac, p, n, tag);
                ctr(in_cipher, in_salt, p, n);
            }
            for (int d = 0; d < ndests; d++) {
                unsigned char *o = out_buf[pending];
                memcpy(o, p, n);
                int len = n;
                if (srtp) {  // protect for this destination
                    ctr(dests[d].cipher, dests[d].salt, o, n);
                    auth_tag(dests[d].mac, o, n, o + n);
                    len = n + TAG;
                }
                out_iov[pending] = (struct iovec){o, (size_t)len};
                out_msgs[pending].msg_hdr = (struct msghdr){.msg_name = &dests[d].addr, .msg_namelen = sizeof dests[d].addr,
                                                            .msg_iov = &out_iov[pending], .msg_iovlen = 1};
                if (++pending == BATCH_OUT) pending = flush(fd, out_msgs, pending);
            }
        }
        pending = flush(fd, out_msgs, pending);
    }
    return 0;
}
