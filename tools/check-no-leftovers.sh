#!/usr/bin/env bash
# The last step of `make test`: no process a test started may outlive it (every test stops what
# it starts by PID in its teardown). Lists survivors and fails if there are any.
set -uo pipefail
names=(shihui-server shihui-bench reflector chromium chrome_crashpad firefox-esr "Web Content" "Isolated Web Co" "RDD Process" janus gst-launch-1.0 ffmpeg ffprobe)
left=0
for n in "${names[@]}"; do
  # Zombies are not running (a container's PID 1 may never reap them): only live processes count.
  pids=$(for p in $(pgrep -x "$n" || true); do [ "$(awk '{print $3}' /proc/$p/stat 2>/dev/null)" = "Z" ] || echo $p; done)
  if [ -n "$pids" ]; then
    echo "left running after the tests: $n (pids $(echo $pids))"
    ps -o pid,ppid,etime,args -p $(echo $pids | tr ' ' ',') || true
    left=1
  fi
done
[ $left -eq 0 ] && echo "no test process left running"
exit $left
