#!/usr/bin/env bash
# load.sh: spindle and nginx under wrk on loopback, side by side, plus spindle's memory with
# 10 000 idle connections. Self-contained (needs wrk, nginx, curl, taskset, python3).
#
#   benches/load.sh                       # about 2 minutes
#   DURATION=3s benches/load.sh           # a quick look
#   SERVERS=spindle benches/load.sh       # spindle only
#
# Each row gets a fresh server pinned to SERVER_CPU (0), a 1 s warm-up with the same wrk
# arguments, then a DURATION run of `wrk -t1` pinned to CLIENT_CPU (1):
#   keep-alive   100 connections
#   pipelined    100 connections, PIPELINE (16) requests per write (benches/pipeline.lua)
#   close        100 connections, `Connection: close` (a new connection for every request)
#   10k conns    10 000 keep-alive connections
# spindle answers GET /-/plaintext, nginx GET /hello.txt: both "Hello, World!" (13 bytes).
# "server CPU" is the utime+stime delta of the server process (/proc/PID/stat) over the
# measured run, divided by the requests wrk completed.
#
# Last, spindle alone: IDLE_CONNS (10 000) connections each make one request and stay open
# (benches/idle_conns.py); prints VmRSS before and with them. spindle runs with
# --keep-alive-timeout IDLE_KEEPALIVE (60) there so that its default 5 s idle timeout does not
# close them while we measure.
#
# Environment: DURATION (10s), SERVERS ("spindle nginx"), PIPELINE (16), SERVER_CPU (0),
# CLIENT_CPU (1), PORT_BASE (21800), IDLE_CONNS (10000), IDLE_KEEPALIVE (60), KEEP_STATE (0: the
# temp directory with logs and raw wrk output is removed on exit; 1 keeps it),
# SPINDLE_BIN (default target/release/spindle, after `cargo build --release`).
# Exit status: 0 when every run completed; 1 when a server crashed, answered wrongly or the idle
# test fell short (the table is still printed); 2 on a setup failure.
set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCHES="$REPO/benches"
cd "$REPO" || exit 2

DURATION=${DURATION:-10s}
SERVERS=${SERVERS:-spindle nginx}
PIPELINE=${PIPELINE:-16}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PORT_BASE=${PORT_BASE:-21800}
IDLE_CONNS=${IDLE_CONNS:-10000}
IDLE_KEEPALIVE=${IDLE_KEEPALIVE:-60}
KEEP_STATE=${KEEP_STATE:-0}
NGINX_SENDFILE=${NGINX_SENDFILE:-off}
NGINX_TCP_NOPUSH=${NGINX_TCP_NOPUSH:-off}
CLK_TCK=$(getconf CLK_TCK)

die() { echo "load.sh: $*" >&2; exit 2; }

# Duration in whole seconds (wrk accepts 10s, 2m, 1h; a bare number is seconds).
dur_secs() {
  local d=$1
  case $d in
    *ms) echo 1 ;;
    *s) echo "${d%s}" ;;
    *m) echo $(("${d%m}" * 60)) ;;
    *h) echo $(("${d%h}" * 3600)) ;;
    *) echo "$d" ;;
  esac
}
DUR_S=$(dur_secs "$DURATION")
[[ $DUR_S =~ ^[0-9]+$ ]] && [ "$DUR_S" -ge 1 ] || die "DURATION '$DURATION' is not a duration (e.g. 10s)"

