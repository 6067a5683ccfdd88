#!/usr/bin/env bash
# Server CPU per request of two spindle binaries, run alternately under the same wrk load, so
# that a change's cost is measured against its parent on one noisy machine, round by round.
#
#   benches/ab_cpu.sh OLD_BINARY NEW_BINARY            # keep-alive, 100 connections
#   PIPELINE=16 ROUNDS=5 benches/ab_cpu.sh OLD NEW     # pipelined x16
#   TLS=1 benches/ab_cpu.sh OLD NEW                    # over HTTPS (--tls-self-signed)
#
# The server runs on SERVER_CPUS (0), wrk on CLIENT_CPUS (1), as in ../shared/bench; the last
# line gives each binary's median and their ratio.
# CPU is the server's utime+stime from /proc/PID/stat over the run, divided by the requests
# wrk completed. Only loopback is used; every run stops by itself after DURATION.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 OLD_BINARY NEW_BINARY" >&2; exit 2; }
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
PIPELINE=${PIPELINE:-}
TLS=${TLS:-}
SERVER_CPUS=${SERVER_CPUS:-0}
CLIENT_CPUS=${CLIENT_CPUS:-1}
tls_args=()
[ -n "$TLS" ] && tls_args=(--tls-self-signed)
lua=$(cd "$(dirname "$0")" && pwd)/pipeline.lua
tick_ns=$((1000000000 / $(getconf CLK_TCK)))
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

old=()
new=()
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
for round in $(seq "$ROUNDS"); do
    for bin in "$1" "$2"; do
        dir=$(mktemp -d)
        taskset -c "$SERVER_CPUS" "$bin" -q --bind 127.0.0.1:0 "${tls_args[@]}" "$dir" >"$dir/out" 2>/dev/null &
        pid=$!
        sleep 0.3
        url=$(sed -n 's#^listening on \(https*://[^/]*\)/.*#\1#p' "$dir/out")
        taskset -c "$CLIENT_CPUS" wrk -t1 -c100 -d1s "$url/-/plaintext" >/dev/null # warm-up
        t0=$(cpu "$pid")
        if [ -n "$PIPELINE" ]; then
            out=$(taskset -c "$CLIENT_CPUS" wrk -t1 -c100 -d"$DURATION" -s "$lua" "$url/-/plaintext" -- "$PIPELINE")
        else
            out=$(taskset -c "$CLIENT_CPUS" wrk -t1 -c100 -d"$DURATION" "$url/-/plaintext")
        fi
        t1=$(cpu "$pid")
        reqs=$(echo "$out" | awk '/requests in/ {print $1}')
        rps=$(echo "$out" | awk '/^Requests\/sec/ {printf "%d", $2}')
        ns=$(((t1 - t0) * tick_ns / reqs))
        echo "round $round $bin: $rps req/s, server CPU $ns ns/req"
        if [ "$bin" = "$1" ]; then old+=("$ns"); else new+=("$ns"); fi
        kill "$pid"
        wait "$pid" 2>/dev/null || true
        rm -rf "$dir"
    done
done
m_old=$(median "${old[@]}")
m_new=$(median "${new[@]}")
echo "median server CPU per request: old $m_old ns, new $m_new ns, new/old $(awk -v a="$m_new" -v b="$m_old" 'BEGIN {printf "%.3f", a / b}')"
