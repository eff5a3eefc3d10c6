// Implementation of CShims.h. _GNU_SOURCE is defined here only (see the header).
#define _GNU_SOURCE
#include "CShims.h"
#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

_Static_assert(sizeof(shihui_mmsghdr) == sizeof(struct mmsghdr), "mmsghdr layout");
_Static_assert(offsetof(shihui_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len), "mmsghdr layout");

int shihui_recvmmsg(int fd, shihui_mmsghdr *msgs, unsigned int count, int blocking) {
    int n = recvmmsg(fd, (struct mmsghdr *)msgs, count, blocking ? MSG_WAITFORONE : MSG_DONTWAIT, NULL);
    return n < 0 ? -errno : n;
}

int shihui_sendmmsg(int fd, shihui_mmsghdr *msgs, unsigned int count) {
    int n = sendmmsg(fd, (struct mmsghdr *)msgs, count, MSG_DONTWAIT);
    return n < 0 ? -errno : n;
}

int shihui_enable_udp_gro(int fd) {
    int on = 1;
    return setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on) < 0 ? -errno : 0;
}

int shihui_set_udp_segment(int fd, uint16_t segment_size) {
    int v = segment_size;
    return setsockopt(fd, SOL_UDP, UDP_SEGMENT, &v, sizeof v) < 0 ? -errno : 0;
}

size_t shihui_cmsg_space_u16(void) { return CMSG_SPACE(sizeof(uint16_t)); }

int shihui_cmsg_put_udp_segment(void *control, size_t cap, uint16_t segment_size) {
    if (cap < CMSG_SPACE(sizeof(uint16_t))) return -1;
    memset(control, 0, CMSG_SPACE(sizeof(uint16_t)));
    struct cmsghdr *c = (struct cmsghdr *)control;
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    memcpy(CMSG_DATA(c), &segment_size, sizeof segment_size);
    return (int)CMSG_SPACE(sizeof(uint16_t));
}

int shihui_cmsg_get_udp_gro(const struct msghdr *msg) {
    for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
            int v = 0;
            size_t n = c->cmsg_len - CMSG_LEN(0);
            memcpy(&v, CMSG_DATA(c), n < sizeof v ? n : sizeof v);
            return v;
        }
    }
    return 0;
}

int shihui_enable_pktinfo(int fd, int ipv6) {
    int on = 1;
    int r = ipv6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on)
                 : setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
    return r < 0 ? -errno : 0;
}

int shihui_epoll_create(void) { int r = epoll_create1(EPOLL_CLOEXEC); return r < 0 ? -errno : r; }

static int epoll_ctl_token(int epfd, int op, int fd, uint32_t events, uint64_t token) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = token;
    return epoll_ctl(epfd, op, fd, &ev) < 0 ? -errno : 0;
}
int shihui_epoll_add(int epfd, int fd, uint32_t events, uint64_t token) { return epoll_ctl_token(epfd, EPOLL_CTL_ADD, fd, events, token); }
int shihui_epoll_mod(int epfd, int fd, uint32_t events, uint64_t token) { return epoll_ctl_token(epfd, EPOLL_CTL_MOD, fd, events, token); }
int shihui_epoll_del(int epfd, int fd) { return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0; }

int shihui_epoll_wait(int epfd, shihui_epoll_event *out, int max, int timeout_ms) {
    struct epoll_event evs[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    if (n < 0) return -errno;
    for (int i = 0; i < n; i++) { out[i].events = evs[i].events; out[i].token = evs[i].data.u64; }
    return n;
}
uint32_t shihui_EPOLLIN(void) { return EPOLLIN; }
uint32_t shihui_EPOLLOUT(void) { return EPOLLOUT; }
uint32_t shihui_EPOLLERR(void) { return EPOLLERR; }
uint32_t shihui_EPOLLHUP(void) { return EPOLLHUP; }
uint32_t shihui_EPOLLRDHUP(void) { return EPOLLRDHUP; }
uint32_t shihui_EPOLLET(void) { return EPOLLET; }

int shihui_eventfd(void) { int r = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); return r < 0 ? -errno : r; }
int shihui_eventfd_signal(int fd) { uint64_t one = 1; return write(fd, &one, sizeof one) < 0 ? -errno : 0; }
int shihui_eventfd_drain(int fd) { uint64_t v; return read(fd, &v, sizeof v) < 0 ? -errno : 0; }

int shihui_timerfd_periodic(int64_t interval_ns) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) return -errno;
    struct itimerspec its;
    its.it_interval.tv_sec = interval_ns / 1000000000;
    its.it_interval.tv_nsec = interval_ns % 1000000000;
    its.it_value = its.it_interval;
    if (timerfd_settime(fd, 0, &its, NULL) < 0) { int e = errno; close(fd); return -e; }
    return fd;
}
uint64_t shihui_timerfd_drain(int fd) { uint64_t n = 0; return read(fd, &n, sizeof n) == sizeof n ? n : 0; }

uint64_t shihui_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t shihui_realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int shihui_enable_rx_timestamps(int fd) {
    int on = 1;
    return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0 ? -errno : 0;
}

uint64_t shihui_cmsg_get_rx_timestamp_ns(const struct msghdr *msg) {
    for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS && c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof ts);
            return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        }
    }
    return 0;
}

size_t shihui_cmsg_space_timestamp(void) { return CMSG_SPACE(sizeof(struct timespec)); }

int shihui_malloc_trim(void) { return malloc_trim(0); }
size_t shihui_heap_in_use(void) { struct mallinfo2 m = mallinfo2(); return m.uordblks + m.hblkhd; }
size_t shihui_heap_free(void) { return mallinfo2().fordblks; }