# --- tools ------------------------------------------------------------------------------------
missing=()
for t in wrk nginx curl; do command -v "$t" >/dev/null || missing+=("$t"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "load.sh: installing ${missing[*]} (wrk nginx-light curl)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk nginx-light curl >&2 ||
      { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk nginx-light curl >&2; } ||
      die "could not install ${missing[*]}"
  else
    die "missing ${missing[*]} (apt-get install wrk nginx-light curl)"
  fi
fi
for t in wrk nginx curl taskset python3 timeout; do
  command -v "$t" >/dev/null || die "$t not found"
done

# --- build ------------------------------------------------------------------------------------
if [ -z "${SPINDLE_BIN:-}" ]; then
  echo "load.sh: cargo build --release" >&2
  cargo build --release -q || die "cargo build --release failed"
fi
SPINDLE_BIN=${SPINDLE_BIN:-$REPO/target/release/spindle}
[ -x "$SPINDLE_BIN" ] || die "no spindle binary at $SPINDLE_BIN"

# --- limits, state, cleanup -------------------------------------------------------------------
ulimit -n 65535 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
NOFILE=$(ulimit -n)
[ "$NOFILE" = unlimited ] && NOFILE=65535
if [ "$NOFILE" -lt 10100 ]; then
  echo "load.sh: warning: open-file limit is $NOFILE; the 10 000-connection runs will fall short" >&2
fi
# nginx's worker_connections: at least 20000, and no more than the descriptor limit if that is higher.
NGINX_CONNS=$((NOFILE > 20000 ? NOFILE : 20000))

STATE=$(mktemp -d "${TMPDIR:-/tmp}/spindle-load.XXXXXX") || die "mktemp failed"
DOCROOT="$STATE/docroot"
mkdir -p "$DOCROOT"
printf 'Hello, World!' >"$DOCROOT/hello.txt"

SERVER_PID=
WRK_PID=
HELPER_PID=
stop_pid() { # PID: SIGTERM, up to 5 s, then SIGKILL; only that PID
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  for ((i = 0; i < 50; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  alive "$pid" && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
cleanup() {
  stop_pid "$WRK_PID"
  stop_pid "$HELPER_PID"
  stop_pid "$SERVER_PID"
  if [ "$KEEP_STATE" = 1 ]; then echo "load.sh: logs and raw output kept in $STATE" >&2; else rm -rf "$STATE"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# A free port at or above $1 (nothing listening or connected on it).
PORT=$PORT_BASE
next_port() {
  local p=$((PORT + 1))
  while ss -Htan "sport = :$p" 2>/dev/null | grep -q .; do p=$((p + 1)); done
  PORT=$p
}

write_nginx_conf() { # DIR PORT
  local d=$1 port=$2
  mkdir -p "$d/tmp"
  cat >"$d/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid $d/nginx.pid;
error_log $d/error.log warn;
events {
    worker_connections $NGINX_CONNS;
    multi_accept on;
}
http {
    access_log off;
    sendfile $NGINX_SENDFILE;
    tcp_nopush $NGINX_TCP_NOPUSH;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    open_file_cache max=1000 inactive=60s;
    types { text/plain txt; }
    default_type application/octet-stream;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    server {
        listen 127.0.0.1:$port backlog=4096;
        root $DOCROOT;
    }
}
EOF
}

url_for() { # SERVER PORT
  case $1 in
    spindle) echo "http://127.0.0.1:$2/-/plaintext" ;;
    nginx) echo "http://127.0.0.1:$2/hello.txt" ;;
  esac
}

# start_server NAME PORT [EXTRA ARGS...]: sets SERVER_PID and SERVER_LOG; waits until the right
# answer comes back. Returns 1 (with the log's tail) on failure.
start_server() {
  local name=$1 port=$2 i body
  shift 2
  local -a cmd
  SERVER_LOG="$STATE/$name-$port.log"
  case $name in
    spindle) cmd=("$SPINDLE_BIN" --bind "127.0.0.1:$port" "$@" "$DOCROOT") ;;
    nginx)
      write_nginx_conf "$STATE/nginx-$port" "$port"
      cmd=(nginx -p "$STATE/nginx-$port" -e "$STATE/nginx-$port/error.log" -c "$STATE/nginx-$port/nginx.conf") ;;
    *) echo "load.sh: unknown server '$name' (spindle or nginx)" >&2; return 1 ;;
  esac
  # The subshell execs taskset, which execs the server: $! is the server's own PID.
  (ulimit -n "$NOFILE" 2>/dev/null; exec taskset -c "$SERVER_CPU" "${cmd[@]}") </dev/null >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  for ((i = 0; i < 150; i++)); do
    if ! alive "$SERVER_PID"; then
      echo "load.sh: $name exited during start-up:" >&2
      tail -n 20 "$SERVER_LOG" >&2
      wait "$SERVER_PID" 2>/dev/null
      SERVER_PID=
      return 1
    fi
    body=$(curl -s -m 1 "$(url_for "$name" "$port")" 2>/dev/null)
    if [ "$body" = "Hello, World!" ]; then return 0; fi
    sleep 0.1
  done
  echo "load.sh: $name did not answer 'Hello, World!' on port $port within 15 s (last: '${body:0:60}')" >&2
  stop_pid "$SERVER_PID"
  SERVER_PID=
  return 1
}

cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'; }

# run_wrk OUT ARGS...: wrk pinned to CLIENT_CPU, bounded by timeout, interruptible by our traps.
run_wrk() {
  local out=$1
  shift
  timeout -k 5 "$((DUR_S + 60))" taskset -c "$CLIENT_CPU" wrk "$@" >"$out" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID"
  local rc=$?
  WRK_PID=
  return $rc
}

# parse_wrk FILE -> "requests rps p99 connect read write timeout non2xx" or "fail"
parse_wrk() {
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                     if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v + 0 }
    / requests in / { n = $1 }
    /^Requests\/sec:/ { rps = $2 }
    /^[ \t]+99%/ { p99 = ms($2) }
    /Socket errors:/ { gsub(",", ""); c = $4; r = $6; w = $8; t = $10 }
    /Non-2xx or 3xx responses:/ { x = $NF }
    END { if (rps == "") { print "fail"; exit }
          printf "%d %.0f %.3f %d %d %d %d %d\n", n, rps, p99, c, r, w, t, x }' "$1"
}

