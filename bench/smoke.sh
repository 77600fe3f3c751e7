#!/usr/bin/env bash
# Smoke run of pvload and udp_sink together: a short, bounded UDP burst into
# the sink on a free loopback port must arrive (the sink counts lines).
set -euo pipefail
pvload=$1
sink=$2
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
out=$(mktemp)
"$sink" --listen 127.0.0.1:$port --seconds 2 >"$out" 2>/dev/null &
sink_pid=$!
sleep 0.3
"$pvload" udp --target 127.0.0.1:$port --max-hits 2000 --lines-per-datagram 10 --rate 20000 --seconds 5
wait $sink_pid
cat "$out"
lines=$(sed -n 's/.*lines=\([0-9]*\).*/\1/p' "$out")
rm -f "$out"
[ "$lines" -eq 2000 ] || { echo "sink counted $lines lines, expected 2000" >&2; exit 1; }
