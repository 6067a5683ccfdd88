#!/usr/bin/env bash
# The table in docs/LEARNING.md: the staircase's servers under the same load.
#
#   benches/learning.sh                 # from the project root; about 90 s
#   SECS=10 CONNS="1 100" benches/learning.sh
#
# Each server (examples/blocking_server, examples/thread_per_connection, examples/mio_http and
# spindle on /-/plaintext, all answering a 14-byte "Hello, World!\n") gets wrk with 1, 100 and
# 5000 kept-alive connections for SECS seconds. Printed per run: requests per second, wrk's p99
# latency, the server's peak RSS and thread count (sampled from /proc every 100 ms), wrk's
# errors, and two probes taken a quarter of the way in: how many connections wait in the listener's
# accept queue (the Recv-Q that `ss -ltn` shows for a listening socket), and how long one more
# client (curl, a new connection) waits for its answer. wrk counts a latency only for a request
# that was answered, and says nothing of the connections a server never reads: the blocking
# server's p99 is the p99 of the one client it serves, and the probes show the others. Only
# loopback is used; every run stops by itself.
set -euo pipefail

SECS=${SECS:-5}
CONNS=${CONNS:-1 100 5000}
SERVERS=${SERVERS:-blocking_server thread_per_connection mio_http spindle}

command -v wrk >/dev/null || { echo "learning.sh needs wrk (apt install wrk)" >&2; exit 1; }
# 5000 clients and 5000 server sockets in one machine: raise the descriptor limit to what the
# hard limit allows.
ulimit -n "$(ulimit -Hn)"
cargo build --release --quiet --bin spindle --examples
bin=target/release
scratch=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$scratch"' EXIT

# A quarter into a run: the accept queue of port $1, then one more client's wait for URL, at
# most half the run (so that its answer cannot come from the load ending).
probe() {
    local quarter half
    quarter=$(awk -v s="$SECS" 'BEGIN {print s / 4}')
    half=$(awk -v s="$SECS" 'BEGIN {print s / 2}')
    sleep "$quarter"
    ss -ltnH "sport = :$1" | awk '{print $2; exit}' >"$scratch/queue"
    curl -s -o /dev/null -m "$half" -w '%{time_total}' "$URL" >"$scratch/newcomer" 2>/dev/null ||
        echo "none in $half s" >"$scratch/newcomer"
}

# Starts server $1 on a free loopback port; sets PID and URL.
start() {
    local out="$scratch/out"
    : >"$out"
    case $1 in
    spindle) "$bin/spindle" -q --bind 127.0.0.1:0 "$scratch" >"$out" 2>/dev/null & ;;
    *) "$bin/examples/$1" 127.0.0.1:0 >"$out" 2>/dev/null & ;;
    esac
    PID=$!
    for _ in $(seq 50); do
        grep -q '^listening on http://' "$out" && break
        sleep 0.1
    done
    local addr
    addr=$(sed -n 's#^listening on http://\([^/]*\)/.*#\1#p' "$out" | head -1)
    [ -n "$addr" ] || { echo "$1 did not start" >&2; exit 1; }
    PORT=${addr##*:}
    case $1 in
    spindle) URL="http://$addr/-/plaintext" ;;
    *) URL="http://$addr/" ;;
    esac
}

# Peak VmRSS (KiB) and Threads of $1 until it exits or the flag file goes; into $scratch/peak.
sample() {
    local pid=$1 rss=0 thr=0 r t
    while [ -e "$scratch/sampling" ] && [ -r "/proc/$pid/status" ]; do
        r=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        t=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        [ "${r:-0}" -gt "$rss" ] && rss=$r
        [ "${t:-0}" -gt "$thr" ] && thr=$t
        sleep 0.1
    done
    echo "$rss $thr" >"$scratch/peak"
}

printf '| server | connections | req/s | p99 | peak RSS | threads | accept queue | one more client | wrk errors |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|---|\n'
for server in $SERVERS; do
    for c in $CONNS; do
        start "$server"
        touch "$scratch/sampling"
        sample "$PID" &
        sampler=$!
        threads=$((c < 2 ? 1 : 2))
        probe "$PORT" &
        prober=$!
        wrk -t"$threads" -c"$c" -d"${SECS}s" --timeout 2s --latency "$URL" >"$scratch/wrk" 2>&1 || true
        wait "$prober" || true
        rm -f "$scratch/sampling"
        wait "$sampler" || true
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
        read -r rss thr <"$scratch/peak"
        rps=$(awk '/^Requests\/sec:/ {printf "%d", $2}' "$scratch/wrk")
        p99=$(awk '$1 == "99%" {print $2}' "$scratch/wrk")
        errs=$(sed -n 's/^ *Socket errors: *//p' "$scratch/wrk")
        newcomer=$(cat "$scratch/newcomer")
        case $newcomer in none*) ;; *) newcomer=$(awk -v t="$newcomer" 'BEGIN {printf "%.1f ms", t * 1000}') ;; esac
        printf '| %s | %d | %s | %s | %d MiB | %d | %s | %s | %s |\n' "$server" "$c" "${rps:-0}" \
            "${p99:--}" $(((rss + 512) / 1024)) "$thr" "$(cat "$scratch/queue")" "$newcomer" \
            "${errs:-none}"
    done
done
