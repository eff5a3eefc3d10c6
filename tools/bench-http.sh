#!/usr/bin/env bash
# HTTP throughput of the signaling server: wrk against /healthz on 127.0.0.1 (docs/PERFORMANCE.md).
#   tools/bench-http.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
seconds=${1:-10}
conns=${2:-64}
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH=/opt/swift/usr/bin:$PATH
"$root/tools/ensure-packages.sh" wrk
swift build -c release --product shihui-server --package-path "$root" >/dev/null
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
"$root/.build/release/shihui-server" --http 127.0.0.1:0 --data "$work" --secret bench-secret-0123456789 > "$work/out" &
pid=$!
for _ in $(seq 50); do grep -q listening "$work/out" && break; sleep 0.1; done
port=$(grep -o '127.0.0.1:[0-9]*' "$work/out" | head -1 | cut -d: -f2)
wrk -t2 -c"$conns" -d"${seconds}s" "http://127.0.0.1:$port/healthz" | tee "$work/wrk"
rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk")
cpu=$(awk '{print ($14+$15)/100}' /proc/$pid/stat)
echo "healthz_requests_per_second=$rps server_cpu_seconds=$cpu connections=$conns seconds=$seconds"
