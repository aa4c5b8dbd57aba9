#!/usr/bin/env bash
# Resident memory and CPU of a running nro-agent between epochs (issue target: ≤ 150 MiB, ≤ 2 % of a core).
# Starts build/nro-agent with two peers probing each other on 127.0.0.1 (fallback GPU source, no chain), lets
# it run WARMUP seconds (first epochs, probes), then samples its RSS and CPU time over MEASURE seconds, which
# span several epochs of EPOCH seconds. Usage: scripts/bench-agent.sh [build/nro-agent]
set -euo pipefail
AGENT=${1:-build/nro-agent}
EPOCH=${EPOCH:-30s}
WARMUP=${WARMUP:-40}
MEASURE=${MEASURE:-120}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

"$AGENT" init --home "$work/a" --node-id bench-a --gpus 8xH100:81920 >/dev/null
"$AGENT" init --home "$work/b" --node-id bench-b --gpus 8xH100:81920 >/dev/null
"$AGENT" start --home "$work/b" --submit=false --disable-nvml --epoch-interval "$EPOCH" \
  --probe-listen 127.0.0.1:36681 --metrics-listen 127.0.0.1:36691 --peers bench-a@127.0.0.1:36680 2>"$work/b.log" &
"$AGENT" start --home "$work/a" --submit=false --disable-nvml --epoch-interval "$EPOCH" \
  --probe-listen 127.0.0.1:36680 --metrics-listen 127.0.0.1:36690 --peers bench-b@127.0.0.1:36681 2>"$work/a.log" &
pid=$!
sleep "$WARMUP"
kill -0 "$pid" || { echo "agent exited:"; cat "$work/a.log"; exit 1; }
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
t0=$(ticks); s0=$(date +%s.%N)
peak=0 anon=0
for _ in $(seq 1 "$MEASURE"); do
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
  ra=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status")
  (( rss > peak )) && peak=$rss
  (( ra > anon )) && anon=$ra
  sleep 1
done
t1=$(ticks); s1=$(date +%s.%N)
epochs=$(curl -s http://127.0.0.1:36690/metrics | awk '/^nro_agent_epochs_total/ {print $2}')
awk -v t0="$t0" -v t1="$t1" -v s0="$s0" -v s1="$s1" -v hz="$hz" -v peak="$peak" -v anon="$anon" -v epochs="$epochs" -v e="$EPOCH" 'BEGIN {
  printf "nro-agent over %.0f s (epoch %s, %s epochs done, one peer probed per epoch): peak RSS %.1f MiB (of which private %.1f MiB; the rest is the binary mapped from disk), CPU %.2f %% of one core\n",
    s1 - s0, e, epochs, peak / 1024, anon / 1024, 100 * (t1 - t0) / hz / (s1 - s0) }'
