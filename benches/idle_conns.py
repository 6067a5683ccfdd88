#!/usr/bin/env python3
"""idle_conns.py: open COUNT keep-alive connections, make one request on each, then hold them idle.

    benches/idle_conns.py HOST PORT PATH COUNT [--inflight N] [--timeout SECS] [--hold SECS]

Connections are opened with at most --inflight (256) connecting or awaiting their answer at once,
so the listen backlog is never flooded. Each sends `GET PATH HTTP/1.1` with a Host header and
reads the whole answer (Content-Length framing). When every connection has its answer (or
--timeout, 60 s, has passed) it prints one line and flushes:

    READY ok=N failed=M pending=P secs=S

then keeps all answered connections open, idle, watching for the server closing any, until
--hold (600 s) has passed or it gets SIGTERM/SIGINT. On exit it prints

    DONE open=N closed_by_server=K

Python 3 standard library only; loopback use in benches/load.sh. Exit status 0 if every
connection got a 200, 1 otherwise.
"""

import argparse
import errno
import resource
import selectors
import signal
import socket
import sys
import time


class Conn:
    __slots__ = ("sock", "state", "out", "buf", "need")

    def __init__(self, sock, request):
        self.sock = sock
        self.state = "connecting"
        self.out = request
        self.buf = b""
        self.need = None  # total bytes of head + body, once the head is in


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def parse_answer(c):
    """True once c.buf holds the whole answer; raises ValueError on a bad or non-200 answer."""
    if c.need is None:
        end = c.buf.find(b"\r\n\r\n")
        if end < 0:
            if len(c.buf) > 65536:
                raise ValueError("head too long")
            return False
        head = c.buf[:end].decode("latin-1").split("\r\n")
        parts = head[0].split(" ", 2)
        if len(parts) < 2 or parts[1] != "200":
            raise ValueError("status line %r" % head[0])
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        c.need = end + 4 + length
    return len(c.buf) >= c.need


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("path")
    ap.add_argument("count", type=int)
    ap.add_argument("--inflight", type=int, default=256)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--hold", type=float, default=600.0)
    a = ap.parse_args()

    nofile = raise_nofile()
    if nofile < a.count + 16:
        print("idle_conns: open-file limit %d is too low for %d connections" % (nofile, a.count),
              file=sys.stderr)
        return 1

    stop = []

    def on_signal(signum, _frame):
        stop.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    request = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (a.path, a.host, a.port)).encode()
    sel = selectors.DefaultSelector()
    idle = []
    failed = 0
    errors = {}
    opened = 0
    busy = 0
    t0 = time.monotonic()

    def fail(c, why):
        nonlocal failed, busy
        failed += 1
        busy -= 1
        errors[why] = errors.get(why, 0) + 1
        sel.unregister(c.sock)
        c.sock.close()

    while (opened < a.count or busy > 0) and not stop:
        if time.monotonic() - t0 > a.timeout:
            break
        while opened < a.count and busy < a.inflight:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            opened += 1
            busy += 1
            c = Conn(s, request)
            rc = s.connect_ex((a.host, a.port))
            if rc not in (0, errno.EINPROGRESS):
                failed += 1
                busy -= 1
                why = "connect: " + errno.errorcode.get(rc, str(rc))
                errors[why] = errors.get(why, 0) + 1
                s.close()
                continue
            sel.register(s, selectors.EVENT_WRITE, c)
        for key, _mask in sel.select(timeout=0.5):
            c = key.data
            try:
                if c.state == "connecting":
                    rc = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if rc:
                        fail(c, "connect: " + errno.errorcode.get(rc, str(rc)))
                        continue
                    c.state = "writing"
                if c.state == "writing":
                    n = c.sock.send(c.out)
                    c.out = c.out[n:]
                    if not c.out:
                        c.state = "reading"
                        sel.modify(c.sock, selectors.EVENT_READ, c)
                    continue
                data = c.sock.recv(65536)
                if not data:
                    fail(c, "closed before the answer")
                    continue
                c.buf += data
                if parse_answer(c):
                    if len(c.buf) != c.need:
                        fail(c, "extra bytes after the answer")
                        continue
                    c.state = "idle"
                    c.buf = b""
                    sel.unregister(c.sock)
                    idle.append(c)
                    busy -= 1
            except (BlockingIOError, InterruptedError):
                pass
            except ValueError as e:
                fail(c, "bad answer: %s" % e)
            except OSError as e:
                fail(c, "%s: %s" % (c.state, errno.errorcode.get(e.errno, str(e.errno))))

    secs = time.monotonic() - t0
    pending = a.count - len(idle) - failed
    print("READY ok=%d failed=%d pending=%d secs=%.1f" % (len(idle), failed, pending, secs),
          flush=True)
    for why, n in sorted(errors.items()):
        print("  failure: %s x%d" % (why, n), flush=True)

    # Hold: the answered connections stay open and idle; notice any the server closes.
    for key in list(sel.get_map().values()):
        sel.unregister(key.fileobj)
        key.fileobj.close()
    for c in idle:
        sel.register(c.sock, selectors.EVENT_READ, c)
    closed = 0
    deadline = time.monotonic() + a.hold
    while not stop and time.monotonic() < deadline:
        for key, _mask in sel.select(timeout=0.5):
            c = key.data
            try:
                data = c.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                closed += 1
                sel.unregister(c.sock)
                c.sock.close()
    print("DONE open=%d closed_by_server=%d" % (len(idle) - closed, closed), flush=True)
    return 0 if failed == 0 and pending == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
