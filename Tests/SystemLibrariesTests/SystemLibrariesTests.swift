import Testing
import Glibc
import CShims
import COpus
import CVPX
import COpenSSL
import CSQLite
import CTurboJPEG

/// Each system library links and works through its module map and shim: the set-up the
/// Makefile installs is complete, and the wrappers for macros and variadic calls behave.
struct SystemLibrariesTests {
    /// libopus: encoder control through the shim, then a 20 ms frame encodes and decodes.
    @Test func opusEncodeDecode() throws {
        var error: Int32 = 0
        let encoder = try #require(opus_encoder_create(48000, 2, OPUS_APPLICATION_VOIP, &error))
        defer { opus_encoder_destroy(encoder) }
        #expect(error == OPUS_OK)
        #expect(shihui_opus_set_bitrate(encoder, 32000) == OPUS_OK)
        #expect(shihui_opus_set_inband_fec(encoder, 1) == OPUS_OK)
        let pcm = (0..<(960 * 2)).map { Int16(truncatingIfNeeded: Int(8000 * sin(Double($0 / 2) * 0.05))) }
        var packet = [UInt8](repeating: 0, count: 1500)
        let n = opus_encode(encoder, pcm, 960, &packet, 1500)
        #expect(n > 0)
        let decoder = try #require(opus_decoder_create(48000, 2, &error))
        defer { opus_decoder_destroy(decoder) }
        var out = [Int16](repeating: 0, count: 960 * 2)
        #expect(opus_decode(decoder, packet, n, &out, 960, 0) == 960)
    }

    /// libvpx: the init macros and codec controls work through the shim; a frame encodes to a keyframe.
    @Test func vpxEncode() throws {
        var cfg = vpx_codec_enc_cfg_t()
        #expect(vpx_codec_enc_config_default(shihui_vpx_vp8_encoder(), &cfg, 0) == VPX_CODEC_OK)
        cfg.g_w = 64
        cfg.g_h = 64
        var codec = vpx_codec_ctx_t()
        #expect(shihui_vpx_enc_init(&codec, &cfg, 0) == VPX_CODEC_OK)
        defer { vpx_codec_destroy(&codec) }
        #expect(shihui_vpx_set_cpuused(&codec, 8) == VPX_CODEC_OK)
        var image = vpx_image_t()
        let pixels = UnsafeMutablePointer<UInt8>.allocate(capacity: 64 * 64 * 3 / 2)
        defer { pixels.deallocate() }
        pixels.initialize(repeating: 128, count: 64 * 64 * 3 / 2)
        #expect(vpx_img_wrap(&image, VPX_IMG_FMT_I420, 64, 64, 1, pixels) != nil)
        #expect(vpx_codec_encode(&codec, &image, 0, 1, 0, UInt(VPX_DL_REALTIME)) == VPX_CODEC_OK)
        var iterator: vpx_codec_iter_t? = nil
        let packet = try #require(vpx_codec_get_cx_data(&codec, &iterator))
        #expect(packet.pointee.kind == VPX_CODEC_CX_FRAME_PKT)
        let frame = packet.pointee.data.frame
        #expect(frame.flags & UInt32(VPX_FRAME_IS_KEY) != 0 && frame.sz > 10)
        // The VP8 keyframe start code (RFC 6386 §9.1) is where MediaWire looks for it.
        let bytes = frame.buf.assumingMemoryBound(to: UInt8.self)
        #expect(bytes[3] == 0x9D && bytes[4] == 0x01 && bytes[5] == 0x2A)
    }

    /// OpenSSL 3: version and the shim's constants and macro wrappers.
    @Test func openSSL() throws {
        #expect(OpenSSL_version_num() >= 0x3000_0000)
        #expect(shihui_SSL_OP_NO_TICKET() != 0)
        let ctx = try #require(SSL_CTX_new(DTLS_method()))
        defer { SSL_CTX_free(ctx) }
        // Returns 0 on success (the inverse of most OpenSSL calls).
        #expect(SSL_CTX_set_tlsext_use_srtp(ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") == 0)
        #expect(shihui_SSL_CTX_set1_groups_list(ctx, "P-256") == 1)
    }

    /// SQLite: an in-memory database answers a query.
    @Test func sqlite() throws {
        var db: OpaquePointer?
        #expect(sqlite3_open(":memory:", &db) == SQLITE_OK)
        defer { sqlite3_close(db) }
        var statement: OpaquePointer?
        #expect(sqlite3_prepare_v2(db, "SELECT 6 * 7", -1, &statement, nil) == SQLITE_OK)
        defer { sqlite3_finalize(statement) }
        #expect(sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_int(statement, 0) == 42)
    }

