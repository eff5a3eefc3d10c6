#!/usr/bin/env python3
"""The benchmark harness (issue 5; docs/PERFORMANCE.md): Shihui, the C floor and Janus under the
same load generator (shihui-bench), in one run, inside a network namespace of its own.

    tools/bench/run.py quick   # make bench-quick: broadcast 1→200, < 3 min, final line of ratios
    tools/bench/run.py full    # make bench: every scenario; docs/bench/latest.json and plots
    tools/bench/run.py smoke   # make test: the quick path at toy size (~30 s), checked
    tools/bench/run.py one --target shihui-cm --scenario broadcast --set subscribers=100 --set pacing=0
                               # one run by hand, its JSON on stdout (targets: shihui-cm,
                               # shihui-gcm, floor-srtp, floor-plain, janus)
    SHIHUI_BENCH_PERF=/tmp/x.perf tools/bench/run.py one ...
                               # the same, the server profiled for its life (perf record -g,
                               # cpu-clock); perf report -i /tmp/x.perf --sort pid,dso
    BENCH_DEBUG_LAT=/tmp/lat.txt tools/bench/run.py one ...
                               # every sampled packet's latency written to the file

All traffic stays inside the namespace: loopback for Shihui and the floor, a veth pair
(10.200.0.1, which exists only there) for Janus, whose ICE ignores loopback. Every server is
started and stopped by this script; each measured window is bounded.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# With two or more cores, the server under test runs on CPU 1 and the load generator on CPU 0,
# so that they do not take turns on one core (which makes per-CPU-second figures swing).
PIN = os.cpu_count() >= 2
SERVER_CPU = ["taskset", "-c", "1"] if PIN else []
CLIENT_CPU = ["taskset", "-c", "0"] if PIN else []
BUILD = ROOT / ".build" / "release"
# SHIHUI_BENCH_GENERATOR=PATH: another shihui-bench build, or a wrapper that profiles it.
BENCH = Path(os.environ.get("SHIHUI_BENCH_GENERATOR", BUILD / "shihui-bench"))
# SHIHUI_BENCH_SERVER=PATH: another shihui-server build (A/B comparisons of a change).
SERVER = Path(os.environ.get("SHIHUI_BENCH_SERVER", BUILD / "shihui-server"))


def server_limits():
    """A join storm of thousands is not an attack: lift the set-up cap, on builds that have it
    (an older build compared with SHIHUI_BENCH_SERVER may not)."""
    try:
        text = subprocess.run([str(SERVER), "--help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return ["--max-pending-transports", "100000"] if "--max-pending-transports" in text else []


SERVER_LIMITS = server_limits()
REFLECTOR = ROOT / ".build" / "floor" / "reflector"
SECRET = "bench-secret-0123456789abcdef"
sys.path.insert(0, str(Path(__file__).parent))
import janus_config  # noqa: E402


def enter_namespace():
    """Re-runs this script in a new network namespace (root), with lo and the veth for Janus."""
    if os.environ.get("SHIHUI_BENCH_NS") == "1":
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"],
                    ["ip", "addr", "add", "10.200.0.1/24", "dev", "v0"],
                    ["ip", "link", "set", "v0", "up"], ["ip", "link", "set", "v1", "up"]):
            subprocess.run(cmd, check=True)
        return
    env = dict(os.environ, SHIHUI_BENCH_NS="1")
    os.execvpe("unshare", ["unshare", "-n", sys.executable, *sys.argv], env)


class Target:
    """A server under test: started before its runs, stopped after."""
    name = ""
    bind = "127.0.0.1"

    def args(self):
        return []

    def stop(self):
        """Stops the server; a server that died of anything but our SIGTERM (a crash) fails the run."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"{self.name} did not stop within 10 s of SIGTERM")
        if self.proc.returncode not in (0, -signal.SIGTERM):
            raise AssertionError(f"{self.name} exited with {self.proc.returncode} (crashed?)")