fmt_rps() { awk -v r="$1" 'BEGIN { s = sprintf("%d", r); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); print s }'; }
fmt_ms() { awk -v v="$1" 'BEGIN { if (v >= 1000) printf "%.2f s", v / 1000; else if (v >= 1) printf "%.2f ms", v; else printf "%.0f µs", v * 1000 }'; }

ROWS=()
NOTES=()
P99_NA=0
BAD=0

# measure WORKLOAD SERVER: fresh server, warm-up, measured run, one table row.
measure() {
  local workload=$1 name=$2 url raw res n rps p99 ec er ew et ex c0 c1 us errs
  local -a args
  local label=$workload
  case $workload in pipelined*) label="$workload¹" ;; esac
  case $workload in
    keep-alive) args=(-c100) ;;
    "pipelined x$PIPELINE") args=(-c100 -s "$BENCHES/pipeline.lua") ;;
    close) args=(-c100 -H 'Connection: close') ;;
    "10k conns") args=(-c10000 --timeout 2s) ;;
  esac
  next_port
  if ! start_server "$name" "$PORT"; then
    ROWS+=("| $label | $name | - | - | - | - |")
    NOTES+=("$workload / $name: the server did not start (see above)")
    BAD=1
    return
  fi
  url=$(url_for "$name" "$PORT")
  local -a tail_args=()
  [ "$workload" = "pipelined x$PIPELINE" ] && tail_args=(-- "$PIPELINE")
  echo "load.sh: $workload / $name: warm-up 1s, then $DURATION" >&2
  run_wrk "$STATE/warmup-$name-$PORT.txt" -t1 "${args[@]}" -d1s "$url" "${tail_args[@]}"
  raw="$STATE/wrk-$name-${workload//[^a-z0-9-]/_}.txt"
  c0=$(cpu_ticks "$SERVER_PID")
  run_wrk "$raw" -t1 "${args[@]}" -d"$DURATION" --latency "$url" "${tail_args[@]}"
  c1=$(cpu_ticks "$SERVER_PID")
  res=$(parse_wrk "$raw")
  if ! alive "$SERVER_PID"; then
    wait "$SERVER_PID" 2>/dev/null
    local st=$?
    NOTES+=("$workload / $name: the server DIED during the run (exit status $st); log tail: $(tail -n 5 "$SERVER_LOG" | tr '\n' ' ')")
    SERVER_PID=
    BAD=1
  else
    # Still answering correctly after the load?
    local after
    after=$(curl -s -m 3 "$url" 2>/dev/null)
    if [ "$after" != "Hello, World!" ]; then
      NOTES+=("$workload / $name: after the run the server answered '${after:0:40}' (not 'Hello, World!')")
      BAD=1
    fi
  fi
  if [ "$res" = fail ]; then
    ROWS+=("| $label | $name | wrk failed | - | - | - |")
    NOTES+=("$workload / $name: wrk printed no result: $(tr '\n' ' ' <"$raw" | cut -c1-300)")
    BAD=1
  else
    read -r n rps p99 ec er ew et ex <<<"$res"
    errs=$((ec + er + ew + et))
    local errcell=$errs
    [ "$errs" -gt 0 ] && errcell="$errs (connect $ec, read $er, write $ew, timeout $et)"
    [ "$ex" -gt 0 ] && errcell="$errcell; non-2xx $ex"
    if [ -n "$c0" ] && [ -n "$c1" ] && [ "$n" -gt 0 ]; then
      us=$(awk -v a="$c0" -v b="$c1" -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.2f", (b - a) / hz / n * 1e6 }')
    else
      us=-
    fi
    local p99cell
    if [ "$p99" = 0.000 ]; then
      p99cell="n/a²"
      P99_NA=1
    else
      p99cell=$(fmt_ms "$p99")
    fi
    ROWS+=("| $label | $name | $(fmt_rps "$rps") | $p99cell | $errcell | $us |")
  fi
  stop_pid "$SERVER_PID"
  SERVER_PID=
  # Anything the server complained about (warm-up included).
  local logs=("$SERVER_LOG") nwarn first
  [ "$name" = nginx ] && logs+=("$STATE/nginx-$PORT/error.log")
  nwarn=$(cat "${logs[@]}" 2>/dev/null | grep -ciE 'warn|error|panic|crit|alert|emerg')
  if [ "$nwarn" -gt 0 ]; then
    first=$(cat "${logs[@]}" 2>/dev/null | grep -iE 'warn|error|panic|crit|alert|emerg' | head -n 2 | tr '\n' ' ')
    NOTES+=("$workload / $name: $nwarn warning/error lines in the server's log, e.g. ${first:0:300}")
  fi
}

