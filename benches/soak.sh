#!/usr/bin/env bash
# soak.sh: several wrk loads at once (keep-alive, pipelined, close, /-/bytes/65536, /-/delay/5
# and /-/delay/5000, 404s) plus IDLE idle keep-alive connections against one spindle for
# SOAK_SECS, sampling the server's RSS and open descriptors every 10 s; fails if either grows after
# the first minute, if any wrk run reports an error, or if the server closes an idle connection
# or dies.
#
#   benches/soak.sh                        # 5 minutes, from the repository root
#   SOAK_SECS=90 IDLE=500 benches/soak.sh  # a quick look
#
# Environment: SOAK_SECS (300), IDLE (2000 idle connections, held by benches/idle_conns.py),
# PORT (0: a free one), SPINDLE (binary; default `cargo build --release`, then
# $CARGO_TARGET_DIR/release/spindle or target/release/spindle), OUT (the sample table, TSV;
# default target/soak.tsv under the same target dir), KEEP_STATE=1 keeps the temp dir (server
# log, raw wrk output). Needs wrk, python3, curl. Exit status 0 PASS, 1 FAIL, 2 setup failure.
#
# The idle connections make one request each and then stay silent; spindle runs with
# --keep-alive-timeout SOAK_SECS+300 so that its idle timeout (5 s by default) does not close
# them during the soak (the holder does not re-send anything). Every wrk runs -t1 for exactly
# SOAK_SECS with --timeout 15s. /-/delay/N counts milliseconds (SPEC §5), so /-/delay/5 is 5 ms;
# /-/delay/5000 (5 s, on a few connections) exercises long reactor timers, hence the timeout.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

SOAK_SECS=${SOAK_SECS:-300}
IDLE=${IDLE:-2000}
PORT=${PORT:-0}
KEEP_STATE=${KEEP_STATE:-0}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
OUT=${OUT:-$TARGET_DIR/soak.tsv}
INTERVAL=10
WRK_TIMEOUT=15s

die() { echo "soak.sh: $*" >&2; exit 2; }
log() { echo "soak.sh: $*" >&2; }

[[ $SOAK_SECS =~ ^[0-9]+$ ]] && [ "$SOAK_SECS" -ge 20 ] || die "SOAK_SECS must be a whole number of seconds >= 20"
[[ $IDLE =~ ^[0-9]+$ ]] || die "IDLE must be a number"
[[ $PORT =~ ^[0-9]+$ ]] || die "PORT must be a number"

for t in wrk python3 curl; do
  command -v "$t" >/dev/null || die "$t not found (apt-get install -y wrk python3 curl)"
done

# --- the binary --------------------------------------------------------------------------------
if [ -z "${SPINDLE:-}" ]; then
  log "cargo build --release"
  cargo build --release -q || die "cargo build --release failed"
  SPINDLE=$TARGET_DIR/release/spindle
fi
[ -x "$SPINDLE" ] || die "no spindle binary at $SPINDLE"

# --- the load mix ------------------------------------------------------------------------------
# name | connections | wrk arguments after -c (URL path last, then lua args). All -t1.
KA_FILE_C=8 KA_PLAIN_C=8 PIPE_C=4 CLOSE_C=4 BYTES_C=4 DELAY_C=4 DELAY_LONG_C=4 NOTFOUND_C=4
WRK_NAMES=(ka-file ka-plaintext pipelined close bytes-64k delay-5ms delay-5s not-found)
LOAD_CONNS=$((KA_FILE_C + KA_PLAIN_C + PIPE_C + CLOSE_C + BYTES_C + DELAY_C + DELAY_LONG_C + NOTFOUND_C))
wrk_args() { # NAME BASEURL: prints one argument per line
  local b=$2
  case $1 in
    ka-file) printf '%s\n' -c"$KA_FILE_C" "$b/hello.txt" ;;
    ka-plaintext) printf '%s\n' -c"$KA_PLAIN_C" "$b/-/plaintext" ;;
    pipelined) printf '%s\n' -c"$PIPE_C" -s "$REPO/benches/pipeline.lua" "$b/-/plaintext" -- 16 ;;
    close) printf '%s\n' -c"$CLOSE_C" -H 'Connection: close' "$b/page.html" ;;
    bytes-64k) printf '%s\n' -c"$BYTES_C" "$b/-/bytes/65536" ;;
    delay-5ms) printf '%s\n' -c"$DELAY_C" "$b/-/delay/5" ;;
    delay-5s) printf '%s\n' -c"$DELAY_LONG_C" "$b/-/delay/5000" ;;
    not-found) printf '%s\n' -c"$NOTFOUND_C" "$b/no/such/file" ;;
  esac
}

