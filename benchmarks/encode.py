#!/usr/bin/env python
"""Benchmark mrcnn-encode: sites/s end to end and for window extraction alone, and peak RSS.

Run from the project root: ``python benchmarks/encode.py`` (or ``make bench``). Prints one line per case.
Cases: the real IMR90 chr22 WGBS calls (gzipped Bismark) on the chr22 pieces FASTA, and a synthetic 50 Mb
chromosome with 2M called CpGs (gzipped Bismark), end to end through ``mrcnn-encode``; window extraction alone
on the synthetic chromosome.
"""

import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from mrcnn_tools.encoding import encode_bytes, extract_windows
from mrcnn_tools.genome.fasta import Genome

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def run_cli(args):
    """Run mrcnn-encode in a child process; return (seconds, peak RSS MB of that child)."""
    t = time.perf_counter()
    code = (
        "import resource, sys; from mrcnn_tools.cli.encode import main; rc = main(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)"
    )
    p = subprocess.run([sys.executable, "-c", code, "-q", *args], capture_output=True, text=True, cwd=ROOT)
    secs = time.perf_counter() - t
    if p.returncode:
        raise SystemExit(p.stderr)
    return secs, int(p.stderr.strip().splitlines()[-1]) / 1024


def synthetic(tmp, length=50_000_000, sites=2_000_000, seed=0):
    rng = np.random.default_rng(seed)
    seq = rng.choice(np.frombuffer(b"ACGT", np.uint8), length)
    cpg = np.sort(rng.choice(np.arange(10, length - 10, 20), sites, replace=False))
    seq[cpg], seq[cpg + 1] = ord("C"), ord("G")
    fa = os.path.join(tmp, "synth.fa")
    with open(fa, "wb") as fh:
        fh.write(b">chrS\n")
        for i in range(0, length, 60):
            fh.write(seq[i : i + 60].tobytes() + b"\n")
    m = rng.integers(0, 20, sites)
    u = rng.integers(0, 20, sites)
    pct = np.where(m + u > 0, 100 * m / np.maximum(m + u, 1), 0)
    cov = os.path.join(tmp, "synth.cov.gz")
    with gzip.open(cov, "wt", compresslevel=1) as fh:
        for p, a, b, c in zip(cpg + 1, pct, m, u):
            fh.write(f"chrS\t{p}\t{p}\t{a:.2f}\t{b}\t{c}\n")
    return fa, cov, seq, cpg


def main():

    tmp = tempfile.mkdtemp()
    try:
        ex = os.path.join(ROOT, "examples", "data")
        g = os.path.join(tmp, "chr22.fa.gz")
        shutil.copy(os.path.join(ex, "GRCh37_chr22_pieces.fa.gz"), g)
        calls = os.path.join(ex, "IMR90_WGBS_chr22_24-35Mb_GRCh37.bismark.cov.gz")
        run_cli(["--genome", g, "--calls", calls, "-o", os.path.join(tmp, "warm.npz")])  # builds the index
        secs, rss = run_cli(
            ["--genome", g, "--calls", calls, "--max-n-fraction", "0", "-o", os.path.join(tmp, "r.npz")]
        )
        n = len(np.load(os.path.join(tmp, "r.npz"))["y"])
        print(
            f"real IMR90 chr22 (89,887 calls, gzip Bismark, 51 Mb chr22): {89887 / secs:,.0f} calls/s end to end "
            f"({secs:.2f} s, {n:,} sites kept), peak RSS {rss:,.0f} MB"
        )

        fa, cov, seq, cpg = synthetic(tmp)

        Genome(fa)  # the .fai is built once per genome, as for a user's genome
        secs, rss = run_cli(
            [
                "--genome",
                fa,
                "--calls",
                cov,
                "--min-coverage",
                "0",
                "--max-n-fraction",
                "1",
                "-o",
                os.path.join(tmp, "s.npz"),
            ]
        )
        n = len(np.load(os.path.join(tmp, "s.npz"))["y"])
        genome_mb = len(seq) / 1e6
        print(
            f"synthetic 50 Mb, 2M sites (gzip Bismark): {n / secs:,.0f} sites/s end to end ({secs:.2f} s), "
            f"peak RSS {rss:,.0f} MB = genome {genome_mb:.0f} MB + {(rss - genome_mb) * 1e6 / n:,.0f} bytes/site "
            "(incl. Python/NumPy/pandas baseline)"
        )

        codes = encode_bytes(seq.tobytes())
        extract_windows(codes, cpg[:10000], 200)
        best = min(_time(lambda: extract_windows(codes, cpg, 200)) for _ in range(3))
        print(f"window extraction alone (2M sites, flank 200): {len(cpg) / best:,.0f} sites/s ({best:.2f} s)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _time(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
