#!/usr/bin/env bash
# Upload throughput of one big file, as an upload form (multipart POST, `curl -F`) and as a PUT
# (`curl -T`), into a release build on loopback. For each: wall time and MiB/s, the server's CPU
# per MiB (utime+stime from /proc/PID/stat before and after) and its peak RSS (VmHWM: each
# method gets a fresh server, so the peak is that upload's).
#
#   benches/upload.sh                      # 1 GiB, target/release/spindle, 2 rounds
#   SIZE_MIB=256 ROUNDS=3 BIN=path/to/spindle benches/upload.sh
#
# Rounds alternate the order (multipart first, then PUT first), and every upload starts after a
# `sync`, so that one method does not pay for the other's (or the test file's) writeback.
#
# Everything lives in one temporary directory under /tmp (the file, the server's ROOT), removed
# at the end. The server's CPU includes its writes to disk and the fsync before each rename.
set -euo pipefail
SIZE_MIB=${SIZE_MIB:-1024}
ROUNDS=${ROUNDS:-2}
BIN=${BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release/spindle}
[ -x "$BIN" ] || { echo "no $BIN: cargo build --release" >&2; exit 2; }
work=$(mktemp -d /tmp/spindle-upload-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/root"
head -c "$((SIZE_MIB << 20))" /dev/urandom >"$work/big"
sync
tick=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
limit=$(((SIZE_MIB << 20) * 2))

run() { # NAME, then the curl arguments after the URL's base
    local name=$1; shift
    "$BIN" -q --allow-write --max-body "$limit" --max-upload "$limit" \
        --bind 127.0.0.1:0 "$work/root" >"$work/out" 2>/dev/null &
    local pid=$!
    sleep 0.3
    local addr
    addr=$(sed -n 's#^listening on http://\([^/]*\)/.*#\1#p' "$work/out")
    local t0 c0 t1 c1
    c0=$(cpu "$pid")
    t0=$(date +%s.%N)
    local status
    status=$(curl -s -o /dev/null -w '%{http_code}' "$@" "http://$addr/")
    t1=$(date +%s.%N)
    c1=$(cpu "$pid")
    local hwm
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    cmp -s "$work/big" "$work/root/big" || { echo "$name: the uploaded file differs" >&2; exit 1; }
    rm -f "$work/root/big"
    sync
    awk -v n="$name" -v s="$status" -v m="$SIZE_MIB" -v t0="$t0" -v t1="$t1" \
        -v c="$((c1 - c0))" -v tick="$tick" -v hwm="$hwm" 'BEGIN {
        wall = t1 - t0
        printf "%-9s %s  %6.2f s  %7.1f MiB/s  server CPU %6.3f ms/MiB  peak RSS %6.1f MiB\n",
            n, s, wall, m / wall, c * 1000 / tick / m, hwm / 1024
    }'
}

multipart() { run multipart -F "file=@$work/big"; }
put() { run PUT -T "$work/big"; } # to /big: curl adds the name to a URL ending in /

echo "$SIZE_MIB MiB over loopback, $BIN"
for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then multipart; put; else put; multipart; fi
done
