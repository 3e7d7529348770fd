#!/usr/bin/env python
"""Peak memory of mrcnn-encode on hostile and streamed calls inputs (issue 23): prints the figures, asserts nothing.

Run from the project root: ``python benchmarks/inputs_memory.py [--rows 20] [--bomb-mb 1024]``. Cases, each in a
child process whose peak RSS (``VmHWM``) is printed:

- a gzip bomb: ``--bomb-mb`` MB of zero bytes gzipped (one endless "line"), which must be refused in bounded memory;
- a gzipped Bismark .cov of ``--rows`` million rows on the 1 Mb chr22 region, ``--no-windows``, read by path, and
  the same bytes through a pipe on stdin (``cat rows.cov.gz | mrcnn-encode -c -``): the stream must stay within
  1.3x of the path.
"""

import argparse
import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENOME = os.path.join(ROOT, "test-data", "22_20-21M.fa")
# the child's peak: VmHWM of its own memory (ru_maxrss would count what the forking parent held)
CHILD = (
    "import sys; from mrcnn_tools.cli.encode import main; rc = main(sys.argv[1:]); "
    "hwm = next(ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM')); "
    "print('maxrss', hwm, file=sys.stderr); sys.exit(rc)"
)


def run(args, stdin_file=None):
    """mrcnn-encode *args* in a child (stdin a pipe fed by cat when *stdin_file*); (rc, peak RSS MB, seconds,
    last stderr line)."""
    t = time.perf_counter()
    cat = subprocess.Popen(["cat", stdin_file], stdout=subprocess.PIPE) if stdin_file else None
    p = subprocess.run(
        [sys.executable, "-c", CHILD, "-q", *args],
        stdin=cat.stdout if cat else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if cat:
        cat.stdout.close()
        cat.wait()
    lines = p.stderr.strip().splitlines()
    rss = next((int(ln.split()[1]) for ln in lines if ln.startswith("maxrss")), 0) / 1024
    last = next((ln for ln in reversed(lines) if not ln.startswith("maxrss")), "")
    return p.returncode, rss, time.perf_counter() - t, last


def write_rows(path, millions):
    """Bismark .cov rows on chr22:20,000,001-21,000,000 (as acceptance check 23 writes them), gzip level 1."""
    with gzip.open(path, "wt", compresslevel=1) as f:
        for i in range(millions * 10):
            a = i * 100000 % 900000
            f.write(
                "".join(
                    f"chr22\t{20000000 + 2 * j + 1}\t{20000000 + 2 * j + 1}\t50\t5\t5\n" for j in range(a, a + 100000)
                )
            )


def write_bomb(path, megabytes):
    zeros = bytes(1 << 20)
    with gzip.open(path, "wb", compresslevel=1) as f:
        for _ in range(megabytes):
            f.write(zeros)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=20, help="millions of rows of the streamed .cov (default 20)")
    ap.add_argument("--bomb-mb", type=int, default=1024, help="MB of zeros in the gzip bomb (default 1024)")
    args = ap.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="mrcnn-inputs-memory.")
    try:
        genome = os.path.join(tmp, "g.fa")
        shutil.copy(GENOME, genome)
        bomb = os.path.join(tmp, "bomb.gz")
        write_bomb(bomb, args.bomb_mb)
        rc, rss, secs, last = run(["-g", genome, "-c", bomb, "-o", os.path.join(tmp, "b.npz")])
        size = os.path.getsize(bomb) / 2**20
        print(
            f"gzip bomb ({size:.1f} MB -> {args.bomb_mb} MB of zeros): exit {rc}, peak RSS {rss:.0f} MB, {secs:.1f} s"
        )
        print(f"  {last}")
        rows = os.path.join(tmp, "rows.cov.gz")
        write_rows(rows, args.rows)
        size = os.path.getsize(rows) / 2**20
        common = ["-g", genome, "--no-windows", "--min-coverage", "1", "--min-cpg-fraction", "0"]
        rc1, by_path, s1, last1 = run([*common, "-c", rows, "-o", os.path.join(tmp, "p.npz")])
        rc2, by_pipe, s2, last2 = run([*common, "-c", "-", "-o", os.path.join(tmp, "s.npz")], stdin_file=rows)
        print(f"{args.rows}M rows ({size:.0f} MB gzip): by path exit {rc1}, peak RSS {by_path:.0f} MB, {s1:.1f} s")
        print(f"{args.rows}M rows through a pipe on stdin: exit {rc2}, peak RSS {by_pipe:.0f} MB, {s2:.1f} s")
        print(f"stdin / path peak RSS: {by_pipe / by_path:.2f} (the bound is 1.3)")
        for rc, last in ((rc1, last1), (rc2, last2)):
            if rc:
                print(f"  {last}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
