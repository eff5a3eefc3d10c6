import CShims
import MediaCrypto
import MediaIO
import SFU
import ServerIO

/// Prometheus text exposition format 0.0.4 for /metrics.
enum Metrics {
    static func render(rooms: Int, participants: Int, server: ServerStats, webSocketMessagesIn: Int, webSocketMessagesOut: Int,
                       media: MediaRouter.Stats?, wakeups: WakeupHistogram? = nil) -> String {
        var out = ""
        func gauge(_ name: String, _ help: String, _ value: Int) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name) \(value)\n"
        }
        func counter(_ name: String, _ help: String, _ value: Int) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) counter\n\(name) \(value)\n"
        }
        gauge("shihui_rooms", "Rooms open.", rooms)
        gauge("shihui_participants", "Participants connected to a room.", participants)
        gauge("shihui_websocket_connections", "Open signaling WebSocket connections.", server.openWebSockets)
        gauge("shihui_http_connections", "Open TCP connections to the signaling server.", server.openConnections)
        // Live heap (glibc mallinfo2): with the process RSS, tells memory in use from pages that
        // heap fragmentation keeps resident (docs/PERFORMANCE.md, memory per subscriber).
        gauge("shihui_heap_bytes_in_use", "Bytes in live heap allocations (glibc mallinfo2 uordblks + hblkhd).", Int(shihui_heap_in_use()))
        gauge("shihui_heap_bytes_free", "Bytes the allocator holds free (glibc mallinfo2 fordblks).", Int(shihui_heap_free()))
        // OpenSSL's own heap (MediaCrypto.CryptoHeap): live bytes are not in the figures above.
        let crypto = CryptoHeap.usage
        gauge("shihui_crypto_heap_bytes_mapped", "Bytes mapped by OpenSSL's heap (slabs and large blocks; 0 when OpenSSL uses malloc).", crypto.mappedBytes)
        gauge("shihui_crypto_heap_bytes_in_use", "Bytes in live OpenSSL allocations in its heap.", crypto.liveBytes)
        counter("shihui_crypto_heap_allocations_total", "Allocations OpenSSL made from its heap (none per packet: handshakes and contexts only).", crypto.allocations)
        counter("shihui_http_connections_accepted_total", "TCP connections accepted.", server.connectionsAccepted)
        counter("shihui_http_connections_refused_total", "TCP connections refused (limit or shutdown).", server.connectionsRefused)
        counter("shihui_http_timeouts_total", "Requests or WebSockets closed by a timeout.", server.timeouts)
        out += "# HELP shihui_http_requests_total HTTP responses sent, by status code.\n# TYPE shihui_http_requests_total counter\n"
        for (code, n) in server.responsesByStatus.sorted(by: { $0.key < $1.key }) {
            out += "shihui_http_requests_total{code=\"\(code)\"} \(n)\n"
        }
        counter("shihui_signaling_bytes_received_total", "Bytes received on signaling connections.", server.bytesReceived)
        counter("shihui_signaling_bytes_sent_total", "Bytes sent on signaling connections.", server.bytesSent)
        counter("shihui_signaling_messages_received_total", "WebSocket text messages received.", webSocketMessagesIn)
        counter("shihui_signaling_messages_sent_total", "WebSocket text messages sent.", webSocketMessagesOut)
        if let media {
            counter("shihui_media_packets_received_total", "UDP datagrams received on the media port.", media.packetsIn)
            counter("shihui_media_bytes_received_total", "Bytes received on the media port.", media.bytesIn)
            counter("shihui_media_packets_sent_total", "RTP packets forwarded to subscribers.", media.packetsOut)
            counter("shihui_media_bytes_sent_total", "Bytes of RTP forwarded to subscribers.", media.bytesOut)
            counter("shihui_media_dropped_unknown_source_total", "Datagrams from a 5-tuple that passed no ICE check (dropped).", media.droppedUnknownSource)
            counter("shihui_media_dropped_srtp_total", "SRTP/SRTCP packets that failed authentication or replay checks (dropped).", media.droppedSRTP)
            counter("shihui_media_dropped_malformed_total", "Malformed media datagrams (dropped).", media.droppedMalformed)
            counter("shihui_media_nacks_answered_total", "Packets retransmitted from the cache for subscribers' NACKs.", media.nacksAnswered)
            counter("shihui_media_keyframe_requests_total", "PLIs sent to publishers.", media.keyframeRequests)
            counter("shihui_media_nacks_sent_total", "NACKs sent to publishers for packets they lost on the way to us.", media.nacksSent)
            out += "# HELP shihui_media_keyframes_received_total Keyframes that arrived from publishers and sources, by codec.\n"
                + "# TYPE shihui_media_keyframes_received_total counter\n"
                + "shihui_media_keyframes_received_total{codec=\"VP8\"} \(media.keyframesVP8)\n"
                + "shihui_media_keyframes_received_total{codec=\"H264\"} \(media.keyframesH264)\n"
            counter("shihui_media_keyframe_cache_replays_total", "Packets sent to new viewers from ingested sources' keyframe caches.", media.keyframeCacheReplays)
            counter("shihui_media_transports_connected_total", "Peer connections whose DTLS-SRTP handshake completed.", media.transportsConnected)
            counter("shihui_media_dtls_failures_total", "DTLS handshakes refused (bad fingerprint, errors).", media.dtlsFailures)
            counter("shihui_media_connect_timeouts_total", "Transports closed for not connecting (ICE, DTLS) within --connect-timeout.", media.connectTimeouts)
            counter("shihui_media_transports_removed_total", "Transports removed (ended, failed, timed out).", media.transportsRemoved)
        }
        if let wakeups {
            out += wakeups.exposition(name: "shihui_media_wakeup_duration_seconds",
                                      help: "How long each wake-up of the media thread took (receive, forward, timers, send).")
        }
        return out
    }
}
