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


# ---- signaling server fixture -------------------------------------------------------------

import base64
import hashlib
import hmac
import re as _re
import signal as _signal

SERVER = ROOT / ".build" / "debug" / "shihui-server"
SECRET = "interop-test-secret-0123456789abcdef"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(room, identity, secret=SECRET, ttl=3600, nbf_offset=0, alg="HS256", **grants):
    """An HS256 JWT built here, independently of the server's own signer."""
    now = int(time.time())
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    claims = {"sub": identity, "name": identity.title(), "room": room, "nbf": now + nbf_offset, "exp": now + ttl,
              "grants": {k: bool(v) for k, v in grants.items()}}
    body = b64url(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64url(sig)}"


class RunningServer:
    def __init__(self, tmp, extra_args=()):
        self.data = Path(tmp) / "data"
        args = [str(SERVER), "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--data", str(self.data), "--secret", SECRET, *extra_args]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        m, seen = None, []
        for _ in range(5):  # notices (generated secret, test mode) may precede the listening line
            line = self.proc.stdout.readline()
            seen.append(line)
            m = _re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m or not line:
                break
        assert m, f"server did not start: {seen!r}"
        self.banner = line
        self.port = int(m.group(1))
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws = f"ws://127.0.0.1:{self.port}"

    def rss_kib(self):
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(_signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise AssertionError("server did not stop within 10 s of SIGTERM")
        return self.proc.stdout.read()


@pytest.fixture
def server(tmp_path):
    s = RunningServer(tmp_path)
    yield s
    s.stop()


@pytest.fixture
def fast_server(tmp_path):
    """Short timeouts, for slowloris and half-open tests."""
    s = RunningServer(tmp_path, ["--request-timeout", "1.5", "--ws-ping-interval", "0.5", "--ws-timeout", "2"])
    yield s
    s.stop()


def http_get(url, headers=None, method="GET", body=None, timeout=5):
    import urllib.request
    import urllib.error
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def metric(server, name):
    """The value of an unlabelled Prometheus metric from the server's /metrics."""
    import urllib.request
    with urllib.request.urlopen(f"{server.base}/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return int(line.split()[1])
    raise AssertionError(f"no metric {name}")


# ---- browsers and other process trees -------------------------------------------------------

# Headless Chromium as the tests run it. Its crash reporter's handler starts in a session of its
# own; with HOME in the test's folder its command line names that folder (its database), which
# is how `SessionProcess(..., marker=folder)` finds it.
CHROMIUM = "chromium --headless --no-sandbox --disable-gpu"


def chromium_page(work, name, url, seconds):
    """The shell command that opens `url` in headless Chromium with a fake camera and microphone
    for `seconds`, its profile `work/name` and its log `work/name.log` (run it in the background)."""
    return (f"timeout {seconds} env HOME={work} {CHROMIUM} --use-fake-ui-for-media-stream --use-fake-device-for-media-stream "
            "--allow-loopback-in-peer-connection --autoplay-policy=no-user-gesture-required --enable-logging=stderr --v=0 "
            f"--user-data-dir={work}/{name} '{url}' 2> {work}/{name}.log")


def run_browsers(script, work, seconds):
    """Runs a namespace script that starts browsers, then stops all it started (SessionProcess)."""
    run = SessionProcess(["unshare", "-n", "bash", "-c", script], marker=work)
    try:
        run.wait(seconds)
    finally:
        run.stop()


class SessionProcess:
    """A command started in a session of its own (Chromium, Firefox, a namespace script). `stop`
    kills every process of that session by PID (browsers leave children behind when their main
    process dies, and `timeout` moves them to a process group of its own), then waits for them."""

    def __init__(self, args, marker=None, **kw):
        self.marker = str(marker).encode() if marker else None
        self.proc = subprocess.Popen(args, start_new_session=True, **kw)

    def members(self):
        """Live processes of the session, and those whose command line names `marker`."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] == "Z":  # zombies are gone already (a container's PID 1 may not reap them)
                continue
            mine = int(fields[3]) == self.proc.pid  # the session id
            if not mine and self.marker and int(entry.name) != os.getpid():
                try:
                    mine = self.marker in (entry / "cmdline").read_bytes()
                except OSError:
                    pass
            if mine:
                found.append(int(entry.name))
        return found

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        for _ in range(50):
            pids = self.members()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, _signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        assert not self.members(), f"processes of session {self.proc.pid} survived: {self.members()}"


def page_stats(log):
    """Every SHIHUI-STATS object a web-client page printed to its console log, in order (the
    objects nest; Firefox escapes their quotes)."""
    found = []
    decoder = json.JSONDecoder()
    for line in log.replace('\\"', '"').splitlines():
        at = line.find("SHIHUI-STATS {")
        if at < 0:
            continue
        try:
            found.append(decoder.raw_decode(line, at + len("SHIHUI-STATS "))[0])
        except json.JSONDecodeError:
            pass
    return found
