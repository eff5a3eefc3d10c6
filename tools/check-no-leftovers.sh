#!/usr/bin/env bash
# The last step of `make test`: no process a test started may outlive it (every test stops what
# it starts by PID in its teardown). Lists survivors and fails if there are any.
set -uo pipefail
names=(shihui-server shihui-bench reflector chromium chrome_crashpad firefox-esr janus gst-launch-1.0 ffmpeg ffprobe)
left=0
for n in "${names[@]}"; do
  pids=$(pgrep -x "$n" || true)
  if [ -n "$pids" ]; then
    echo "left running after the tests: $n (pids $(echo $pids))"
    ps -o pid,ppid,etime,args -p $(echo $pids | tr ' ' ',') || true
    left=1
  fi
done
[ $left -eq 0 ] && echo "no test process left running"
exit $left