class Shihui(Target):
    def __init__(self, tmp, profile="cm"):
        self.name = f"shihui-{profile}"
        data = Path(tmp) / f"data-{profile}"
        self.proc = subprocess.Popen([*SERVER_CPU, str(SERVER), "--http", "127.0.0.1:7880", "--udp", "127.0.0.1:7882", "--data", str(data),
                                      "--secret", SECRET, "--srtp-profiles", profile, *SERVER_LIMITS],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        assert "listening" in line, f"shihui-server did not start: {line}"
        # SHIHUI_BENCH_PERF=FILE: profile the server for its whole life (perf record, cpu-clock).
        self.perf = None
        if os.environ.get("SHIHUI_BENCH_PERF"):
            # SHIHUI_BENCH_PERF_GRAPH=dwarf for call chains through libraries built without frame pointers.
            graph = ["--call-graph", "dwarf,16384", "-F", "300"] if os.environ.get("SHIHUI_BENCH_PERF_GRAPH") == "dwarf" else ["-g"]
            self.perf = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", *graph, "-p", str(self.proc.pid),
                                          "-o", os.environ["SHIHUI_BENCH_PERF"]])

    def stop(self):
        if self.perf is not None:
            self.perf.send_signal(signal.SIGINT)
            self.perf.wait(timeout=30)
        super().stop()

    def args(self):
        return ["--target", "shihui", "--http", "127.0.0.1:7880", "--secret", SECRET]


class Floor(Target):
    def __init__(self, mode):
        self.name = f"floor-{mode}"
        self.mode = mode
        self.proc = subprocess.Popen([*SERVER_CPU, str(REFLECTOR), "127.0.0.1", "9000", mode], stdout=subprocess.PIPE, text=True)
        assert "listening" in self.proc.stdout.readline()

    def args(self):
        return ["--target", "floor", "--floor", "127.0.0.1:9000", "--floor-mode", self.mode]


class Janus(Target):
    name = "janus"
    bind = "10.200.0.1"

    def __init__(self, tmp):
        cfg = janus_config.write(Path(tmp) / "janus")
        self.log = open(Path(tmp) / "janus.log", "w")
        self.proc = subprocess.Popen([*SERVER_CPU, "janus", "-F", str(cfg.parent), "-C", str(cfg)], stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                urllib.request.urlopen("http://127.0.0.1:8088/janus/info", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("janus did not start (see janus.log)")

    def args(self):
        return ["--target", "janus", "--janus", "127.0.0.1:8088"]


def bench(target, scenario, warmup, duration, **sizes):
    cmd = [*CLIENT_CPU, str(BENCH), *target.args(), "--bind", target.bind, "--server-pid", str(target.proc.pid), "--scenario", scenario,
           "--warmup", str(warmup), "--duration", str(duration), "--label", target.name]
    for k, v in sizes.items():
        cmd += [f"--{k.replace('_', '-')}", str(v)]
    limit = 120 + sizes.get("subscribers", 0) * 0.2 + sizes.get("joins", 0) * 0.1 + sizes.get("rooms", 0) * 0.5
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=limit)
    if p.returncode != 0:
        raise AssertionError(f"{target.name} {scenario} {sizes}: {p.stderr.strip()}")
    if os.environ.get("BENCH_DEBUG_AUTH") and p.stderr:
        print(p.stderr[:4000], file=sys.stderr)
    if os.environ.get("BENCH_DEBUG_LAT") and p.stderr:
        Path(os.environ["BENCH_DEBUG_LAT"]).write_text(p.stderr)
    r = json.loads(p.stdout)
    r["sizes"] = sizes
    brief = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()
             if k in ("delivered_pps", "pps_per_server_cpu_second", "server_cpu_fraction", "loss", "latency_p50_us",
                      "latency_p99_us", "not_connected", "auth_failures", "joins_per_second")}
    print(f"  {target.name:12} {scenario:10} {sizes}: {brief}", flush=True)
    return r


def best(results):
    return max(results, key=lambda r: r["pps_per_server_cpu_second"])


def run_on(make, scenario, warmup, duration, **sizes):
    """Starts a fresh server, runs one bench on it, stops it."""
    t = make()
    try:
        return bench(t, scenario, warmup, duration, **sizes)
    finally:
        t.stop()


def alternating(makers, reps, scenario, warmup, duration, **sizes):
    """The same run on every target, `reps` times, the order reversed every other repetition
    (so that drift in the machine does not favour one target); runs by target name."""
    runs = {}
    for rep in range(reps):
        for make in (makers if rep % 2 == 0 else list(reversed(makers))):
            r = run_on(make, scenario, warmup, duration, **sizes)
            runs.setdefault(r["label"], []).append(r)
    return runs


def broadcast_comparison(tmp, subscribers, reps, warmup, duration, with_janus, video):
    """1 → S broadcast on every target, repeated with the order alternating; best of the reps."""
    makers = [lambda: Shihui(tmp, "cm"), lambda: Floor("srtp"), lambda: Floor("plain")]
    if with_janus:
        makers.append(lambda: Janus(tmp))
    runs = alternating(makers, reps, "broadcast", warmup, duration, subscribers=subscribers, **video)
    return {name: best(rs) for name, rs in runs.items()}, runs


