import ServerIO

/// Prometheus text exposition format 0.0.4 for /metrics.
enum Metrics {
    static func render(rooms: Int, participants: Int, server: ServerStats, webSocketMessagesIn: Int, webSocketMessagesOut: Int) -> String {
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
        return out
    }
}
