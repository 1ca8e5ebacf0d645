#!/usr/bin/env bash
# Broker sinks' throughput (issue 14: 10,000 events/s to a local mosquitto and redis with
# bounded memory). Starts mosquitto and redis-server on free ports, runs one test source of
# N tiny frames (one record each) into both sinks at once, and prints the events per second
# each broker acknowledged (whole run, end-of-stream drain included), the messages dropped,
# and the peak resident memory of vplc.
#
#   scripts/bench_brokers.sh [FRAMES] [BUFFER]      (defaults: 100000 frames, buffer 10000)
#   VPLC=target/release/vplc scripts/bench_brokers.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VPLC="${VPLC:-$ROOT/target/release/vplc}"
FRAMES="${1:-100000}"
BUFFER="${2:-10000}"
[ -x "$VPLC" ] || { echo "no $VPLC: cargo build --release --locked -p vplc, or set VPLC" >&2; exit 1; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/vpl-bench-brokers.XXXXXX")"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MQTT_PORT="$(free_port)"
REDIS_PORT="$(free_port)"
mosquitto -p "$MQTT_PORT" >"$TMP/mosquitto.log" 2>&1 &
PIDS+=($!)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no >"$TMP/redis.log" 2>&1 &
PIDS+=($!)
for port in "$MQTT_PORT" "$REDIS_PORT"; do
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
  done
done

cat >"$TMP/bench.vpl" <<VPL
pipeline bench {
    let r = test(frames: $FRAMES, resolution: 16x16, rate: 1000fps) | json;
    r | mqtt("mqtt://127.0.0.1:$MQTT_PORT", "bench", buffer: $BUFFER);
    r | redis("redis://127.0.0.1:$REDIS_PORT", "bench", buffer: $BUFFER);
}
VPL

start="$(date +%s.%N)"
"$VPLC" run --quiet --stats "$TMP/stats.json" "$TMP/bench.vpl" &
RUN=$!
peak=0
while kill -0 "$RUN" 2>/dev/null; do
  rss="$(awk '/VmRSS/ {print $2}' "/proc/$RUN/status" 2>/dev/null || true)"
  if [ -n "$rss" ] && [ "$rss" -gt "$peak" ]; then peak="$rss"; fi
  sleep 0.1
done
wait "$RUN"
end="$(date +%s.%N)"

python3 - "$TMP/stats.json" "$start" "$end" "$peak" "$FRAMES" "$BUFFER" <<'PY'
import json, sys
stats = json.load(open(sys.argv[1]))
start, end, peak, frames, buffer = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
secs = end - start
print(f"{frames} records, buffer {buffer}, {secs:.2f} s for the whole run, peak RSS {peak / 1024:.1f} MiB")
for b in stats["brokers"]:
    print(f"  {b['protocol']:5}: {b['delivered'] / secs:9.0f} events/s acknowledged "
          f"(delivered {b['delivered']}, dropped {b['dropped']}, undelivered {b['undelivered']})")
PY
