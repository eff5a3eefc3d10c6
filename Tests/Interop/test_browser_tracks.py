"""Headless Chromium with several tracks and H.264 (issue 17), through the web client at /:

- the page publishes its fake camera in H.264 (`?codec=h264`) and microphone, then shares a
  "screen" (a canvas track stands in for it: headless Chromium has no screen; `?share=5-15`) and
  stops the share ten seconds later;
- an aiortc participant in the room decodes three tracks of the page's (audio, camera, screen)
  with their `source` labels, and after the stop only the screen is gone;
- the server finds keyframes in Chromium's H.264 packets (its keyframe counter by codec, read
  while the page is the room's only H.264 publisher);
- Chromium decodes an H.264 camera published by aiortc.

The server, the page and the aiortc helper (room_watcher.py) run in a network namespace of their
own with only loopback; everything started is killed by PID at the end (SessionProcess)."""
import json
import re
import sys
import tempfile
from pathlib import Path

from conftest import SECRET, SERVER, chromium_page, make_token, page_stats, require_root, run_browsers

RUN_SECONDS = 32
WATCHER = Path(__file__).with_name("room_watcher.py")


def sources(tracks):
    return sorted(t["source"] for t in tracks or [])


def test_chromium_shares_a_screen_and_sends_and_decodes_h264():
    require_root()
    with tempfile.TemporaryDirectory() as work:
        page = f"http://127.0.0.1:7880/?autotest=1&codec=h264&share=5-15#token={make_token('wall', 'ana', publish=True, subscribe=True)}"
        watch = make_token("wall", "watch", subscribe=True)
        cam = make_token("wall", "cam", publish=True)
        script = "\n".join([
            "ip link set lo up",
            f"{SERVER} --http 127.0.0.1:7880 --udp 127.0.0.1:7882 --data {work}/data --secret {SECRET} > {work}/server.log 2>&1 &",
            "server=$!",
            "sleep 1",
            f"timeout {RUN_SECONDS} {sys.executable} {WATCHER} --url ws://127.0.0.1:7880 --token {watch} --publish-token {cam} "
            f"--publish-at 14 --metrics-at 13 --seconds {RUN_SECONDS - 4} --out {work}/watch.jsonl > {work}/watch.log 2>&1 &",
            "sleep 1",
            chromium_page(work, "ana", page, RUN_SECONDS - 2) + " &",
            "wait %2 %3",
            "kill -TERM $server; wait $server",
        ])
        run_browsers(script, work, RUN_SECONDS + 30)
        logs = {name: Path(work, f"{name}.log").read_text(errors="replace") for name in ("ana", "watch", "server")}
        lines = [json.loads(x) for x in Path(work, "watch.jsonl").read_text().splitlines()] if Path(work, "watch.jsonl").exists() else []
        stats = page_stats(logs["ana"])
        context = f"\n--- watcher ---\n{logs['watch'][-2000:]}\n--- page ---\n{logs['ana'][-2000:]}\n--- server ---\n{logs['server'][-2000:]}"
        assert len(lines) >= 20 and stats, context

        sharing = [x for x in lines if sources(x["tracks"].get("ana")) == ["camera", "microphone", "screen"]]
        assert sharing, [x["tracks"].get("ana") for x in lines]
        during = sharing[-1]["frames"]
        final, before_end = lines[-1], lines[-6]
        print(f"\nbrowser_tracks during_share={during} final={final['frames']} sizes={final['sizes']} page={stats[-1]}")
        # The page's three tracks, each decoded by aiortc, labelled by the room's track list.
        assert during.get("ana-screen", 0) >= 30 and during.get("ana-video", 0) >= 60 and during.get("ana-audio", 0) >= 100, during
        codecs = {t["source"]: t["codec"] for t in sharing[-1]["tracks"]["ana"]}
        assert codecs == {"camera": "H264", "microphone": "opus", "screen": "VP8"}, codecs
        # After the stop: only the screen is gone, the camera and microphone flow on.
        assert sources(final["tracks"].get("ana")) == ["camera", "microphone"], final["tracks"]
        grew = {k: final["frames"].get(k, 0) - before_end["frames"].get(k, 0) for k in ("ana-screen", "ana-video", "ana-audio")}
        assert grew["ana-screen"] == 0 and grew["ana-video"] >= 40 and grew["ana-audio"] >= 100, grew
        # Keyframes found in Chromium's own H.264 (the only H.264 publisher when counted).
        metrics = next(x["metrics"] for x in lines if x["metrics"])
        h264 = int(re.search(r'shihui_media_keyframes_received_total\{codec="H264"\} (\d+)', metrics).group(1))
        assert h264 >= 1, metrics
        # The page hit no script error (a re-offer after the last publisher left used to be refused:
        # "max-bundle configured but session description has no BUNDLE group").
        errors = [x for x in logs["ana"].splitlines() if "CONSOLE" in x and "Uncaught" in x and "127.0.0.1:7880" in x]
        assert not errors, errors
        # Chromium decodes the H.264 camera aiortc publishes.
        # (its receiver's stats go once cam leaves at the end: the most any report counted).
        decoded = max(x["byTrack"].get("cam-video", 0) for x in stats)
        assert decoded >= 100, stats[-5:]
