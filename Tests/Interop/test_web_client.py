"""The web client at / in headless Chromium (fake camera and microphone): two pages join one room;
each reports through RTCPeerConnection.getStats() that remote video frames are decoded and audio
is received. The server and both browsers run in their own network namespace with only loopback
(Chromium gathers 127.0.0.1 candidates only there)."""
import tempfile
from pathlib import Path

from conftest import SECRET, SERVER, chromium_page, make_token, page_stats, require_root, run_browsers

RUN_SECONDS = 25


def test_two_browsers_see_and_hear_each_other():
    require_root()
    with tempfile.TemporaryDirectory() as work:
        urls = {name: f"http://127.0.0.1:7880/?autotest=1#token={make_token('web', name, publish=True, subscribe=True)}"
                for name in ("ana", "ben")}
        script = "\n".join([
            "ip link set lo up",
            f"{SERVER} --http 127.0.0.1:7880 --udp 127.0.0.1:7882 --data {work}/data --secret {SECRET} > {work}/server.log 2>&1 &",
            "server=$!",
            "sleep 1",
            chromium_page(work, "ana", urls["ana"], RUN_SECONDS) + " &",
            "sleep 2",
            chromium_page(work, "ben", urls["ben"], RUN_SECONDS - 2) + " &",
            "wait %2 %3",
            "kill -TERM $server; wait $server",
        ])
        run_browsers(script, work, RUN_SECONDS + 30)
        results = {}
        for name in ("ana", "ben"):
            log = Path(work, f"{name}.log").read_text(errors="replace")
            stats = page_stats(log)
            assert stats, f"{name} reported no stats:\n{log[-3000:]}\n--- server ---\n{Path(work, 'server.log').read_text()[-2000:]}"
            results[name] = stats[-1]
        print(f"\nweb_client_stats={results}")
        for name, last in results.items():
            assert last["framesDecoded"] >= 100, (name, last)  # several seconds of remote video
            assert last["audioPackets"] >= 200, (name, last)   # 20 ms packets for several seconds
            assert last["sentFrames"] >= 100, (name, last)
