"""Excerpt speed and memory on a 200 MB synthetic log, beside a `tail` baseline.

usage: python bench/excerpt_speed.py [--mb 200]

Writes a synthetic CI log (Maven-style download spam, compiler chatter, passing tests, a few
warnings, one real failure near the end) to a temp file, then times, each in its own subprocess so
peak RSS (ru_maxrss) is its own: a `tail` baseline (stream lines, keep the last 30 in a deque) and
`retrieval.logs.excerpt.extract`. Targets: under 10 s and under 300 MB peak RSS for 200 MB.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

NOISE = [
    "[INFO] Downloading from central: https://repo.maven.apache.org/maven2/org/example/lib{i}/1.{j}/lib{i}-1.{j}.pom",
    "[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/org/example/lib{i}/1.{j}/lib{i}-1.{j}.jar (12 kB at 340 kB/s)",
    "2024-05-0{j}T12:00:{i:02d}.1234567Z \x1b[36;1mRunning test case com.example.Suite{i}#test{j}\x1b[0m",
    "tests/test_module_{i}.py::test_case_{j} PASSED                                  [ {j:2d}%]",
    "[INFO] Tests run: {i}, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 0.{j} s - in com.example.Test{i}",
    "  CC       src/module{i}/file{j}.o",
    "npm WARN deprecated package{i}@1.{j}.0: this version is no longer supported",
    "Step {j}/{i} : RUN apt-get install -y libfoo{i}",
    "ok   github.com/example/pkg{i}\t0.{j}s",
    "    at com.example.internal.Helper{i}.call(Helper{i}.java:{j})",
]
FAILURE = """\
[INFO] Running com.example.OrderServiceTest
[ERROR] Tests run: 4, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: 0.2 s <<< FAILURE! - in com.example.OrderServiceTest
[ERROR] totalIncludesTax(com.example.OrderServiceTest)  Time elapsed: 0.01 s  <<< FAILURE!
java.lang.AssertionError: expected:<107.0> but was:<100.0>
\tat org.junit.Assert.fail(Assert.java:88)
\tat com.example.OrderServiceTest.totalIncludesTax(OrderServiceTest.java:42)
[INFO] BUILD FAILURE
"""

CHILD = r"""
import collections, json, resource, sys, time
sys.path.insert(0, {repo!r})
path, mode = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
if mode == "tail":
    from retrieval.logs.reader import iter_lines
    last = collections.deque((ln for ln in iter_lines(path)), maxlen=30)
    result = {{"lines": len(last)}}
else:
    from retrieval.logs.excerpt import extract
    ex = extract(path, max_lines=30)
    result = {{"lines": len(ex.lines), "first": ex.lines[0].n if ex.lines else None,
              "category": ex.category, "has_failure": ex.has_failure}}
result["seconds"] = time.perf_counter() - t0
result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(result))
"""


def write_log(path: Path, megabytes: int) -> int:
    rng = random.Random(7)
    target = megabytes * 1024 * 1024
    written = 0
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        while written < target - 4096:
            chunk = "\n".join(
                NOISE[rng.randrange(len(NOISE))].format(i=rng.randrange(100), j=rng.randrange(10))
                for _ in range(2000)
            ) + "\n"
            fh.write(chunk)
            written += len(chunk)
        fh.write(FAILURE)
        written += len(FAILURE)
    return written


def run(path: Path, mode: str) -> dict:
    code = CHILD.format(repo=str(REPO))
    out = subprocess.run([sys.executable, "-c", code, str(path), mode], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.log"
        size = write_log(path, args.mb)
        mb = size / 1e6
        print(f"synthetic log: {mb:.0f} MB")
        print(f"{'system':<8} {'seconds':>8} {'MB/s':>8} {'peak RSS MB':>12}  notes")
        for mode in ("tail", "extract"):
            r = run(path, mode)
            notes = {k: v for k, v in r.items() if k not in ("seconds", "peak_rss_mb")}
            print(f"{mode:<8} {r['seconds']:>8.2f} {mb / r['seconds']:>8.1f} {r['peak_rss_mb']:>12.0f}  {notes}")
        os.remove(path)


if __name__ == "__main__":
    main()