    /// libjpeg-turbo: a gray image compresses to a JPEG (SOI marker first).
    @Test func turboJPEG() throws {
        let handle = try #require(tjInitCompress())
        defer { tjDestroy(handle) }
        let pixels = [UInt8](repeating: 200, count: 16 * 16 * 3)
        var jpeg: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        #expect(tjCompress2(handle, pixels, 16, 0, 16, Int32(TJPF_RGB.rawValue), &jpeg, &size, Int32(TJSAMP_420.rawValue), 80, 0) == 0)
        defer { tjFree(jpeg) }
        #expect(size > 100 && jpeg?[0] == 0xFF && jpeg?[1] == 0xD8)
    }

    /// CShims: sendmmsg/recvmmsg move a batch of datagrams over 127.0.0.1 in one call each.
    @Test func batchedUDPOnLoopback() throws {
        func socketBound() -> (Int32, sockaddr_in) {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &len) } }
            return (fd, addr)
        }
        let (receiver, receiverAddress) = socketBound()
        let (sender, _) = socketBound()
        defer { close(receiver); close(sender) }
        let count = 8
        var payloads = (0..<count).map { [UInt8](repeating: UInt8($0), count: 100 + $0) }
        var destination = receiverAddress
        var iovecs = [iovec](repeating: iovec(), count: count)
        var headers = [shihui_mmsghdr](repeating: shihui_mmsghdr(), count: count)
        let sent: Int32 = payloads.withUnsafeMutableBufferPointer { p in
            withUnsafeMutablePointer(to: &destination) { dest in
                for i in 0..<count {
                    iovecs[i] = iovec(iov_base: UnsafeMutableRawPointer(mutating: p[i].withUnsafeBytes { $0.baseAddress! }), iov_len: p[i].count)
                }
                return iovecs.withUnsafeMutableBufferPointer { iov in
                    for i in 0..<count {
                        headers[i].msg_hdr.msg_name = UnsafeMutableRawPointer(dest)
                        headers[i].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
                        headers[i].msg_hdr.msg_iov = iov.baseAddress! + i
                        headers[i].msg_hdr.msg_iovlen = 1
                    }
                    return shihui_sendmmsg(sender, &headers, UInt32(count))
                }
            }
        }
        #expect(sent == Int32(count))
        var buffers = [UInt8](repeating: 0, count: count * 2048)
        var receiveHeaders = [shihui_mmsghdr](repeating: shihui_mmsghdr(), count: count)
        var receiveIovecs = [iovec](repeating: iovec(), count: count)
        var got: Int32 = 0
        buffers.withUnsafeMutableBytes { b in
            receiveIovecs.withUnsafeMutableBufferPointer { iov in
                for i in 0..<count {
                    iov[i] = iovec(iov_base: b.baseAddress! + i * 2048, iov_len: 2048)
                    receiveHeaders[i].msg_hdr.msg_iov = iov.baseAddress! + i
                    receiveHeaders[i].msg_hdr.msg_iovlen = 1
                }
                // Loopback delivery is synchronous; block until the first datagram, then take the rest.
                got = shihui_recvmmsg(receiver, &receiveHeaders, UInt32(count), 1)
            }
        }
        #expect(got == Int32(count))
        for i in 0..<Int(got) {
            #expect(receiveHeaders[i].msg_len == UInt32(100 + i))
            #expect(buffers[i * 2048] == UInt8(i))
        }
    }

    /// CShims: eventfd wakes epoll with its token; timerfd fires; the monotonic clock advances.
    @Test func epollEventfdTimerfd() throws {
        let ep = shihui_epoll_create()
        let ev = shihui_eventfd()
        let timer = shihui_timerfd_periodic(1_000_000)  // 1 ms
        defer { close(ep); close(ev); close(timer) }
        #expect(ep >= 0 && ev >= 0 && timer >= 0)
        #expect(shihui_epoll_add(ep, ev, shihui_EPOLLIN(), 42) == 0)
        var events = [shihui_epoll_event](repeating: shihui_epoll_event(), count: 4)
        #expect(shihui_epoll_wait(ep, &events, 4, 0) == 0)
        #expect(shihui_eventfd_signal(ev) == 0)
        #expect(shihui_epoll_wait(ep, &events, 4, 1000) == 1 && events[0].token == 42)
        #expect(shihui_eventfd_drain(ev) == 0)
        #expect(shihui_epoll_add(ep, timer, shihui_EPOLLIN(), 7) == 0)
        let start = shihui_monotonic_ns()
        #expect(shihui_epoll_wait(ep, &events, 4, 1000) == 1 && events[0].token == 7)
        #expect(shihui_timerfd_drain(timer) >= 1)
        #expect(shihui_monotonic_ns() > start)
    }

    /// CShims: a UDP_SEGMENT control message is written in the space the helper reports.
    @Test func gsoControlMessage() {
        var control = [UInt8](repeating: 0, count: 64)
        let used = control.withUnsafeMutableBytes { shihui_cmsg_put_udp_segment($0.baseAddress!, 64, 1200) }
        #expect(used == Int32(shihui_cmsg_space_u16()))
        #expect(control.withUnsafeMutableBytes { shihui_cmsg_put_udp_segment($0.baseAddress!, 4, 1200) } == -1)
    }
}