def latency_comparison(tmp, reps, video):
    """Added latency at 1 → 100 (2.5 Mbit/s: even a keyframe's paced peak keeps Shihui under half
    a core) on Shihui and both floors (the srtp floor does the same crypto per copy), order
    alternating, each target's lowest p99 kept; then one run of Shihui and the plain floor with
    unpaced frames (every frame a burst), which shows the fan-out queue."""
    makers = [lambda: Shihui(tmp, "cm"), lambda: Floor("srtp"), lambda: Floor("plain")]
    runs = alternating(makers, reps, "broadcast", 2, 5, subscribers=100, **video)
    chosen = {name: min(rs, key=lambda r: r.get("latency_p99_us", 10**9)) for name, rs in runs.items()}
    for make in (makers[0], makers[2]):
        r = run_on(make, "broadcast", 2, 5, subscribers=100, **dict(video, pacing=0))
        r["label"] += " (bursts)"
        chosen[r["label"]] = r
    return {"chosen": chosen, "runs": runs}


def ratio_line(chosen):
    shihui = chosen["shihui-cm"]["pps_per_server_cpu_second"]
    floor = chosen["floor-srtp"]["pps_per_server_cpu_second"]
    janus = chosen.get("janus", {}).get("pps_per_server_cpu_second")
    janus_ratio = f"{shihui / janus:.2f}" if janus else "n/a"
    # The latency tail beside the floor's from the same runs: a refactor must not move their ratio.
    p99 = chosen["shihui-cm"].get("latency_p99_us", 0)
    floor_p99 = chosen["floor-srtp"].get("latency_p99_us", 0)
    p99_ratio = f"{p99 / floor_p99:.2f}" if floor_p99 else "n/a"
    return (f"shihui_srtp_pps_per_cpu={shihui:.0f} floor_srtp_pps_per_cpu={floor:.0f} "
            f"ratio={shihui / floor:.2f} janus_ratio={janus_ratio} "
            f"shihui_p99_us={p99} floor_p99_us={floor_p99} p99_ratio={p99_ratio}")


