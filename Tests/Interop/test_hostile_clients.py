"""Hostile clients are refused or timed out, and /healthz keeps answering throughout."""
import base64
import os
import socket
import struct
import threading
import time
import urllib.request

import pytest

from conftest import make_token


class HealthProbe:
    """Polls /healthz every 50 ms in a thread; records failures and the slowest answer."""

    def __init__(self, base):
        self.base, self.failures, self.slowest, self.count = base, [], 0.0, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            t = time.monotonic()
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as r:
                    if r.status != 200 or r.read() != b"ok":
                        self.failures.append(r.status)
            except Exception as e:  # noqa: BLE001 - any failure is recorded
                self.failures.append(repr(e))
            self.slowest = max(self.slowest, time.monotonic() - t)
            self.count += 1
            time.sleep(0.05)

    def finish(self):
        self.stop.set()
        self.thread.join()
        with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as r:  # and still alive afterwards
            assert r.status == 200
        assert self.failures == [], self.failures
        assert self.count >= 1 and self.slowest < 1.0, (self.count, self.slowest)


@pytest.fixture
def probe(server):
    p = HealthProbe(server.base)
    yield p
    p.finish()


@pytest.fixture
def fast_probe(fast_server):
    p = HealthProbe(fast_server.base)
    yield p
    p.finish()


def raw_connect(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return s


def read_until_closed(s, limit=1 << 20):
    data = b""
    while len(data) < limit:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        data += chunk
    return data


def websocket(server, identity):
    s = raw_connect(server)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /rtc?access_token={make_token('hostile', identity, subscribe=True)} HTTP/1.1\r\nHost: x\r\n"
               f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


def frame(opcode, payload, masked=True, fin=True):
    header = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    mask_bit = 0x80 if masked else 0
    if n < 126:
        header += bytes([mask_bit | n])
    elif n < 65536:
        header += bytes([mask_bit | 126]) + struct.pack(">H", n)
    else:
        header += bytes([mask_bit | 127]) + struct.pack(">Q", n)
    if not masked:
        return header + payload
    key = os.urandom(4)
    return header + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def close_code_from(data):
    """Finds the server's close frame (opcode 8) among the frames in `data`; returns its code."""
    i = 0
    while i + 2 <= len(data):
        opcode, n = data[i] & 0x0F, data[i + 1] & 0x7F
        i += 2
        if n == 126:
            n = struct.unpack(">H", data[i:i + 2])[0]
            i += 2
        elif n == 127:
            n = struct.unpack(">Q", data[i:i + 8])[0]
            i += 8
        payload = data[i:i + n]
        i += n
        if opcode == 8:
            return struct.unpack(">H", payload[:2])[0], payload[2:].decode()
    return None


@pytest.mark.parametrize("name,payload_frame,code", [
    ("unmasked", lambda: frame(1, b'{"type":"ping"}', masked=False), 1002),
    # Announces a 200 MiB frame: refused from its header, before any payload is buffered.
    ("oversized", lambda: bytes([0x82, 0xFF]) + struct.pack(">Q", 200 << 20) + os.urandom(4), 1009),
    ("invalid_utf8", lambda: frame(1, b"\xc3\x28"), 1007),
    ("reserved_bits", lambda: bytes([0xC1]) + frame(1, b"x")[1:], 1002),
    ("binary", lambda: frame(2, b"\x01\x02"), 1003),
])
def test_websocket_violations_close_with_the_right_code(server, probe, name, payload_frame, code):
    s = websocket(server, f"ws-{name}")
    s.sendall(payload_frame())
    got = close_code_from(read_until_closed(s))
    assert got is not None and got[0] == code, (name, got)
    s.close()


def test_100_megabyte_content_length_is_refused_at_once(server, probe):
    s = raw_connect(server)
    s.sendall(b"POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n")
    s.sendall(b"x" * 65536)  # the client keeps sending; the 413 must still arrive (lingering close)
    response = read_until_closed(s)
    assert response.startswith(b"HTTP/1.1 413 "), response[:80]
    assert b'"payload_too_large"' in response
    s.close()


def test_ten_thousand_headers_are_refused(server, probe):
    s = raw_connect(server)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Flood: y\r\n" * 10_000 + b"\r\n")
    response = read_until_closed(s)
    assert response.startswith(b"HTTP/1.1 431 "), response[:80]
    s.close()


def test_slowloris_is_timed_out(fast_server, fast_probe):
    s = socket.create_connection(("127.0.0.1", fast_server.port), timeout=10)
    start = time.monotonic()
    s.sendall(b"GET /healthz HTTP/1.1\r\n")
    for header in (b"Host: x\r\n", b"X-a: 1\r\n", b"X-b: 2\r\n", b"X-c: 3\r\n"):
        time.sleep(0.5)  # one header every half second: never completes within 1.5 s
        try:
            s.sendall(header)
        except (BrokenPipeError, ConnectionResetError):
            break
    response = read_until_closed(s)
    elapsed = time.monotonic() - start
    assert response.startswith(b"HTTP/1.1 408 "), response[:80]
    assert 1.4 < elapsed < 5, elapsed
    s.close()


def test_silent_connection_is_closed(fast_server, fast_probe):
    s = socket.create_connection(("127.0.0.1", fast_server.port), timeout=10)
    start = time.monotonic()
    response = read_until_closed(s)
    assert response.startswith(b"HTTP/1.1 408 ") and 1.4 < time.monotonic() - start < 5
    s.close()


def test_half_open_websocket_is_closed(fast_server, fast_probe):
    """A client that stops answering (no pongs, nothing) is dropped after --ws-timeout."""
    s = websocket(fast_server, "half-open")
    start = time.monotonic()
    data = read_until_closed(s)  # we read the server's pings but never answer
    elapsed = time.monotonic() - start
    assert data.count(b"\x89\x00") >= 2, data[:40]  # the server pinged
    assert 1.9 < elapsed < 5, elapsed
    s.close()


def test_pong_keeps_a_websocket_alive(fast_server, fast_probe):
    s = websocket(fast_server, "alive")
    s.settimeout(0.2)
    deadline = time.monotonic() + 3.5  # longer than --ws-timeout
    buffered = b""
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(4096)
            assert chunk, "server closed a responsive WebSocket"
            buffered += chunk
        except socket.timeout:
            pass
        while b"\x89\x00" in buffered:
            buffered = buffered.replace(b"\x89\x00", b"", 1)
            s.sendall(frame(0xA, b""))
    s.sendall(frame(1, b'{"type":"ping","id":"still"}'))
    s.settimeout(2)
    assert b'"still"' in s.recv(65536)
    s.close()
