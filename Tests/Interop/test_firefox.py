"""Headless Firefox ESR and headless Chromium meet through the web client at /: each publishes its
fake camera and microphone and decodes the other's video (issue 17: Firefox with max-bundle
offers its second section as `m=video 0 … a=bundle-only`, which the answerer used to reject, so
Firefox never published video). The server and both browsers run in one network namespace of
their own with loopback and a default route through it (Firefox gathers no candidate without a
default route). The whole process group is killed at the end."""
import tempfile
from pathlib import Path

from conftest import SECRET, SERVER, chromium_page, make_token, page_stats, require_root, run_browsers

RUN_SECONDS = 30

PREFS = """
user_pref("media.navigator.streams.fake", true);
user_pref("media.navigator.permission.disabled", true);
user_pref("media.peerconnection.ice.loopback", true);
user_pref("media.peerconnection.ice.obfuscate_host_addresses", false);
user_pref("media.autoplay.default", 0);
user_pref("devtools.console.stdout.content", true);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("browser.aboutwelcome.enabled", false);
user_pref("app.update.disabledForTesting", true);
"""


def stats(log):
    """The last SHIHUI-STATS object a page printed."""
    found = page_stats(log)
    return found[-1] if found else None


def test_firefox_and_chromium_meet():
    require_root()
    with tempfile.TemporaryDirectory() as work:
        profile = Path(work, "fox-profile")
        profile.mkdir()
        (profile / "user.js").write_text(PREFS)
        url = lambda name: f"http://127.0.0.1:7880/?autotest=1#token={make_token('mixed', name, publish=True, subscribe=True)}"
        script = "\n".join([
            "ip link set lo up",
            "ip route add default dev lo src 127.0.0.1",
            f"{SERVER} --http 127.0.0.1:7880 --udp 127.0.0.1:7882 --data {work}/data --secret {SECRET} > {work}/server.log 2>&1 &",
            "server=$!",
            "sleep 1",
            f"HOME={work} timeout {RUN_SECONDS} firefox-esr --headless --no-remote --profile {profile} '{url('fox')}' > {work}/fox.log 2>&1 &",
            "sleep 4",
            chromium_page(work, "chro", url("chro"), RUN_SECONDS - 4) + " &",
            "wait %2 %3",
            "kill -TERM $server; wait $server",
        ])
        run_browsers(script, work, RUN_SECONDS + 30)
        logs = {name: Path(work, f"{name}.log").read_text(errors="replace") for name in ("fox", "chro", "server")}
        results = {name: stats(logs[name]) for name in ("fox", "chro")}
        print(f"\nfirefox_chromium_stats={results}")
        for name, last in results.items():
            assert last, f"{name} reported no stats:\n{logs[name][-3000:]}\n--- server ---\n{logs['server'][-2000:]}"
        # Firefox publishes video (the bundle-only section) and Chromium decodes it, and the reverse.
        assert results["fox"]["sentFrames"] >= 100, results
        assert results["chro"]["framesDecoded"] >= 100, results
        assert results["chro"]["sentFrames"] >= 100, results
        assert results["fox"]["framesDecoded"] >= 100, results
        assert results["fox"]["audioPackets"] >= 200 and results["chro"]["audioPackets"] >= 200, results
