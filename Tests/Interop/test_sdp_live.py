"""SDP offers produced live by aiortc and headless Chromium parse and round-trip exactly."""
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from conftest import CHROMIUM, ROOT, SessionProcess, require_root, wire_check

PAGE = ROOT / "tools" / "fixtures" / "offer-page.html"


def test_aiortc_offer_round_trips():
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "fixtures" / "aiortc_offer.py")],
                         capture_output=True, check=True, timeout=60).stdout
    sdp = json.loads(out)
    summary = wire_check("sdp", sdp.encode())
    assert summary["roundTrip"] is True
    assert [m["kind"] for m in summary["media"]] == ["audio", "video"]
    assert "opus/48000" in summary["media"][0]["codecs"]
    assert "VP8/90000" in summary["media"][1]["codecs"]
    candidates = [c for m in summary["media"] for c in m["candidates"]]
    assert candidates and all(c.startswith("127.0.0.1:") for c in candidates)


def test_chromium_offers_round_trip():
    """Chromium runs in its own network namespace (only loopback), with fake camera and microphone."""
    require_root()
    with tempfile.TemporaryDirectory() as work:
        page = Path(work) / "page.html"
        page.write_text(PAGE.read_text())
        cmd = (f"ip link set lo up; timeout 60 env HOME={work} {CHROMIUM} "
               f"--use-fake-ui-for-media-stream --use-fake-device-for-media-stream "
               f"--allow-loopback-in-peer-connection --user-data-dir={work}/profile "
               f"--enable-logging=stderr --v=0 file://{page}")
        run = SessionProcess(["unshare", "-n", "bash", "-c", cmd], marker=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        offers = {}
        try:
            for line in run.proc.stdout:
                m = re.search(r"SDP-OFFER (\w+) ", line)
                if m and m.group(1) in ("plain", "simulcast"):
                    offers[m.group(1)], _ = json.JSONDecoder().raw_decode(line, m.end())
                if "SDP-OFFER done" in line or "SDP-OFFER error" in line:
                    break
        finally:
            run.stop()
    assert set(offers) == {"plain", "simulcast"}, offers
    for kind, sdp in offers.items():
        summary = wire_check("sdp", sdp.encode())
        assert summary["roundTrip"] is True, kind
        assert summary["bundle"] == ["0", "1"]
        assert summary["media"][1]["fingerprint"] == "sha-256"
    assert json.dumps(wire_check("sdp", offers["simulcast"].encode())["media"][1]["rids"]) == '["q", "h", "f"]'
