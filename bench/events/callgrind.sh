#!/bin/bash
# Instructions per event of the events benchmark's Rohas server, counted by
# callgrind: steady where wall-clock figures on a shared machine are not, so
# a change's effect can be read from one pair of runs.
#
#   bench/events/callgrind.sh ROHAS_BIN [memory|local] [rohas-rust|rohas-python] [EVENTS]
#
# Runs `rohas codegen` and `rohas start` on the project under valgrind with
# counting off, sends one warm-up burst, then counts (all of the server's
# threads: the API handler publishing, deliveries, the queue and telemetry
# writers) over two bursts of EVENTS (default 10,000) `POST /burst` events,
# each waited for through its marker file. Prints instructions per event;
# the profile stays in $OUT (default /tmp/rohas-events.callgrind) for
# `callgrind_annotate --inclusive=yes`. Needs valgrind. The Rust project's
# library is built by `rohas start` (or earlier by bench/events/run.py).
# Under callgrind the server runs some 50 times slower, so the writers see
# smaller batches than at full speed: their per-batch costs weigh more here.
set -euo pipefail
BIN=$(realpath "$1"); ADAPTER=${2:-memory}; PROJECT=${3:-rohas-rust}; N=${4:-10000}
OUT=${OUT:-/tmp/rohas-events.callgrind}
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=${PORT:-18997}
MARKERS=$(mktemp -d)
cd "$HERE/$PROJECT"
# A new telemetry store each run: the project's own grows with every
# benchmark run (to 1.1 GB over a day's runs), and a larger store costs
# its writer more per span (page allocation), which moved the count by up
# to 7 % for the same binary.
export ROHAS_ADAPTER_TYPE=$ADAPTER ROHAS_LOG_LEVEL=warn BENCH_EVENTS_MARKERS=$MARKERS
export ROHAS_TELEMETRY_PATH=$MARKERS/telemetry
export ROHAS_CARGO_TARGET_DIR=${ROHAS_CARGO_TARGET_DIR:-$HOME/.cache/rohas-bench-events/rust-target}
if [ "$ADAPTER" = local ]; then
    export ROHAS_ADAPTER_PATH=.rohas/queue-callgrind ROHAS_ADAPTER_SYNC=batch
fi
"$BIN" codegen > /dev/null
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT" \
    "$BIN" start --port "$PORT" > "$MARKERS/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2> /dev/null || true; rm -rf "$MARKERS"' EXIT
for _ in $(seq 600); do curl -sf "localhost:$PORT/health" > /dev/null && break; sleep 0.2; done
burst() {
    curl -sf -XPOST "localhost:$PORT/burst" -H 'content-type: application/json' \
        -d "{\"run\":\"$1\",\"count\":$N,\"expected\":$N}" > /dev/null
    for _ in $(seq 6000); do [ -f "$MARKERS/$1.json" ] && return; sleep 0.05; done
    echo "burst $1 not handled in 300 s; see $MARKERS/server.log" >&2
    exit 1
}
burst warm-up
sleep 1
callgrind_control -i on $SERVER > /dev/null
burst one
burst two
sleep 1
callgrind_control -i off $SERVER > /dev/null
kill $SERVER
wait $SERVER 2> /dev/null || true
total=$(callgrind_annotate "$OUT" 2> /dev/null | awk '/PROGRAM TOTALS/ && !n++ {gsub(",", "", $1); print $1}')
echo "$PROJECT $ADAPTER: $((total / (2 * N))) instructions per event ($(basename "$BIN"))"
