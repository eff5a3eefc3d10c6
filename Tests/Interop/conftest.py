"""Shared helpers for interop tests: our wire-check tool and loopback UDP capture.

Every socket here binds 127.0.0.1; peers send only to it (network rules in README)."""
import json
import os
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WIRE_CHECK = ROOT / ".build" / "debug" / "wire-check"


def wire_check(mode, data, *args, expect_ok=True):
    """Runs wire-check MODE with DATA on stdin; returns its JSON (or raw bytes for stun-response)."""
    assert WIRE_CHECK.exists(), "build first: swift build (make test does)"
    proc = subprocess.run([str(WIRE_CHECK), mode, *args], input=data, capture_output=True, timeout=60)
    if expect_ok:
        assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()
    if mode == "stun-response":
        return proc.stdout
    return json.loads(proc.stdout)


class UDPCapture:
    """Receives datagrams on 127.0.0.1 ports; `frames()` encodes them for `wire-check datagrams`."""

    def __init__(self, count=1, consecutive=False):
        self.sockets = []
        if consecutive:  # RTP on an even port, RTCP on the next one (RFC 3550 §11)
            while True:
                first = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                first.bind(("127.0.0.1", 0))
                port = first.getsockname()[1]
                if port % 2:
                    first.close()
                    continue
                second = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    first.close()
                    second.close()
                    continue
                self.sockets = [first, second]
                break
        else:
            for _ in range(count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(("127.0.0.1", 0))
                self.sockets.append(s)
        for s in self.sockets:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.settimeout(0.05)
        self.received = [[] for _ in self.sockets]

    @property
    def ports(self):
        return [s.getsockname()[1] for s in self.sockets]

    def drain(self, until):
        """Reads until `until()` is true, then keeps reading until 0.3 s pass with nothing new."""
        quiet_since = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            got = False
            for i, s in enumerate(self.sockets):
                try:
                    self.received[i].append(s.recv(65536))
                    got = True
                except socket.timeout:
                    pass
            if got:
                quiet_since = None
            elif until():
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > 0.3:
                    return
        raise AssertionError("capture did not finish within 60 s")

    def frames(self, index=None):
        chosen = self.received if index is None else [self.received[index]]
        return b"".join(struct.pack(">H", len(d)) + d for lst in chosen for d in lst)

    def close(self):
        for s in self.sockets:
            s.close()


@pytest.fixture
def capture_factory():
    made = []

    def make(**kw):
        c = UDPCapture(**kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def require_root():
    assert os.geteuid() == 0, "network-namespace tests need root (CI runs as root)"
