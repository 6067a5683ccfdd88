#!/usr/bin/env python3
"""slow_readers.py PORT PID [N] [SECONDS] [PATH]: N clients (16) GET PATH (/big.bin) and read it
slowly (64 KiB every 100 ms each) for SECONDS (10); prints the server's VmRSS every second
and the peak. Loopback only; bounded in time; every socket is closed at the end."""
import socket, sys, time

port, pid = int(sys.argv[1]), int(sys.argv[2])
n = int(sys.argv[3]) if len(sys.argv) > 3 else 16
secs = float(sys.argv[4]) if len(sys.argv) > 4 else 10
path = sys.argv[5] if len(sys.argv) > 5 else "/big.bin"

def rss_kib():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    s.settimeout(5)
    socks.append(s)
start = time.time()
peak, got, last = 0, 0, 0.0
while time.time() - start < secs:
    for s in socks:
        got += len(s.recv(64 * 1024))
    time.sleep(0.1)
    if time.time() - last >= 1:
        last = time.time()
        r = rss_kib()
        peak = max(peak, r)
        print(f"t={time.time() - start:4.1f}s rss={r} KiB received={got >> 20} MiB", flush=True)
for s in socks:
    s.close()
print(f"peak VmRSS {peak} KiB ({peak / 1024:.1f} MiB) with {n} slow readers")
