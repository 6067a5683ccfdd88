#!/usr/bin/env bash
# workers.sh — what `--workers N` costs and how the kernel spreads the load over the workers.
#
# For each worker count in WORKERS, ROUNDS times (the counts alternate within a round): a fresh
# `spindle --workers N --bind 127.0.0.1:PORT -q DOCROOT` pinned to SERVER_CPUS, a 1 s wrk
# warm-up, then one `wrk -t1 -cCONNS -dDURATION` pinned to CLIENT_CPUS. Around the measured run
# it reads the server's utime+stime (all threads, /proc/PID/stat) and /-/stats, so each round
# gives req/s, server CPU µs per request, and each worker's share of the connections and
# requests of that run. Then a table of medians and, for each N > 1, CPU/request(N) / CPU/request(1).
#
# Why not a scaling figure: on a 2-core machine wrk needs a core of its own, so the server gets
# one core however many workers it runs; N workers cannot go faster than 1 here. What this
# measures instead: (1) total server CPU per request with 2 workers sharing one core vs 1 worker
# (the cost of the extra reactor: target within 5 %), (2) the spread across workers (SO_REUSEPORT
# hashes connections, so 100 connections split unevenly; 10 000 split near 50/50), and
# (3) with MANY=1, 10 000 connections over the workers (`wrk -t1 -c10000 -d5s /-/plaintext`,
# --max-connections 20000) with 0 errors. On a bigger machine give both sides real cores, e.g.
#   SERVER_CPUS=0-3 CLIENT_CPUS=4-7 WORKERS="1 2 4" benches/workers.sh
# and req/s becomes the scaling figure.
#
# Settings: WORKERS ("1 2"), SERVER_CPUS (0), CLIENT_CPUS (1), DURATION (5s), CONNS (100),
# BENCH_PATH (/-/plaintext), PIPELINE (empty, or a depth: 16), ROUNDS (3), MANY (0; 1: the
# 10 000-connection check instead), PORT_BASE (23800), SPINDLE_BIN (skip the build), QUIET_WAIT
# (60: before each run, wait up to this long for the machine to be < QUIET_MAX=10 % busy).
# Exit: 0 when every run had 0 errors, 1 otherwise, 2 on a setup failure. Run from the root.
set -u

KIT=/work/shared/bench
QUIET_WAIT=${QUIET_WAIT:-60} # wait_quiet: up to this many s for an idle machine before each run
NOTES=()
# shellcheck source=/dev/null
. "$KIT/lib.sh" # client, cpu_ticks, parse_wrk, stat_snap, stat_diff, wait_quiet
# shellcheck source=/dev/null
. "$KIT/peers.sh" # free_port, peer_stop, peer_alive

WORKERS=${WORKERS:-1 2}
SERVER_CPUS=${SERVER_CPUS:-0}
CLIENT_CPUS=${CLIENT_CPUS:-1}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-100}
BENCH_PATH=${BENCH_PATH:-/-/plaintext}
PIPELINE=${PIPELINE:-}
ROUNDS=${ROUNDS:-3}
MANY=${MANY:-0}
PORT_BASE=${PORT_BASE:-23800}
BIN=${SPINDLE_BIN:-target/release/spindle}

if [ -z "${SPINDLE_BIN:-}" ]; then cargo build --release -q || exit 2; fi
[ -x "$BIN" ] || { echo "workers.sh: no binary $BIN" >&2; exit 2; }
for t in wrk curl taskset python3; do
  command -v "$t" >/dev/null || { echo "workers.sh: $t not installed" >&2; exit 2; }
