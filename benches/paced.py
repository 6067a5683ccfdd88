#!/usr/bin/env python3
"""Paced bodies under many clients: /-/drip and /-/sse with 10 000 concurrent connections.

    python3 benches/paced.py [BIN] [CLIENTS] [SECONDS]    # defaults: target/release/spindle 10000 5

Starts BIN on a free loopback port, opens CLIENTS connections, and sends each one request:
`/-/drip?bytes=10&duration=MS` (a byte every MS/10) or `/-/sse?count=10&interval=MS/10`.
Every byte (drip) or event (sse) is due at a known time after its request was sent (all
connections are opened first, then all requests sent in one burst): the k-th (from 1) at
k*MS/10 for a drip, (k-1)*MS/10 for sse. The client notes when each arrives and prints how far
that drifts from the schedule (p50, p99, max), with the server's CPU time and peak RSS.

The client shares the machine's two cores with the server, and one Python thread reads all
CLIENTS sockets: a late arrival may be the client's lateness, not the server's. So the client
also measures its own lag: each pass of its loop is timed against the earliest due time it was
waiting for, and that lag's p99 is printed beside the drift.
"""

import os
import selectors
import socket
import subprocess
import sys
import tempfile
import time
import resource


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else float("nan")


def cpu_and_rss(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                rss = int(line.split()[1])
    return ticks / os.sysconf("SC_CLK_TCK"), rss


def run(addr, pid, kind, clients, ms):
    step = ms / 10 / 1000
    path = (f"/-/drip?bytes=10&duration={ms}" if kind == "drip"
            else f"/-/sse?count=10&interval={ms // 10}")
    req = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    sel = selectors.DefaultSelector()
    conns = {}
    cpu0, _ = cpu_and_rss(pid)
    socks = []
    for _ in range(clients):
        s = socket.socket()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.connect(addr)
        socks.append(s)
    # All connected first, then all asked at once: each schedule starts at its request.
    for s in socks:
        s.setblocking(False)
        st = {"buf": b"", "head_at": None, "got": 0, "sent_at": time.monotonic()}
        s.send(req)
        conns[s.fileno()] = (s, st)
        sel.register(s, selectors.EVENT_READ, st)
    drift, steady, lag = [], [], []
    left = clients
    wall0, client0 = time.monotonic(), time.process_time()
    deadline = time.monotonic() + ms / 1000 * 3 + 30
    while left and time.monotonic() < deadline:
        events = sel.select(timeout=1)
        woke = time.monotonic()
        for key, _ in events:
            s, st = key.fileobj, key.data
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(s)
                s.close()
                left -= 1
                continue
            if st["head_at"] is None:
                st["buf"] += data
                i = st["buf"].find(b"\r\n\r\n")
                if i < 0:
                    continue
                st["head_at"] = woke
                data = st["buf"][i + 4:]
            units = data.count(b"*") if kind == "drip" else data.count(b"\nevent: ping")
            for _ in range(units):
                st["got"] += 1
                k = st["got"]
                due = st["sent_at"] + (k if kind == "drip" else k - 1) * step
                drift.append(woke - due)
                # Without each stream's first unit: the start-up burst (all requests sent,
                # then every first answer read, by one thread) left out.
                if k > 1:
                    steady.append(woke - due)
        # The client's own lag: how long after this pass began did it get to the last socket.
        if events:
            lag.append(time.monotonic() - woke)
    cpu1, rss = cpu_and_rss(pid)
    wall, client_cpu = time.monotonic() - wall0, time.process_time() - client0
    for s, _ in conns.values():
        try:
            s.close()
        except OSError:
            pass
    expected = clients * 10
    ms_ = lambda x: f"{x * 1000:.1f} ms"
    print(f"{kind}: {clients} clients, {len(drift)}/{expected} units, server CPU "
          f"{cpu1 - cpu0:.2f} s, peak RSS {rss // 1024} MiB; drift from schedule p50 "
          f"{ms_(pct(drift, .5))}, p99 {ms_(pct(drift, .99))}, max {ms_(max(drift) if drift else 0)};"
          f" all but the first unit p50 {ms_(pct(steady, .5))}, p99 {ms_(pct(steady, .99))}; "
          f"client: {client_cpu:.2f} s CPU in {wall:.2f} s, a pass over ready sockets p99 "
          f"{ms_(pct(lag, .99))}, max {ms_(max(lag) if lag else 0)}")


def main():
    bin_ = sys.argv[1] if len(sys.argv) > 1 else "target/release/spindle"
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    secs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    root = tempfile.mkdtemp()
    srv = subprocess.Popen([bin_, "-q", "--bind", "127.0.0.1:0", "--max-connections",
                            str(clients + 100), root], stdout=subprocess.PIPE)
    try:
        line = srv.stdout.readline().decode()
        host, port = line.split("http://")[1].split("/")[0].rsplit(":", 1)
        for kind in ("drip", "sse"):
            run((host, int(port)), srv.pid, kind, clients, secs * 1000)
    finally:
        srv.terminate()
        srv.wait(timeout=15)


if __name__ == "__main__":
    main()
