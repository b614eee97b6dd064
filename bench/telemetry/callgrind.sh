#!/bin/bash
# Instructions per request of a bench app's Rohas server, telemetry on and
# off, counted by callgrind: steady where wall-clock on/off ratios on a
# shared machine move by more than the change being measured.
#
#   bench/telemetry/callgrind.sh ROHAS_BIN [rust|python|typescript] [PATH] [REQUESTS]
#
# Runs `rohas codegen`, then `rohas start` on the language's bench app under valgrind with
# counting off, sends 3,000 warm-up requests on four connections at once
# (each serving thread's span vector grows to its size in its first
# turns; 500 on one connection left a thread that had recorded nothing,
# and its growth, up to 200 instructions a request, was counted), then
# counts (every thread of
# the server: serving, the telemetry writer) over REQUESTS (default 4,000)
# `GET PATH` (default /health) on one keep-alive connection, once with
# telemetry at its default and once with all three `enable_*` off. Prints
# instructions per request for each and telemetry's share. The profiles
# stay in $OUT.on and $OUT.off (default /tmp/rohas-telemetry.callgrind)
# for `callgrind_annotate --inclusive=yes`. A TypeScript app's Node.js
# workers are other processes: only the engine's part is counted.
set -euo pipefail
BIN=$(realpath "$1"); LANGUAGE=${2:-rust}; URL_PATH=${3:-/health}; N=${4:-4000}
OUT=${OUT:-/tmp/rohas-telemetry.callgrind}
HERE=$(cd "$(dirname "$0")" && pwd)
case $LANGUAGE in
    rust) APP=$HERE/../rust/rohas-app ;;
    python) APP=$HERE/../http/rohas-app ;;
    typescript) APP=$HERE/../typescript/rohas-app ;;
    *) echo "language: rust, python or typescript" >&2; exit 2 ;;
esac
PORT=${PORT:-18996}
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT

# Sends `$2` GET requests on one connection to port $1.
requests() {
    python3 - "$1" "$2" "$URL_PATH" << 'EOF'
import http.client, sys
port, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for _ in range(n):
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit(f"GET {path} answered {r.status}")
EOF
}

count() {
    local mode=$1 out=$OUT.$1
    (
        export ROHAS_LOG_LEVEL=warn ROHAS_TELEMETRY_PATH=$SCRATCH/$mode
        if [ "$mode" = off ]; then
            export ROHAS_TELEMETRY_ENABLE_TRACES=false ROHAS_TELEMETRY_ENABLE_LOGS=false \
                ROHAS_TELEMETRY_ENABLE_METRICS=false
        fi
        valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
            "$BIN" -C "$APP" start --port "$PORT" > "$SCRATCH/$mode.log" 2>&1 &
        server=$!
        for _ in $(seq 900); do
            curl -sf "localhost:$PORT/health" > /dev/null && break
            kill -0 $server 2> /dev/null || { cat "$SCRATCH/$mode.log" >&2; exit 1; }
            sleep 0.2
        done
        # On four connections at once, so that every serving thread has
        # recorded spans before counting starts (its span vector grows in
        # its first turns; the counted connection may land on any thread).
        warm=()
        for _ in 1 2 3 4; do requests "$PORT" 750 & warm+=($!); done
        wait "${warm[@]}"
        sleep 1
        callgrind_control -i on $server > /dev/null
        requests "$PORT" "$N"
        # The writer's turn for the last requests.
        sleep 1
        callgrind_control -i off $server > /dev/null
        kill $server
        wait $server 2> /dev/null || true
    ) || return 1
    callgrind_annotate "$out" 2> /dev/null | awk '/PROGRAM TOTALS/ && !n++ {gsub(",", "", $1); print $1}'
}

"$BIN" -C "$APP" codegen > /dev/null
# A server that could not start has printed its log: stop there.
on=$(count on) || exit 1
off=$(count off) || exit 1
echo "$LANGUAGE GET $URL_PATH: on $((on / N)), off $((off / N)), telemetry $(((on - off) / N)) instructions per request ($(basename "$BIN"))"
