#!/usr/bin/env python3
"""listings.py [BIN] [ENTRIES] [SECONDS]: what huge directory listings cost everyone else.

Makes a directory of ENTRIES (50 000) files under a scratch ROOT, starts BIN
(target/release/spindle) on a free loopback port, then:

1. cold: the first GET of the listing (nothing cached), and the /-/plaintext latency on
   another connection meanwhile;
2. memory: 10 clients GET the listing and never read; the server's VmRSS before and after;
3. load: 4 clients fetch the listing over and over (GET, read whole) and 4 send pipelined
   `HEAD /big/` x4, for SECONDS (5); a keep-alive client asks /-/plaintext every 5 ms: its
   latency p50 / p99 / max.

The server runs on core 0 and every client on core 1, as in ../shared/bench. Loopback only;
bounded in time; the server and every socket are closed at the end."""
import multiprocessing, os, shutil, socket, subprocess, sys, tempfile, threading, time

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/spindle"
ENTRIES = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
SECS = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def read_response(s, buf=b""):
    """Reads one response (Content-Length or chunked); returns (status, body size, rest)."""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise EOFError("closed in head")
        buf += d
    head, buf = buf.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ", 2)[1])
    lower = head.lower()
    if b"transfer-encoding: chunked" in lower:
        size = 0
        while True:
            while b"\r\n" not in buf:
                buf += s.recv(65536)
            line, buf = buf.split(b"\r\n", 1)
            n = int(line.split(b";")[0], 16)
            while len(buf) < n + 2:
                d = s.recv(1 << 20)
                if not d:
                    raise EOFError("closed in chunk")
                buf += d
            buf = buf[n + 2:]
            size += n
            if n == 0:
                return status, size, buf
    n = 0
    for line in lower.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            n = int(line.split(b":")[1])
    while len(buf) < n:
        buf += s.recv(65536)
    return status, n, buf[n:]

def head_response(s, buf):
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, buf = buf.split(b"\r\n\r\n", 1)
    return buf

def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(30)
    return s

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))]

def probe_loop(port, stop, out):
    s = connect(port)
    buf = b""
    lat = []
    while not stop.is_set():
        t = time.perf_counter()
        s.sendall(b"GET /-/plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
        _, _, buf = read_response(s, buf)
        lat.append((time.perf_counter() - t) * 1000)
        time.sleep(0.005)
    s.close()
    out.put(lat)

class probe:
    """/-/plaintext on one kept-alive connection every 5 ms, in a process of its own (so that
    the clients' Python threads cannot delay it); `stop()` returns the latencies in ms."""
    def __init__(self, port):
        self.flag, self.out = multiprocessing.Event(), multiprocessing.Queue()
        self.proc = multiprocessing.Process(target=probe_loop, args=(port, self.flag, self.out))
        self.proc.start()

    def stop(self):
        self.flag.set()
        lat = self.out.get(timeout=30)
        self.proc.join()
        return lat

def lower_priority():
    """Load generators yield their core to the probe, so it measures the server, not them."""
    os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 15)

def lister(port, stop, counts):
    lower_priority()
    try:
        fetch_listings(port, stop, counts)
    except (OSError, EOFError) as e:
        counts.append(-1)
        print(f"a listing client failed: {e!r}")

def fetch_listings(port, stop, counts):
    s = connect(port)
    buf = b""
    while not stop.is_set():
        s.sendall(b"GET /big/ HTTP/1.1\r\nHost: x\r\n\r\n")
        status, size, buf = read_response(s, buf)
        assert status == 200, status
        counts.append(size)
    s.close()

def header(port, stop, counts):
    lower_priority()
    try:
        send_heads(port, stop, counts)
    except (OSError, EOFError) as e:
        print(f"a HEAD client failed: {e!r}")

def send_heads(port, stop, counts):
    s = connect(port)
    buf = b""
    while not stop.is_set():
        s.sendall(b"HEAD /big/ HTTP/1.1\r\nHost: x\r\n\r\n" * 4)
        for _ in range(4):
            buf = head_response(s, buf)
        counts.append(4)
    s.close()

def main():
    root = tempfile.mkdtemp(prefix="spindle-listings-")
    big = os.path.join(root, "big")
    os.mkdir(big)
    for i in range(ENTRIES):
        open(os.path.join(big, f"file-{i:06d}-with-a-longish-name.txt"), "w").close()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    # As ../shared/bench does: the server on core 0, its clients on core 1.
    os.sched_setaffinity(0, {1})
    srv = subprocess.Popen(["taskset", "-c", "0", BIN, "--bind", f"127.0.0.1:{port}", "-q", root],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        srv.stdout.readline()  # the listening line
        base_rss = rss_kib(srv.pid)

        p = probe(port)
        time.sleep(0.2)
        c = connect(port)
        t = time.perf_counter()
        c.sendall(b"GET /big/ HTTP/1.1\r\nHost: x\r\n\r\n")
        status, size, _ = read_response(c)
        cold = (time.perf_counter() - t) * 1000
        c.close()
        time.sleep(0.1)
        lat = p.stop()
        print(f"cold listing of {ENTRIES} entries: {status}, {size} B in {cold:.0f} ms; "
              f"/-/plaintext meanwhile: p50 {pct(lat, .5):.2f} ms, max {max(lat):.2f} ms "
              f"({len(lat)} probes)")

        before = rss_kib(srv.pid)
        idle = []
        for _ in range(10):
            c = connect(port)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            c.sendall(b"GET /big/ HTTP/1.1\r\nHost: x\r\n\r\n")
            idle.append(c)
        time.sleep(2)
        after = rss_kib(srv.pid)
        print(f"10 listing clients that never read: VmRSS {before} -> {after} KiB "
              f"(+{after - before} KiB; {base_rss} KiB at start)")
        for c in idle:
            c.close()
        stop, lists, heads = threading.Event(), [], []
        p = probe(port)
        threads = [threading.Thread(target=lister, args=(port, stop, lists)) for _ in range(4)]
        threads += [threading.Thread(target=header, args=(port, stop, heads)) for _ in range(4)]
        for th in threads:
            th.start()
        time.sleep(SECS)
        lat = p.stop()
        stop.set()
        for th in threads:
            th.join()
        whole = [n for n in lists if n > 0]
        print(f"under load for {SECS:.0f} s: {len(whole)} whole listings "
              f"({sum(whole) / max(1, len(whole)) / 1e6:.1f} MB each) and {sum(heads)} HEADs; "
              f"/-/plaintext p50 {pct(lat, .5):.2f} ms, p99 {pct(lat, .99):.2f} ms, "
              f"max {max(lat):.2f} ms ({len(lat)} probes)")

    finally:
        srv.terminate()
        srv.wait(timeout=15)
        shutil.rmtree(root)

main()
