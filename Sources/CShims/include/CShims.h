// The only C in Shihui: socket and event APIs that Glibc's Swift module map leaves out.
// `_GNU_SOURCE` must not be defined in a public header (it clashes with Dispatch's module over
// fd_set), so this header declares layout-identical types and the .c file does the real calls.
#ifndef SHIHUI_CSHIMS_H
#define SHIHUI_CSHIMS_H
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

/// Same layout as glibc's `struct mmsghdr` (checked by a static assert in shims.c).
typedef struct shihui_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
} shihui_mmsghdr;

/// recvmmsg(2) with MSG_DONTWAIT unless `blocking`. Returns count or -errno.
int shihui_recvmmsg(int fd, shihui_mmsghdr *msgs, unsigned int count, int blocking);
/// sendmmsg(2) with MSG_DONTWAIT. Returns count sent or -errno.
int shihui_sendmmsg(int fd, shihui_mmsghdr *msgs, unsigned int count);

/// Enables UDP GRO on the socket (Linux ≥ 5.0). 0 or -errno.
int shihui_enable_udp_gro(int fd);
/// Sets UDP_SEGMENT (GSO segment size) as a socket default. 0 or -errno.
int shihui_set_udp_segment(int fd, uint16_t segment_size);
/// Writes a UDP_SEGMENT control message into `control` (capacity `cap`). Returns bytes used or -1.
int shihui_cmsg_put_udp_segment(void *control, size_t cap, uint16_t segment_size);
/// Reads a UDP_GRO segment size from a received control buffer; 0 when absent.
int shihui_cmsg_get_udp_gro(const struct msghdr *msg);
/// Space one UDP_SEGMENT / UDP_GRO control message needs.
size_t shihui_cmsg_space_u16(void);
/// Enables IP_PKTINFO / IPV6_RECVPKTINFO so the local address of each datagram is known.
int shihui_enable_pktinfo(int fd, int ipv6);

/// epoll wrappers. Events use `events` bits from EPOLLIN/EPOLLOUT below and a 64-bit token.
int shihui_epoll_create(void);
int shihui_epoll_add(int epfd, int fd, uint32_t events, uint64_t token);
int shihui_epoll_mod(int epfd, int fd, uint32_t events, uint64_t token);
int shihui_epoll_del(int epfd, int fd);
typedef struct shihui_epoll_event { uint32_t events; uint64_t token; } shihui_epoll_event;
/// Waits; fills up to `max` events. Returns count or -errno.
int shihui_epoll_wait(int epfd, shihui_epoll_event *out, int max, int timeout_ms);
uint32_t shihui_EPOLLIN(void);
uint32_t shihui_EPOLLOUT(void);
uint32_t shihui_EPOLLERR(void);
uint32_t shihui_EPOLLHUP(void);
uint32_t shihui_EPOLLRDHUP(void);
uint32_t shihui_EPOLLET(void);

/// eventfd (non-blocking, close-on-exec); write 1 to wake a loop, read to drain.
int shihui_eventfd(void);
int shihui_eventfd_signal(int fd);
int shihui_eventfd_drain(int fd);
/// timerfd (CLOCK_MONOTONIC, non-blocking) armed periodically every `interval_ns`.
int shihui_timerfd_periodic(int64_t interval_ns);
/// Reads and returns the expiration count (0 when none).
uint64_t shihui_timerfd_drain(int fd);

/// glibc malloc_trim(0): returns free heap pages to the kernel (<malloc.h> is not in Glibc's
/// Swift module). Returns 1 if memory was released.
int shihui_malloc_trim(void);
/// glibc mallinfo2(), over all arenas: bytes in live allocations (uordblks + hblkhd, the
/// mmapped ones), and bytes malloc holds free (fordblks). Memory probes tell live memory from
/// what fragmentation keeps resident.
size_t shihui_heap_in_use(void);
size_t shihui_heap_free(void);

/// CLOCK_MONOTONIC in nanoseconds: the packet path's clock (no Foundation `Date`).
uint64_t shihui_monotonic_ns(void);
/// CLOCK_REALTIME in nanoseconds (the clock of the kernel's receive timestamps).
uint64_t shihui_realtime_ns(void);

/// Enables SO_TIMESTAMPNS: each datagram then carries the time the kernel received it
/// (CLOCK_REALTIME), for measuring when a packet arrived rather than when it was read. 0 or -errno.
int shihui_enable_rx_timestamps(int fd);
/// Reads an SCM_TIMESTAMPNS receive time (CLOCK_REALTIME, ns) from a received control buffer;
/// 0 when absent.
uint64_t shihui_cmsg_get_rx_timestamp_ns(const struct msghdr *msg);
/// Space one SCM_TIMESTAMPNS control message needs.
size_t shihui_cmsg_space_timestamp(void);
#endif
