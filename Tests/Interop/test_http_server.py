"""HTTP/1.1 server behaviour on real sockets: keep-alive, pipelining, chunked bodies, HEAD,
graceful shutdown, the generated development secret, and a wrk smoke run."""
import asyncio
import json
import re
import shutil
import signal
import socket
import subprocess
import time

import websockets

from conftest import SERVER, RunningServer, make_token


def exchange(port, payload, expect_responses, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(payload)
    data = b""
    deadline = time.monotonic() + timeout
    while data.count(b"HTTP/1.1 ") < expect_responses and time.monotonic() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return s, data


def test_keep_alive_and_pipelining(server):
    admin = make_token("", "ops", admin=True)
    body = b'{"name":"pipelined"}'
    pipelined = (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                 + f"POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\n".encode()
                 + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                 + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
                 + b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                 + b"GET /api/v1/rooms/pipelined HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin.encode() + b"\r\n\r\n")
    s, data = exchange(server.port, pipelined, 4)
    statuses = re.findall(rb"HTTP/1\.1 (\d{3})", data)
    assert statuses == [b"200", b"201", b"200", b"200"], data
    # The HEAD response has a Content-Length but no body: the next response follows directly.
    head_at = data.index(b"HTTP/1.1 200", data.index(b"HTTP/1.1 201"))
    assert data[head_at:].split(b"\r\n\r\n", 1)[1].startswith(b"HTTP/1.1 200")
    # The connection stays open for another request.
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    rest = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    assert rest.startswith(b"HTTP/1.1 200") and b"Connection: close" in rest
    s.close()


def test_http_10_closes_after_response(server):
    s, data = exchange(server.port, b"GET /healthz HTTP/1.0\r\n\r\n", 1)
    assert data.startswith(b"HTTP/1.1 200") and b"Connection: close" in data
    s.settimeout(2)
    assert s.recv(100) == b""
    s.close()


def test_graceful_shutdown_closes_websockets_with_1001(tmp_path):
    srv = RunningServer(tmp_path)

    async def scenario():
        clients = [await websockets.connect(f"{srv.ws}/rtc?access_token={make_token('r', f'u{i}', subscribe=True)}")
                   for i in range(5)]
        for c in clients:
            assert json.loads(await c.recv())["type"] == "joined"
        srv.proc.send_signal(signal.SIGTERM)
        codes = []
        for c in clients:
            try:
                while True:
                    await asyncio.wait_for(c.recv(), 5)
            except websockets.exceptions.ConnectionClosed as e:
                codes.append((e.rcvd.code, e.rcvd.reason) if e.rcvd else None)
        return codes

    codes = asyncio.run(scenario())
    assert codes == [(1001, "server shutting down")] * 5
    assert srv.proc.wait(timeout=10) == 0
    assert "shihui-server stopped" in srv.proc.stdout.read()


def test_generated_secret_is_shared_with_the_token_command(tmp_path):
    data = tmp_path / "data"
    proc = subprocess.Popen([str(SERVER), "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--data", str(data)], stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert "generated a development secret" in first and str(data / "secret") in first
        port = int(re.search(r":(\d+) ", proc.stdout.readline()).group(1))
        assert (data / "secret").stat().st_mode & 0o777 == 0o600
        token = subprocess.run([str(SERVER), "token", "--data", str(data), "--room", "r", "--identity", "ops"],
                               capture_output=True, text=True, check=True).stdout.strip()

        async def join():
            async with websockets.connect(f"ws://127.0.0.1:{port}/rtc?access_token={token}") as ws:
                return json.loads(await ws.recv())["type"]
        assert asyncio.run(join()) == "joined"
    finally:
        proc.send_signal(signal.SIGINT)  # SIGINT stops it gracefully as well
        assert proc.wait(timeout=10) == 0


def test_wrk_smoke_against_healthz(server):
    """3 s of wrk on the debug build: no errors, no non-2xx (the release figure is in PERFORMANCE.md)."""
    assert shutil.which("wrk"), "wrk is installed by make test"
    out = subprocess.run(["wrk", "-t2", "-c32", "-d3s", f"{server.base}/healthz"], capture_output=True, text=True, timeout=30).stdout
    assert "Non-2xx" not in out and "Socket errors" not in out, out
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    print(f"\nwrk_debug_healthz_requests_per_second={rps:.0f}")
    assert rps > 1000, out


def test_help_documents_every_option():
    out = subprocess.run([str(SERVER), "--help"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0
    for option in ("--http", "--udp", "--data", "--secret", "--config", "SHIHUI_HTTP", "SHIHUI_UDP", "SHIHUI_DATA",
                   "SHIHUI_SECRET", "--request-timeout", "--ws-ping-interval", "--ws-timeout", "--srtp-profiles",
                   "token --room R --identity I", "--ttl", "127.0.0.1:7880", "127.0.0.1:7882", "./data"):
        assert option in out.stdout, option
    bad = subprocess.run([str(SERVER), "--bogus", "1"], capture_output=True, text=True, timeout=10)
    assert bad.returncode == 2 and "unknown option --bogus" in bad.stderr


def test_metrics_show_media_wakeup_durations(server):
    """/metrics carries the media thread's wake-up durations as a Prometheus histogram: buckets
    cumulative and ending in +Inf, the count equal to that bucket, and wake-ups recorded (the
    loop wakes at least every 100 ms)."""
    import re
    import time
    import urllib.request
    time.sleep(0.5)
    with urllib.request.urlopen(f"{server.base}/metrics", timeout=5) as r:
        text = r.read().decode()
    assert "# TYPE shihui_media_wakeup_duration_seconds histogram" in text
    buckets = [(le, int(n)) for le, n in re.findall(r'shihui_media_wakeup_duration_seconds_bucket\{le="([^"]+)"\} (\d+)', text)]
    assert buckets[-1][0] == "+Inf" and len(buckets) == 12
    counts = [n for _, n in buckets]
    assert counts == sorted(counts) and counts[-1] > 0
    assert int(re.search(r"shihui_media_wakeup_duration_seconds_count (\d+)", text).group(1)) == counts[-1]
    assert "shihui_media_connect_timeouts_total 0" in text


def test_the_exporter_does_not_pretend_to_work():
    """shihui-export has nothing to export until the server records: it says so and fails,
    instead of printing a placeholder and exiting 0."""
    import subprocess
    from conftest import ROOT
    done = subprocess.run([str(ROOT / ".build" / "debug" / "shihui-export"), "webm", "x"], capture_output=True, text=True, timeout=20)
    assert done.returncode == 2 and "nothing to export" in done.stderr and done.stdout == "", done