WORKLOADS=("keep-alive" "pipelined x$PIPELINE" "close" "10k conns")
for w in "${WORKLOADS[@]}"; do
  for s in $SERVERS; do
    measure "$w" "$s"
  done
done

# --- idle connections: spindle's memory ---------------------------------------------------------
rss_kib() { awk -v k="$2" '$1 == k ":" { print $2 }' "/proc/$1/status" 2>/dev/null; }
IDLE_LINES=()
idle_test() {
  local out="$STATE/idle.txt" i ready rss0 rss1 hwm est
  next_port
  start_server spindle "$PORT" --keep-alive-timeout "$IDLE_KEEPALIVE" || { BAD=1; IDLE_LINES+=("spindle did not start"); return; }
  sleep 0.5
  rss0=$(rss_kib "$SERVER_PID" VmRSS)
  echo "load.sh: idle: opening $IDLE_CONNS connections to spindle" >&2
  python3 "$BENCHES/idle_conns.py" 127.0.0.1 "$PORT" /-/plaintext "$IDLE_CONNS" \
    --timeout 60 --hold "$((IDLE_KEEPALIVE - 5))" >"$out" 2>&1 &
  HELPER_PID=$!
  ready=
  for ((i = 0; i < 700; i++)); do
    ready=$(grep -m1 '^READY' "$out" 2>/dev/null)
    [ -n "$ready" ] && break
    alive "$HELPER_PID" || break
    sleep 0.1
  done
  if [ -z "$ready" ]; then
    IDLE_LINES+=("idle_conns.py never reported: $(tr '\n' ' ' <"$out" | cut -c1-300)")
    BAD=1
  else
    sleep 1 # let the reactor settle
    est=$(ss -Htn state established "( sport = :$PORT )" 2>/dev/null | wc -l)
    rss1=$(rss_kib "$SERVER_PID" VmRSS)
    hwm=$(rss_kib "$SERVER_PID" VmHWM)
    IDLE_LINES+=("idle_conns.py: $ready")
    while IFS= read -r l; do IDLE_LINES+=("$l"); done < <(grep '^  failure' "$out")
    IDLE_LINES+=("established connections on spindle's port: $est")
    if alive "$SERVER_PID"; then
      IDLE_LINES+=("spindle VmRSS: $rss0 KiB at start, $rss1 KiB with the idle connections (VmHWM $hwm KiB)")
      IDLE_LINES+=("$(awk -v a="$rss0" -v b="$rss1" -v n="$est" 'BEGIN { if (n > 0) printf "about %.2f KiB per idle connection (RSS growth / established connections)", (b - a) / n }')")
    else
      IDLE_LINES+=("spindle DIED while the idle connections were open; log tail: $(tail -n 5 "$SERVER_LOG" | tr '\n' ' ')")
      BAD=1
    fi
    case $ready in *"failed=0 pending=0"*) ;; *) BAD=1 ;; esac
  fi
  stop_pid "$HELPER_PID"
  HELPER_PID=
  stop_pid "$SERVER_PID"
  SERVER_PID=
  local nwarn
  nwarn=$(grep -ciE 'warn|error|panic' "$SERVER_LOG")
  [ "$nwarn" -gt 0 ] && IDLE_LINES+=("spindle's log: $nwarn warning/error lines, e.g. $(grep -iE 'warn|error|panic' "$SERVER_LOG" | head -n 2 | tr '\n' ' ' | cut -c1-300)")
  return 0
}
case " $SERVERS " in *" spindle "*) idle_test ;; esac

# --- report -------------------------------------------------------------------------------------
echo
echo "### Load: wrk -t1 on CPU $CLIENT_CPU, server on CPU $SERVER_CPU, $DURATION per run ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs)"
echo
echo "| workload | server | req/s | p99 | socket errors | server CPU µs/request |"
echo "|---|---|---:|---:|---|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "¹ pipelined: wrk records one latency per batch of $PIPELINE requests, and its coordinated-omission"
echo "correction (based on per-request counts) skews that percentile; read the pipelined p99 loosely."
if [ "$P99_NA" = 1 ]; then
  echo "² wrk printed 99% = 0: its correction added samples below the recorded minimum, which breaks its"
  echo "percentile walk (a wrk artefact, seen with pipelining), so there is no p99 for that row."
fi
if [ ${#IDLE_LINES[@]} -gt 0 ]; then
  echo
  echo "### $IDLE_CONNS idle keep-alive connections (spindle, --keep-alive-timeout $IDLE_KEEPALIVE)"
  echo
  printf -- '- %s\n' "${IDLE_LINES[@]}"
fi
if [ ${#NOTES[@]} -gt 0 ]; then
  echo
  echo "### Server log lines and problems"
  echo
  printf -- '- %s\n' "${NOTES[@]}"
fi
exit "$BAD"
