#!/usr/bin/env python3
"""cold_open.py [N]: how long the reactor would wait on a file open with a cold cache.

Makes N (2000) small files in 20 directories, then times `open` + `fstat` of each (what
spindle's file cache does for a path it has not seen within a second) twice: after dropping
the kernel's page, dentry and inode caches (needs root: /proc/sys/vm/drop_caches), and again
warm. Prints p50 / p99 / max of each. This is the figure behind the choice to keep file opens
on the reactor thread and move only directory listings to the helper threads."""
import os, shutil, sys, tempfile, time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))]

def timed(paths):
    out = []
    for p in paths:
        t = time.perf_counter()
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        os.fstat(fd)
        out.append((time.perf_counter() - t) * 1e6)
        os.close(fd)
    return out

root = tempfile.mkdtemp(prefix="spindle-cold-open-", dir=os.environ.get("COLD_DIR", "."))
try:
    paths = []
    for d in range(20):
        os.mkdir(os.path.join(root, f"d{d}"))
        for i in range(N // 20):
            p = os.path.join(root, f"d{d}", f"f{i}.txt")
            with open(p, "w") as f:
                f.write("x" * 100)
            paths.append(p)
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        cold = timed(paths)
        print(f"cold open+fstat of {N} files: p50 {pct(cold, .5):.0f} us, "
              f"p99 {pct(cold, .99):.0f} us, max {max(cold):.0f} us")
    except PermissionError:
        print("cannot drop caches (not root): cold figure skipped")
    warm = timed(paths)
    print(f"warm open+fstat of {N} files: p50 {pct(warm, .5):.1f} us, "
          f"p99 {pct(warm, .99):.1f} us, max {max(warm):.1f} us")
finally:
    shutil.rmtree(root)