def table(rows, title):
    print(f"\n{title}")
    print(f"  {'target':12} {'scenario':10} {'size':28} {'pkt/s':>9} {'pkt/CPU-s':>10} {'CPU':>5} {'loss':>7} "
          f"{'p50 µs':>7} {'p99 µs':>7} {'p99.9':>7} {'RSS MiB':>8} {'joins/s':>8}")
    for r in rows:
        size = ",".join(f"{k[:3]}={v}" for k, v in r["sizes"].items() if k in ("subscribers", "publishers", "rooms", "joins", "bitrate", "signaling"))
        print(f"  {r['label']:12} {r['scenario']:10} {size:28} {r['delivered_pps']:9.0f} {r['pps_per_server_cpu_second']:10.0f} "
              f"{r['server_cpu_fraction']:5.2f} {r['loss']:7.4f} {r.get('latency_p50_us', 0):7} {r.get('latency_p99_us', 0):7} "
              f"{r.get('latency_p999_us', 0):7} {r['server_rss_kib_after'] / 1024:8.1f} {r['joins_per_second']:8.0f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["quick", "full", "smoke", "one"])
    ap.add_argument("--out", default=None, help="folder for the JSON and plots (default docs/bench; smoke: a temporary folder)")
    ap.add_argument("--target", default="shihui-cm", help="one: shihui-cm, shihui-gcm, floor-srtp, floor-plain or janus")
    ap.add_argument("--scenario", default="broadcast", help="one: broadcast, meeting, rooms, audio or join-storm")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="one: a shihui-bench option (subscribers=100, bitrate=1000000, ...)")
    a = ap.parse_args()
    for f in (BENCH, SERVER, REFLECTOR):
        assert f.exists(), f"{f} missing: build first (make bench-quick builds)"
    enter_namespace()
    if PIN:  # this script, too, stays off the server's core (it was seen running there mid-window)
        os.sched_setaffinity(0, {0})
    have_janus = shutil.which("janus") is not None
    tmp = tempfile.mkdtemp(prefix="shihui-bench-")
    if a.mode == "one":
        makers = {"shihui-cm": lambda: Shihui(tmp, "cm"), "shihui-gcm": lambda: Shihui(tmp, "gcm"),
                  "floor-srtp": lambda: Floor("srtp"), "floor-plain": lambda: Floor("plain"), "janus": lambda: Janus(tmp)}
        sizes = {k: (int(v) if v.isdigit() else v) for k, v in (kv.split("=", 1) for kv in a.set)}
        r = run_on(makers[a.target], a.scenario, float(sizes.pop("warmup", 2)), float(sizes.pop("duration", 5)), **sizes)
        r.pop("latency_cdf_us", None)
        print(json.dumps(r, indent=1, sort_keys=True))
        return
    out = Path(a.out) if a.out else (Path(tmp) if a.mode == "smoke" else ROOT / "docs" / "bench")
    out.mkdir(parents=True, exist_ok=True)
    video = dict(bitrate=2_500_000, fps=30, packet_size=1200)
    started = time.time()
    report = {"mode": a.mode, "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine(), "video": video}
    if a.mode == "smoke":
        chosen, runs = broadcast_comparison(tmp, 20, 1, 1, 2, have_janus, video)
    elif a.mode == "quick":
        chosen, runs = broadcast_comparison(tmp, 200, 3, 1, 4, have_janus, video)
    else:
        chosen, runs = broadcast_comparison(tmp, 500, 3, 2, 6, have_janus, dict(video, bitrate=1_000_000))
        report["latency_comparison"] = latency_comparison(tmp, 3, video)
        report["scenarios"] = full_scenarios(tmp, have_janus, video)
        report["memory_per_viewer"] = memory_per_viewer(report["scenarios"])
    report["broadcast_comparison"] = {"chosen": chosen, "runs": runs}
    table(list(chosen.values()), "broadcast (best of the repetitions):")
    if "latency_comparison" in report:
        table(list(report["latency_comparison"]["chosen"].values()), "latency at 1 → 100 (lowest p99 of the repetitions):")
    if "scenarios" in report:
        table(report["scenarios"], "scenarios:")
    if report.get("memory_per_viewer"):
        m = report["memory_per_viewer"]
        print(f"memory per viewer (1 → 1000 minus 1 → 100, 100 kbit/s): RSS {m['rss_kib']:.1f} KiB, live heap {m.get('heap_kib', 0):.1f} KiB")
    (out / ("latest.json" if a.mode == "full" else f"{a.mode}.json")).write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    if a.mode == "full":
        plots(report, out)
        (out / "latest.md").write_text(markdown(report))
    check(chosen, a.mode)
    print(f"\n{a.mode} took {time.time() - started:.0f} s; results in {out}")
    print(ratio_line(chosen))


def check(chosen, mode):
    """What a run must show to count: every target delivered, Shihui lost nothing below
    saturation and every sampled packet authenticated."""
    for name, r in chosen.items():
        assert r["delivered_packets"] > 0 and r["pps_per_server_cpu_second"] > 0, (name, r)
        assert r["not_connected"] == 0, (name, r)
        assert r["auth_failures"] == 0, (name, r)
        # Every target is timed, the srtp floor too (it leaves the send time in clear).
        assert r.get("latency_p50_us", 0) > 0 and r["auth_sampled"] > 0, (name, r)
    s = chosen["shihui-cm"]
    # OpenSSL allocates from its own heap in the server, and only for handshakes and contexts:
    # a window of forwarding makes (next to) no allocation, let alone one per packet.
    assert s.get("server_crypto_allocations_in_window", 10**9) < max(100, s["delivered_packets"] // 1000), s
    if mode in ("smoke", "quick"):
        assert s["loss"] < 0.01, s


def full_scenarios(tmp, have_janus, video):
    """Every scenario of issue 5. Media shapes keep each run below saturation where the figure
    is a cost (per packet, per participant); sizes from the issue."""
    hd = dict(video)                                             # 2.5 Mbit/s, 30 fps
    mid = dict(video, bitrate=1_000_000)
    low = dict(video, bitrate=500_000, fps=15)
    small = dict(video, bitrate=300_000, fps=15)
    tiny = dict(video, bitrate=100_000, fps=5, audio_ptime=100)
    # rooms 1000×3 is a memory figure: 3,000 publishers even at 100 kbit/s and 5 fps send 81k
    # packets/s in and need 162k out, past what one core forwards; this shape stays below it.
    # With publishers at phases of their own (as independent browsers are) nearly every input
    # packet is a wake-up of its own, and 24 kbit/s at 2 fps with 200 ms audio saturated the
    # server (0.86 CPU, 2.5–9.5 % loss); 12 kbit/s at 1 fps with 400 ms audio is at ~0.7.
    thin = dict(video, bitrate=12_000, fps=1, audio_ptime=400)
    plan = [
        ("broadcast", dict(subscribers=10), hd), ("broadcast", dict(subscribers=100), hd),
        ("broadcast", dict(subscribers=500), mid), ("broadcast", dict(subscribers=1000), low),
        # The memory per viewer (see memory_per_viewer): a pair at a shape below saturation here
        # (at 500 kbit/s 1 → 1000 saturates this machine, and queues and repair caches then
        # count as memory per viewer).
        ("broadcast", dict(subscribers=100), tiny), ("broadcast", dict(subscribers=1000), tiny),
        ("meeting", dict(publishers=10), hd), ("meeting", dict(publishers=25), mid),
        ("rooms", dict(rooms=100), small), ("rooms", dict(rooms=100, signaling="whep"), small),
        ("rooms", dict(rooms=1000), thin),
        ("audio", dict(publishers=5, subscribers=500), hd),
        # Joins measured against a thin stream: forwarding to those already joined would
        # otherwise compete with the handshakes and make the figure swing with its own speed.
        ("join-storm", dict(joins=1000), tiny), ("join-storm", dict(joins=1000, signaling="whep"), tiny),
    ]
    # Janus on the shapes it runs below saturation: 1 → 100, meeting 10×10, rooms 100×3, and a
    # smaller join storm (it handshakes one viewer at a time).
    janus_plan = [next(p for p in plan if p[:2] == key) for key in
                  [("broadcast", dict(subscribers=100)), ("meeting", dict(publishers=10)), ("rooms", dict(rooms=100))]]
    janus_plan.append(("join-storm", dict(joins=300), tiny))
    rows = []

    def run(make, scenario, sizes, shape):
        t = make()
        try:
            rows.append(bench(t, scenario, 2, 2 if scenario == "join-storm" else 5, **sizes, **shape))
        except (AssertionError, subprocess.TimeoutExpired) as e:
            print(f"  {t.name} {scenario} {sizes}: FAILED {e}", flush=True)
        finally:
            t.stop()

    for scenario, sizes, shape in plan:
        run(lambda: Shihui(tmp, "cm"), scenario, sizes, shape)
    for scenario, sizes, shape in plan[:4]:
        run(lambda: Floor("srtp"), scenario, sizes, shape)
    if have_janus:
        for scenario, sizes, shape in janus_plan:
            run(lambda: Janus(tmp), scenario, sizes, shape)
    return rows


def memory_per_viewer(rows):
    """Server memory per meeting viewer: the difference between Shihui's 1 → 1000 and 1 → 100
    broadcasts at the same media shape (same shared packet cache), over the 900 viewers between:
    RSS, and the live heap (the server's shihui_heap_bytes_in_use), whose gap to RSS is
    fragmentation."""
    pick = {r["viewer_connections"]: r for r in rows if r["target"] == "shihui" and r["scenario"] == "broadcast"
            and r["sizes"].get("bitrate") == 100_000 and r["viewer_connections"] in (100, 1000)}
    if len(pick) < 2:
        return None
    small, big = pick[100], pick[1000]
    out = {"viewers": 900, "rss_kib": (big["server_rss_kib_after"] - small["server_rss_kib_after"]) / 900}
    if "server_heap_kib_after" in big and "server_heap_kib_after" in small:
        out["heap_kib"] = (big["server_heap_kib_after"] - small["server_heap_kib_after"]) / 900
    return out


def markdown(report):
    """The tables of docs/PERFORMANCE.md, from a full run's report."""
    def row(r):
        sizes = ", ".join(f"{k} {v}" for k, v in r["sizes"].items() if k in ("subscribers", "publishers", "rooms", "joins"))
        if r.get("signaling") == "whep" and r["target"] != "floor":
            sizes += " (WHEP)" if r["target"] == "shihui" else " (a handle per feed)"
        shape = f"{r['sizes'].get('bitrate', 0) // 1000} kbit/s"
        lat = lambda k: f"{r[k] / 1000:.1f}" if k in r else "–"
        return (f"| {r['label']} | {r['scenario']} {sizes} | {shape} | {r['publishers'] + r['viewer_connections']} | {r['delivered_pps']:.0f} | "
                f"**{r['pps_per_server_cpu_second']:.0f}** | {r['server_cpu_fraction']:.2f} | {r['loss'] * 100:.2f} % | {lat('latency_p50_us')} | "
                f"{lat('latency_p99_us')} | {lat('latency_p999_us')} | {r['server_rss_kib_after'] / 1024:.0f} | {r['joins_per_second']:.0f} |")
    head = ("| target | scenario | video | peer connections | delivered pkt/s | pkt per server CPU-s | server CPU | loss | "
            "p50 ms | p99 ms | p99.9 ms | RSS MiB | joins/s |\n|" + "---|" * 13)
    chosen = report["broadcast_comparison"]["chosen"]
    out = [f"Run of {report['date']} ({report['machine']['cpu']}, {report['machine']['cores']} cores, pinned: {report['machine']['pinned']}).", "",
           "Broadcast 1 → 500, best of 3 alternating repetitions:", "", head]
    out += [row(r) for r in chosen.values()]
    out += ["", ratio_line(chosen), ""]
    if "latency_comparison" in report:
        out += ["Latency at 1 → 100, 2.5 Mbit/s, paced as libwebrtc paces (lowest p99 of 3 alternating repetitions), then unpaced:", "", head]
        out += [row(r) for r in report["latency_comparison"]["chosen"].values()]
        out += [""]
    out += ["Scenarios:", "", head]
    out += [row(r) for r in report.get("scenarios", [])]
    storms = [r for r in report.get("scenarios", []) if r["scenario"] == "join-storm"]
    if storms:
        out += ["", "Join storms, per viewer from the start of its signaling: connected (ICE + DTLS) and first media packet, ms:", "",
                "| target | joins | signaling | joins/s | connected p50 | p99 | first media p50 | p99 |", "|" + "---|" * 8]
        ms = lambda r, k: f"{r[k]:.0f}" if k in r else "–"
        out += [f"| {r['label']} | {r['viewer_connections']} | {r.get('signaling', '')} | {r['joins_per_second']:.0f} | {ms(r, 'join_p50_ms')} | "
                f"{ms(r, 'join_p99_ms')} | {ms(r, 'first_media_p50_ms')} | {ms(r, 'first_media_p99_ms')} |" for r in storms]
    if report.get("memory_per_viewer"):
        m = report["memory_per_viewer"]
        out += ["", f"Memory per meeting viewer (1 → 1000 minus 1 → 100 at 100 kbit/s, 5 fps, over 900 viewers): "
                    f"RSS **{m['rss_kib']:.1f} KiB**, live heap **{m.get('heap_kib', 0):.1f} KiB**."]
    return "\n".join(out) + "\n"


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "?")
    flags = next((l for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("flags")), "")
    return {"cpu": cpu, "cores": os.cpu_count(), "pinned": PIN, "aes": " aes " in flags, "sha_ni": " sha_ni " in flags,
            "kernel": os.uname().release}


def plots(report, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = report["scenarios"] + list(report["broadcast_comparison"]["chosen"].values())
    labels = sorted({r["label"] for r in rows})

    def figure(name, xlabel, ylabel, draw, legend_size=None):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        draw(ax)
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=legend_size)
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)

    def per_label(x, y, keep, **style):
        def draw(ax):
            for label in labels:
                pts = sorted((x(r), y(r)) for r in rows if r["label"] == label and keep(r))
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label, **style)
        return draw

    def latency(ax):
        for r in list(report.get("latency_comparison", {}).get("chosen", {}).values()) or rows:
            cdf = r.get("latency_cdf_us") or []
            if cdf and r["scenario"] in ("broadcast", "meeting"):
                ax.plot([p[0] / 1000 for p in cdf], [p[1] for p in cdf], label=f"{r['label']} {r['scenario']} {r['viewer_connections']}")

    figure("pps_per_cpu.png", "subscribers (broadcast 1 → S)", "forwarded packets per server CPU-second",
           per_label(lambda r: r["viewer_connections"], lambda r: r["pps_per_server_cpu_second"], lambda r: r["scenario"] == "broadcast"))
    figure("latency_cdf.png", "latency, send to arrival (ms)", "fraction of sampled packets", latency, legend_size=7)
    figure("rss.png", "peer connections (publishers + viewer connections)", "server RSS (MiB)",
           per_label(lambda r: r["publishers"] + r["viewer_connections"], lambda r: r["server_rss_kib_after"] / 1024,
                     lambda r: True, linestyle=""))


if __name__ == "__main__":
    main()
