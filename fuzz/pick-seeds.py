#!/usr/bin/env python3
"""Replace fuzz/seeds/TARGET/ with a small, coverage-rich pick of fuzz/corpus/TARGET/ (run
`cargo fuzz cmin TARGET --sanitizer none` first). Seeds named crash-* or late-* are kept.

    python3 fuzz/pick-seeds.py TARGET [MAX_FILES=200] [MAX_BYTES=300000]

libFuzzer's merge (-merge_control_file) says which coverage edges and features each input
reaches; inputs are then taken greedily by new edges (weighted 10) plus new features, mildly
preferring small ones, until MAX_FILES or nothing new. Run from the repository root, after a
`cargo fuzz build TARGET --sanitizer none`.
"""
import os
import shutil
import subprocess
import sys
import tempfile

target = sys.argv[1]
max_files = int(sys.argv[2]) if len(sys.argv) > 2 else 200
max_bytes = int(sys.argv[3]) if len(sys.argv) > 3 else 300_000
binary = f"fuzz/target/x86_64-unknown-linux-gnu/release/{target}"
seeds, corpus = f"fuzz/seeds/{target}", f"fuzz/corpus/{target}"
os.makedirs(seeds, exist_ok=True)

with tempfile.TemporaryDirectory() as tmp:
    control = os.path.join(tmp, "control")
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    subprocess.run(
        [binary, "-merge=1", f"-merge_control_file={control}", "-rss_limit_mb=1024",
         "-max_len=12000", empty, corpus, seeds],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    lines = open(control).read().split("\n")
n = int(lines[0])
files = lines[2:2 + n]
ft, cov = {}, {}
for line in lines[2 + n:]:
    parts = line.split()
    if parts and parts[0] in ("FT", "COV"):
        (ft if parts[0] == "FT" else cov)[int(parts[1])] = set(map(int, parts[2:]))
size = {i: os.path.getsize(f) for i, f in enumerate(files)}
data = {i: open(f, "rb").read() for i, f in enumerate(files)}

keep = [i for i, f in enumerate(files)
        if f.startswith(seeds) and os.path.basename(f).startswith(("crash-", "late-"))]
chosen = list(keep)
got = set().union(*(ft.get(i, set()) for i in chosen))
got_cov = set().union(*(cov.get(i, set()) for i in chosen))
total = sum(size[i] for i in chosen)
candidates = [i for i in range(n) if i not in keep]
while len(chosen) < max_files:
    best, best_value = None, 0
    for i in candidates:
        if total + size[i] > max_bytes:
            continue
        gain = 10 * len(cov.get(i, set()) - got_cov) + len(ft.get(i, set()) - got)
        value = gain / (1 + size[i] / 32768)
        if value > best_value:
            best, best_value = i, value
    if best is None:
        break
    chosen.append(best)
    candidates.remove(best)
    got |= ft.get(best, set())
    got_cov |= cov.get(best, set())
    total += size[best]

kept = {os.path.basename(files[i]): data[i] for i in chosen}
shutil.rmtree(seeds)
os.makedirs(seeds)
for name, content in kept.items():
    with open(os.path.join(seeds, name), "wb") as out:
        out.write(content)
all_ft = set().union(*ft.values()) if ft else set()
all_cov = set().union(*cov.values()) if cov else set()
print(f"{target}: {len(chosen)} of {n} inputs, {total} bytes; "
      f"edges {len(got_cov)}/{len(all_cov)}, features {len(got)}/{len(all_ft)}")