done
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
STATE=$(mktemp -d "${TMPDIR:-/tmp}/spindle-workers.XXXXXX") || exit 2
printf 'Hello, World!' >"$STATE/hello.txt"
PID=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() { [ -n "$PID" ] && peer_stop "$PID"; rm -rf "$STATE"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# start N [EXTRA_ARGS...]: a fresh spindle with N workers on a free port; sets PID and URL0
start() {
  local n=$1 i
  shift
  PORT=$(free_port "${PORT:-$PORT_BASE}")
  taskset -c "$SERVER_CPUS" "$BIN" --workers "$n" --bind "127.0.0.1:$PORT" -q "$@" "$STATE" \
    </dev/null >"$STATE/server.log" 2>&1 &
  PID=$! # taskset execs spindle: the same PID
  URL0="http://127.0.0.1:$PORT"
  for ((i = 0; i < 50; i++)); do
    [ "$(curl -s -m 1 "$URL0/-/plaintext")" = "Hello, World!" ] && return 0
    peer_alive "$PID" || break
    sleep 0.1
  done
  echo "workers.sh: spindle --workers $n did not answer; log:" >&2
  tail -n 5 "$STATE/server.log" >&2
  exit 2
}
stop() { peer_stop "$PID"; PID=; PORT=$((PORT + 1)); }

# spread BEFORE AFTER: each worker's share of the run's connections and requests (stats deltas);
# prints "c1/c2/.. r1/r2/.. maxshare connections" (percentages; connections opened in the run)
spread() {
  python3 -c '
import json, sys
a, b = (json.loads(s)["workers"] for s in sys.argv[1:3])
d = [(y["connections_total"] - x["connections_total"], y["requests_total"] - x["requests_total"]) for x, y in zip(a, b)]
tc, tr = (max(1, sum(v[k] for v in d)) for k in (0, 1))
print("/".join("%.0f" % (100 * c / tc) for c, _ in d), "/".join("%.1f" % (100 * r / tr) for _, r in d),
      "%.1f" % max(100 * r / tr for _, r in d), tc)' "$1" "$2"
}

# measure N ROUND WRK_ARGS...: one measured wrk run against the running server; sets RPS US ERRS
# MAXSHARE and prints one line for the round
measure() {
  local n=$1 round=$2 raw=$STATE/wrk.txt st0 st1 c0 c1 s0 s1 reqs sh cs rs conns
  shift 2
  st0=$(curl -s -m 2 "$URL0/-/stats"); s0=$(stat_snap); c0=$(cpu_ticks "$PID")
  client wrk "$@" >"$raw" 2>&1
  c1=$(cpu_ticks "$PID"); s1=$(stat_snap); st1=$(curl -s -m 2 "$URL0/-/stats")
  read -r RPS _ _ _ ec er ew et en <<<"$(parse_wrk "$raw")"
  [ "$RPS" = fail ] && { echo "workers.sh: wrk failed: $(head -c 300 "$raw")" >&2; exit 2; }
  ERRS=$((ec + er + ew + et + en))
  reqs=$(awk '/requests in/ { print $1 }' "$raw")
  US=$(awk -v a="$c0" -v b="$c1" -v hz="$CLK_TCK" -v r="$reqs" 'BEGIN { printf "%.3f", (b - a) / hz / r * 1e6 }')
  sh=$(spread "$st0" "$st1")
  read -r cs rs MAXSHARE conns <<<"$sh"
  printf '  workers %s round %s: %8s req/s  %6s us/req  errors %s (c%s r%s w%s t%s non2xx %s)  %s conns %%: %s  requests %%: %s  busy %%: %s\n' \
    "$n" "$round" "$RPS" "$US" "$ERRS" "$ec" "$er" "$ew" "$et" "$en" "$conns" "$cs" "$rs" \
    "$(stat_diff "$s0" "$s1" | cut -d' ' -f1)"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
notes() { [ ${#NOTES[@]} -eq 0 ] || printf 'note: %s\n' "${NOTES[@]}"; }
maxof() { printf '%s\n' "$@" | sort -g | tail -n 1; }

BAD=0
if [ "$MANY" = 1 ]; then
  echo "10 000 connections: wrk -t1 -c10000 -d5s /-/plaintext (open-file limit $(ulimit -n))"
  for n in $WORKERS; do
    QUIET_WHAT="workers $n" wait_quiet
    start "$n" --max-connections 20000
    measure "$n" 1 -t1 -c10000 -d5s "$URL0/-/plaintext"
    stop
    [ "$ERRS" -eq 0 ] || BAD=1
  done
  notes
  exit "$BAD"
fi

WRK=(-t1 -c"$CONNS")
[ -n "$PIPELINE" ] && WRK+=(-s "$KIT/pipeline.lua")
WRK_TAIL=()
[ -n "$PIPELINE" ] && WRK_TAIL=(-- "$PIPELINE")
echo "wrk ${WRK[*]} -d$DURATION $BENCH_PATH ${WRK_TAIL[*]}; server on CPUs $SERVER_CPUS, wrk on $CLIENT_CPUS"
declare -A R_RPS R_US R_SHARE R_ERR
for ((r = 1; r <= ROUNDS; r++)); do
  for n in $WORKERS; do
    QUIET_WHAT="workers $n round $r" wait_quiet
    start "$n"
    client wrk "${WRK[@]}" -d1s "$URL0$BENCH_PATH" "${WRK_TAIL[@]}" >/dev/null 2>&1 # warm-up
    measure "$n" "$r" "${WRK[@]}" -d"$DURATION" "$URL0$BENCH_PATH" "${WRK_TAIL[@]}"
    stop
    R_RPS[$n]="${R_RPS[$n]:-} $RPS"
    R_US[$n]="${R_US[$n]:-} $US"
    R_SHARE[$n]="${R_SHARE[$n]:-} $MAXSHARE"
    R_ERR[$n]=$((${R_ERR[$n]:-0} + ERRS))
  done
done

echo
echo "| workers | req/s (median) | server CPU µs/request (median) | max worker share of requests % (worst round) | errors |"
echo "|---:|---:|---:|---:|---:|"
for n in $WORKERS; do
  # shellcheck disable=SC2086 # word splitting of the per-round lists is intended
  printf '| %s | %s | %s | %s | %s |\n' "$n" "$(median ${R_RPS[$n]})" "$(median ${R_US[$n]})" \
    "$(maxof ${R_SHARE[$n]})" "${R_ERR[$n]}"
  [ "${R_ERR[$n]}" -eq 0 ] || BAD=1
done
if [ -n "${R_US[1]:-}" ]; then
  # shellcheck disable=SC2086
  one=$(median ${R_US[1]})
  for n in $WORKERS; do
    [ "$n" -gt 1 ] || continue
    # shellcheck disable=SC2086
    awk -v a="$(median ${R_US[$n]})" -v b="$one" -v n="$n" \
      'BEGIN { printf "CPU/request, %d workers / 1 worker: %.3f (target <= 1.05)\n", n, a / b }'
  done
fi
notes
exit "$BAD"
