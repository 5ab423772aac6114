#!/usr/bin/env bash
# HTTP load: qorgau's check endpoints beside nginx serving a static body of
# the same size, both on loopback, loaded by wrk in the same run.
#
#   bench/http/load.sh            (after `make build`; installs wrk and nginx if missing)
#
# Environment: DURATION (default 10s), SUBJECTS (default 20000), PORT_Q
# (18080), PORT_N (18081), THREADS (server threads, default nproc).
# Prints requests/s, p50 and p99 for each, and qorgau/nginx as a ratio.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-10s}
SUBJECTS=${SUBJECTS:-20000}
PORT_Q=${PORT_Q:-18080}
PORT_N=${PORT_N:-18081}
THREADS=${THREADS:-$(nproc)}
BIN=build/qorgau
[ -x "$BIN" ] || { echo "load.sh: run 'make build' first" >&2; exit 2; }
scripts/install-bench-deps

work=$(mktemp -d)
cleanup() {
  [ -n "${QPID:-}" ] && kill -TERM "$QPID" 2>/dev/null && wait "$QPID" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== starting qorgau with $SUBJECTS synthetic subscribers on 127.0.0.1:$PORT_Q"
"$BIN" --data "$work/q" demo --subjects "$SUBJECTS" --serve "127.0.0.1:$PORT_Q" >"$work/q.log" 2>&1 &
QPID=$!
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$PORT_Q/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -sf "http://127.0.0.1:$PORT_Q/readyz" >/dev/null || { echo "qorgau did not start" >&2; cat "$work/q.log" >&2; exit 1; }
KEY=$(awk '$1 == "crm" {print $2}' "$work/q/keys.txt")

single='{"subject":1,"purpose":"marketing"}'
ids=$(seq -s, 1 100)
batch="{\"purpose\":\"marketing\",\"subjects\":[$ids]}"
check_answer=$(curl -s -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "$single" "http://127.0.0.1:$PORT_Q/v1/check")
batch_answer=$(curl -s -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "$batch" "http://127.0.0.1:$PORT_Q/v1/check/batch")

echo "== starting nginx on 127.0.0.1:$PORT_N with static bodies of ${#check_answer} and ${#batch_answer} bytes"
mkdir -p "$work/nginx/html"
printf '%s' "$check_answer" >"$work/nginx/html/check.json"
printf '%s' "$batch_answer" >"$work/nginx/html/batch.json"
cat >"$work/nginx.conf" <<CONF
worker_processes $THREADS;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$PORT_N reuseport;
    root $work/nginx/html;
    # POST to a static file is 405 in nginx; serve the body for any method.
    location = /v1/check { error_page 405 =200 /check.json; try_files /check.json =404; }
    location = /v1/check/batch { error_page 405 =200 /batch.json; try_files /batch.json =404; }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"
sleep 0.5

lua() {  # $1 body
  cat <<LUA
wrk.method = "POST"
wrk.body = '$1'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
LUA
}
lua "$single" >"$work/single.lua"
lua "$batch" >"$work/batch.lua"
# Batches spread over the population: each request names the next 100
# subjects (the decision log's subject index then costs about a row per
# decision, its worst case), where "batch" names the same 100 each time.
cat >"$work/spread.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
local next_id = math.random(0, $SUBJECTS - 1)
request = function()
  local ids = {}
  for i = 1, 100 do
    ids[i] = (next_id % $SUBJECTS) + 1
    next_id = next_id + 1
  end
  local body = '{"purpose":"marketing","subjects":[' .. table.concat(ids, ",") .. ']}'
  return wrk.format(nil, nil, nil, body)
end
LUA

# Prints "req/s p50 p99" from wrk --latency output.
run() {  # $1 conns, $2 lua, $3 url
  local threads=2
  [ "$1" -lt 2 ] && threads=1
  wrk -t"$threads" -c"$1" -d"$DURATION" --latency -s "$2" "$3" 2>&1 | awk '
    /Requests\/sec/ {rps=$2}
    /^ +50%/ {p50=$2}
    /^ +99%/ {p99=$2}
    END {printf "%s %s %s\n", rps, p50, p99}'
}

printf '\n%-34s %12s %10s %10s\n' "workload" "requests/s" "p50" "p99"
declare -A R
for name in single batch spread; do
  for conns in 64 1; do
    path=/v1/check
    [ "$name" = single ] || path=/v1/check/batch
    q=$(run "$conns" "$work/$name.lua" "http://127.0.0.1:$PORT_Q$path")
    n=$(run "$conns" "$work/$name.lua" "http://127.0.0.1:$PORT_N$path")
    read -r qr qp50 qp99 <<<"$q"
    read -r nr np50 np99 <<<"$n"
    printf '%-34s %12s %10s %10s\n' "qorgau $name check, $conns conn" "$qr" "$qp50" "$qp99"
    printf '%-34s %12s %10s %10s\n' "nginx static, $conns conn" "$nr" "$np50" "$np99"
    ratio=$(awk -v a="$qr" -v b="$nr" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "n/a" }')
    printf '%-34s %12s\n' "  qorgau / nginx" "$ratio"
  done
done
echo
echo "target (DESIGN.md): single checks, 64 connections: qorgau >= 60% of nginx requests/s"
echo "target (issue 8): batch checks of 100 subjects, 64 connections: >= 10 000 requests/s (1 M decisions/s), p99 <= 20 ms"
echo "decisions recorded in the decision log during the run: $(curl -s "http://127.0.0.1:$PORT_Q/metrics" | awk '/^qorgau_decisions_total/ {s += $2} END {print s}')"
