#!/usr/bin/env bash
# Single-check latency while other clients loop heavy requests: large
# batch checks (FLOOD=batch) or ledger verifications (FLOOD=verify). Heavy
# routes run on the server's worker pool, so /v1/check on the I/O threads
# should not wait behind them. Runs one server binary (or several, to
# compare). A batch flood also fills the decision log, whose bounded queue
# then slows every check (rules/decision_recorder.h): FLOOD=verify shows
# the threading alone.
#
#   bench/http/heavy.sh [BIN ...]      (default build/qorgau; needs wrk)
#
# Environment: FLOOD (batch or verify), DURATION (default 10s), SUBJECTS (default 20000), BATCH
# (subjects per batch, default 10000), FLOODERS (connections looping
# batches, default 2), CONNS (single-check connections, default 8), PORT
# (18090), THREADS (server threads, default nproc).
# Prints, per binary, requests/s, p50 and p99 of /v1/check alone and under
# the flood, and the heavy requests answered meanwhile.
set -euo pipefail
cd "$(dirname "$0")/../.."
FLOOD=${FLOOD:-batch}
DURATION=${DURATION:-10s}
SUBJECTS=${SUBJECTS:-20000}
BATCH=${BATCH:-10000}
FLOODERS=${FLOODERS:-2}
CONNS=${CONNS:-8}
PORT=${PORT:-18090}
THREADS=${THREADS:-$(nproc)}
[ $# -eq 0 ] && set -- build/qorgau
command -v wrk >/dev/null || scripts/install-bench-deps

work=$(mktemp -d)
QPID=""
cleanup() {
  [ -n "$QPID" ] && kill -TERM "$QPID" 2>/dev/null && wait "$QPID" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

lua() {  # $1 body file (empty: a GET), $2 key
  if [ -n "$1" ]; then
    cat <<LUA
local f = io.open("$1"); wrk.body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
LUA
  fi
  echo "wrk.headers[\"Authorization\"] = \"Bearer $2\""
}

# "req/s p50 p99" of wrk --latency output on stdin.
summary() {
  awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
       END {printf "%s %s %s\n", rps, p50, p99}'
}

printf '%-28s %-22s %12s %10s %10s %10s\n' binary workload "requests/s" p50 p99 heavy
for bin in "$@"; do
  [ -x "$bin" ] || { echo "heavy.sh: $bin is not an executable (make build?)" >&2; exit 2; }
  rm -rf "$work/q"
  "$bin" --data "$work/q" demo --subjects "$SUBJECTS" --serve "127.0.0.1:$PORT" >"$work/q.log" 2>&1 &
  QPID=$!
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.5
  done
  key=$(awk '$1 == "crm" {print $2}' "$work/q/keys.txt")
  printf '{"subject":1,"purpose":"marketing"}' >"$work/single.json"
  printf '{"purpose":"marketing","subjects":[%s]}' "$(seq -s, 1 "$BATCH")" >"$work/batch.json"
  lua "$work/single.json" "$key" >"$work/single.lua"
  lua "$work/batch.json" "$key" >"$work/batch.lua"
  lua "" "$(awk '$1 == "dpo" {print $2}' "$work/q/keys.txt")" >"$work/verify.lua"
  if [ "$FLOOD" = verify ]; then
    flood_lua="$work/verify.lua" flood_url="http://127.0.0.1:$PORT/v1/audit/verify"
  else
    flood_lua="$work/batch.lua" flood_url="http://127.0.0.1:$PORT/v1/check/batch"
  fi
  alone=$(wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s "$work/single.lua" "http://127.0.0.1:$PORT/v1/check" | summary)
  # The flood runs a little longer than the measurement, on both sides of it.
  wrk -t1 -c"$FLOODERS" -d"$(( ${DURATION%s} + 4 ))s" -s "$flood_lua" "$flood_url" >"$work/flood.txt" 2>&1 &
  flood=$!
  sleep 2
  loaded=$(wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s "$work/single.lua" "http://127.0.0.1:$PORT/v1/check" | summary)
  wait "$flood"
  batches=$(awk '/requests in/ {print $1}' "$work/flood.txt")
  read -r r1 a1 b1 <<<"$alone"
  read -r r2 a2 b2 <<<"$loaded"
  printf '%-28s %-22s %12s %10s %10s %10s\n' "$bin" "check alone" "$r1" "$a1" "$b1" "-"
  printf '%-28s %-22s %12s %10s %10s %10s\n' "" "check + $FLOOD flood" "$r2" "$a2" "$b2" "$batches"
  kill -TERM "$QPID"
  wait "$QPID" 2>/dev/null || true
  QPID=""
done