# --- limits, state, cleanup --------------------------------------------------------------------
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
[ "$NOFILE" = unlimited ] && NOFILE=1048576
MAXCONN=$((IDLE + LOAD_CONNS + 256))
[ "$NOFILE" -ge $((MAXCONN + 64)) ] || die "open-file limit $NOFILE is too low for $MAXCONN connections (raise the hard limit or lower IDLE)"

STATE=$(mktemp -d "${TMPDIR:-/tmp}/spindle-soak.XXXXXX") || die "mktemp failed"
ROOT=$STATE/root
mkdir -p "$ROOT/dir"
printf 'Hello, World!' >"$ROOT/hello.txt"
python3 -c 'import sys; sys.stdout.write("<!doctype html><title>soak</title>\n" + "<p>spindle soak test</p>\n" * 160)' >"$ROOT/page.html"
head -c 300000 /dev/urandom >"$ROOT/dir/blob.bin"

SERVER_PID=
HOLDER_PID=
WRK_PIDS=()
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
stop_pid() { # PID: SIGTERM, up to 5 s, then SIGKILL; only that PID
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  for ((i = 0; i < 50; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local p
  for p in "${WRK_PIDS[@]}"; do stop_pid "$p"; done
  stop_pid "$HOLDER_PID"
  stop_pid "$SERVER_PID"
  if [ "$KEEP_STATE" = 1 ]; then log "logs and raw output kept in $STATE"; else rm -rf "$STATE"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- server ------------------------------------------------------------------------------------
SERVER_LOG=$STATE/spindle.log
KEEPALIVE=$((SOAK_SECS + 300))
"$SPINDLE" --bind "127.0.0.1:$PORT" --max-connections "$MAXCONN" --keep-alive-timeout "$KEEPALIVE" \
  "$ROOT" </dev/null >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
BASE=
for ((i = 0; i < 100; i++)); do
  BASE=$(sed -n 's|^listening on \(http://[^/]*\)/.*|\1|p' "$SERVER_LOG" | head -n 1)
  [ -n "$BASE" ] && break
  alive "$SERVER_PID" || break
  sleep 0.1
done
[ -n "$BASE" ] || die "spindle did not start: $(tail -n 5 "$SERVER_LOG" | tr '\n' ' ')"
PORT=${BASE##*:}
[ "$(curl -s -m 3 "$BASE/-/plaintext")" = "Hello, World!" ] || die "spindle does not answer /-/plaintext"
log "spindle pid $SERVER_PID on $BASE, --max-connections $MAXCONN --keep-alive-timeout $KEEPALIVE"

# One request to everything the load will ask for, so that any lazily built state exists before
# the baseline is taken.
for p in /hello.txt /page.html /-/plaintext /-/bytes/65536 /-/delay/5 /no/such/file /-/stats; do
  curl -s -m 3 -o /dev/null "$BASE$p" || die "curl $p failed"
done

rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0; }
nfds() { { find "/proc/$SERVER_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null || true; } | wc -l; }
stat_field() { # FIELD: a number from /-/stats (or -)
  { curl -s -m 2 "$BASE/-/stats" 2>/dev/null || true; } | python3 -c 'import json, sys
try: print(json.load(sys.stdin)[sys.argv[1]])
except Exception: print("-")' "$1"
}

# --- idle connections --------------------------------------------------------------------------
HOLDER_OUT=$STATE/idle.txt
if [ "$IDLE" -gt 0 ]; then
  log "opening $IDLE idle connections"
  python3 "$REPO/benches/idle_conns.py" 127.0.0.1 "$PORT" /-/plaintext "$IDLE" \
    --timeout 60 --hold $((SOAK_SECS + 120)) >"$HOLDER_OUT" 2>&1 &
  HOLDER_PID=$!
  READY=
  for ((i = 0; i < 700; i++)); do
    READY=$(grep -m1 '^READY' "$HOLDER_OUT" 2>/dev/null || true)
    [ -n "$READY" ] && break
    alive "$HOLDER_PID" || break
    sleep 0.1
  done
  case $READY in
    "READY ok=$IDLE failed=0 pending=0"*) log "$READY" ;;
    *) die "idle holder fell short: $(tr '\n' ' ' <"$HOLDER_OUT" | cut -c1-300)" ;;
  esac
fi
sleep 1
FDS_BASE=$(nfds)
RSS_BASE=$(rss_kb)
log "before load: VmRSS $RSS_BASE kB, $FDS_BASE descriptors (with $IDLE idle connections)"

# --- load --------------------------------------------------------------------------------------
for name in "${WRK_NAMES[@]}"; do
  mapfile -t args < <(wrk_args "$name" "$BASE")
  wrk -t1 -d"${SOAK_SECS}s" --timeout "$WRK_TIMEOUT" "${args[@]}" >"$STATE/wrk-$name.txt" 2>&1 &
  WRK_PIDS+=($!)
done
log "${#WRK_PIDS[@]} wrk processes ($LOAD_CONNS connections), ${SOAK_SECS}s"

# --- samples -----------------------------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
printf 't_s\trss_kb\tfds\tconns_open\trequests_total\n' >"$OUT"
T_S=() RSS=() FDS=()
start=${EPOCHREALTIME/./}
sample() { # LABEL
  local r f c q
  r=$(rss_kb)
  f=$(nfds)
  c=$(stat_field connections_open)
  q=$(stat_field requests_total)
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$r" "$f" "$c" "$q" >>"$OUT"
  printf '%8s %10s %8s %11s %15s\n' "$1" "$r" "$f" "$c" "$q"
  LAST_RSS=$r LAST_FDS=$f
}
printf '%8s %10s %8s %11s %15s\n' t_s rss_kb fds conns_open requests_total
SERVER_DIED=0
# Samples at 0, 10, ... up to the last tick strictly before wrk's end (the end itself is
# wrk's teardown, not load).
for ((t = 0; t < SOAK_SECS; t += INTERVAL)); do
  now=${EPOCHREALTIME/./}
  wait_us=$((start + t * 1000000 - now))
  if [ "$wait_us" -gt 0 ]; then sleep "$(printf '%d.%06d' $((wait_us / 1000000)) $((wait_us % 1000000)))"; fi
  if ! alive "$SERVER_PID"; then SERVER_DIED=1; break; fi
  sample "$t"
  T_S+=("$t") RSS+=("$LAST_RSS") FDS+=("$LAST_FDS")
done

for p in "${WRK_PIDS[@]}"; do wait "$p" || true; done
WRK_PIDS=()

# After the load: every load connection should be gone (the /-/delay/5000 ones within 5 s), leaving
# exactly the descriptors of before the load.
FDS_AFTER=
if ! alive "$SERVER_PID"; then SERVER_DIED=1; fi
if [ "$SERVER_DIED" = 0 ]; then
  for ((i = 0; i < 100; i++)); do
    FDS_AFTER=$(nfds)
    [ "$FDS_AFTER" -le "$FDS_BASE" ] && break
    sleep 0.1
  done
  sample after
fi

# --- verdict -----------------------------------------------------------------------------------
FAILS=()
NOTES=()
[ "$SERVER_DIED" = 1 ] && FAILS+=("spindle died: $(tail -n 5 "$SERVER_LOG" | tr '\n' ' ')")

# wrk: no socket errors anywhere, no non-2xx except in the 404 run (where every answer must be
# one), and every run completed requests.
echo
printf '%-13s %12s %10s  %s\n' run requests req/s errors
for name in "${WRK_NAMES[@]}"; do
  f=$STATE/wrk-$name.txt
  reqs=$(awk '/ requests in / { print $1 }' "$f")
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$f")
  sock=$(grep -m1 'Socket errors:' "$f" | sed 's/^ *//' || true)
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$f")
  errs=${sock:-none}
  [ -n "$non2xx" ] && errs="$errs; non-2xx $non2xx"
  printf '%-13s %12s %10s  %s\n' "$name" "${reqs:--}" "${rps:--}" "$errs"
  if [ -z "$reqs" ] || [ "$reqs" = 0 ]; then
    FAILS+=("wrk $name completed no requests: $(tr '\n' ' ' <"$f" | cut -c1-200)")
    continue
  fi
  [ -n "$sock" ] && FAILS+=("wrk $name: $sock")
  if [ "$name" = not-found ]; then
    [ "${non2xx:-0}" = "$reqs" ] || FAILS+=("wrk $name: ${non2xx:-0} non-2xx of $reqs requests (all should be 404)")
  else
    [ -z "$non2xx" ] || FAILS+=("wrk $name: $non2xx non-2xx or 3xx responses")
  fi
  other=$(grep -iE 'error|panic' "$f" | grep -v 'Socket errors:' | head -n 1 || true)
  [ -z "$other" ] || FAILS+=("wrk $name printed an error: $other")
done

# Idle connections: all still open at the end (none closed by the server's timers).
if [ -n "$HOLDER_PID" ]; then
  stop_pid "$HOLDER_PID"
  HOLDER_PID=
  done_line=$(grep -m1 '^DONE' "$HOLDER_OUT" || true)
  echo
  echo "idle holder: ${done_line:-no DONE line}"
  case $done_line in
    "DONE open=$IDLE closed_by_server=0") ;;
    *) FAILS+=("idle connections: ${done_line:-holder printed nothing}") ;;
  esac
fi

# Growth, judged on the samples after the first minute against the sample at 60 s.
# RSS: tolerance max(1 MiB, 10 % of the 60 s sample). Buffers come from a pool that reaches its
# high-water mark within the first minute, but glibc's allocator still moves RSS by a few hundred
# KiB (arena trimming, page reuse) without any leak. A real leak is per request or per
# connection: at the tens of thousands of requests per second this mix makes, even one byte per
# request is >10 MiB over the remaining four minutes, far above the tolerance.
# Descriptors: = constant (stdio, epoll, listener, waker; IDLE idle connections; the keep-alive
# wrk connections, which stay open) + churn (the close-mode connections, each of which may be
# between accept and close at a sampling instant, plus a file descriptor for each request that
# is serving a file — close and ka-file connections — plus the sampler's own /-/stats
# connection). So a sample after 60 s may differ from the 60 s sample by at most CHURN in either
# direction; more than that above it means descriptors are accumulating. The sharp check is after
# the load: once wrk has exited, the count must return exactly to the pre-load baseline.
CHURN=$((2 * CLOSE_C + KA_FILE_C + 2))
i60=-1
for i in "${!T_S[@]}"; do
  if [ "${T_S[$i]}" -ge 60 ]; then i60=$i; break; fi
done
echo
if [ "$i60" -lt 0 ] || [ "$i60" -ge $((${#T_S[@]} - 1)) ]; then
  NOTES+=("fewer than two samples at or after 60 s: growth after the first minute not judged (SOAK_SECS=$SOAK_SECS; use >= 80)")
else
  rss60=${RSS[$i60]} fds60=${FDS[$i60]}
  tol=$((rss60 / 10 > 1024 ? rss60 / 10 : 1024))
  rssmax=$rss60 fdsmax=$fds60
  for ((i = i60 + 1; i < ${#T_S[@]}; i++)); do
    [ "${RSS[$i]}" -gt "$rssmax" ] && rssmax=${RSS[$i]}
    [ "${FDS[$i]}" -gt "$fdsmax" ] && fdsmax=${FDS[$i]}
  done
  echo "RSS: $rss60 kB at 60 s, max $rssmax kB after (+$((rssmax - rss60)) kB; tolerance $tol kB)"
  echo "descriptors: $fds60 at 60 s, max $fdsmax after (+$((fdsmax - fds60)); tolerance $CHURN for close-mode and file churn)"
  [ $((rssmax - rss60)) -le "$tol" ] || FAILS+=("RSS grew after the first minute: $rss60 -> $rssmax kB (tolerance $tol kB)")
  [ $((fdsmax - fds60)) -le "$CHURN" ] || FAILS+=("descriptors grew after the first minute: $fds60 -> $fdsmax (tolerance $CHURN)")
fi
if [ -n "$FDS_AFTER" ]; then
  echo "descriptors: $FDS_BASE before the load, $FDS_AFTER after it (must be equal)"
  [ "$FDS_AFTER" -le "$FDS_BASE" ] || FAILS+=("descriptors after the load: $FDS_AFTER, more than the $FDS_BASE before it")
fi

nwarn=$(grep -ciE 'warn|error|panic' "$SERVER_LOG" || true)
if [ "$nwarn" -gt 0 ]; then
  NOTES+=("spindle's log: $nwarn warn/error lines, e.g. $(grep -iE 'warn|error|panic' "$SERVER_LOG" | head -n 2 | tr '\n' ' ' | cut -c1-300)")
  if grep -qi panic "$SERVER_LOG"; then FAILS+=("spindle's log mentions a panic"); fi
fi

echo "samples: $OUT"
for n in "${NOTES[@]}"; do echo "note: $n"; done
if [ ${#FAILS[@]} -gt 0 ]; then
  for f in "${FAILS[@]}"; do echo "FAIL: $f"; done
  echo "FAIL"
  exit 1
fi
echo "PASS"
exit 0
