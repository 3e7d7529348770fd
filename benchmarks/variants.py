#!/usr/bin/env python
"""Benchmark mrcnn-predict --variants (issue 26): memory against the number of variants, and speed against the
model alone. Prints the figures (medians), asserts nothing.

Synthetic SNVs (seeded) on the bundled 1 Mb of hg19 chr22 (test-data/22_20-21M.fa): positions drawn uniformly over
its bases other than N, REF the genome's base, ALT another one. Cases, each in a child process (its own peak RSS,
``VmHWM``), with the same untrained model (speed does not depend on the weights):
  effects N         mrcnn-predict -m MODEL --genome 22_20-21M.fa --variants N.vcf -o effects.tsv, timed from the
                    call of main() with TensorFlow already imported; variants/s and windows/s (both alleles)
  model-alone W     the model's compiled forward pass (Predictor.predict, as mrcnn-predict runs it) on W windows
                    already in memory: windows/s, turned into variants/s at the windows per variant of the run
Memory: --memory-counts (default 10000,1000000) with --memory-arch (default tiny: a simple CNN of 4 filters keeps
1M variants within the hour on two cores; memory does not depend on the network). Speed: --rate-count variants
(default 10000) with --arch (default mrcnn), alternated with the model alone for --rounds rounds.
Usage: python benchmarks/variants.py [--memory-counts 10000,1000000] [--rate-count 10000] [--rounds 3]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from mrcnn_tools.encoding import N, encode_bytes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENOME = os.path.join(ROOT, "test-data", "22_20-21M.fa")
OFFSET = 20_000_000  # the record 22:20000001-21000000 starts at this 0-based position of chromosome 22

CHILD = r"""
import json, os, sys, time
import numpy as np
case, model, arg, work = sys.argv[1:5]
from mrcnn_tools.models.backend import load_tensorflow
load_tensorflow()
def hwm():
    return int(next(ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM'))) / 1024
if case == "effects":
    from mrcnn_tools.cli.predict import main
    out = os.path.join(work, "effects.tsv")
    t = time.perf_counter()
    rc = main(["-q", "-m", model, "--genome", arg.split(",")[0], "--variants", arg.split(",")[1], "-o", out])
    secs = time.perf_counter() - t
    windows = 0
    with open(out) as fh:
        next(fh)
        for ln in fh:
            f = ln.split("\t")
            windows += (f[9] != "") + (f[10] != "")
    print(json.dumps({"rc": rc, "seconds": secs, "windows": windows, "rss_mb": hwm()}))
else:
    from mrcnn_tools.models.files import load_model
    from mrcnn_tools.prediction.predictors import Predictor
    m, meta = load_model(model)
    p = Predictor(m, meta)
    w = np.random.default_rng(0).integers(0, 4, size=(int(arg), 2 * p.flank)).astype(np.uint8)
    p.predict(w[:1024])  # traced before the clock starts, as mrcnn-predict's first block is not per-site work
    t = time.perf_counter()
    p.predict(w)
    print(json.dumps({"seconds": time.perf_counter() - t, "windows": int(arg), "rss_mb": hwm()}))
"""


def make_model(path, arch):
    from mrcnn_tools.models.architectures import build_mrcnn, build_simple_cnn  # noqa: PLC0415 (TensorFlow)
    from mrcnn_tools.models.backend import load_tensorflow  # noqa: PLC0415
    from mrcnn_tools.models.files import save_keras_model  # noqa: PLC0415

    load_tensorflow()
    if arch == "tiny":  # a simple CNN of 4 filters: memory does not depend on the network, the time does
        net, arch = build_simple_cnn(400, filters=(4, 4), dense_units=8), "simple-cnn"
    else:
        net = build_mrcnn(400) if arch == "mrcnn" else build_simple_cnn(400)
    save_keras_model(net, path, {"arch": arch, "flank": 200, "window": 400, "encoding": "TCGA-N4"})


def write_snvs(path, n, seed=0):
    """*n* SNVs on the bundled region, sorted, streamed to a plain VCF."""
    seq = "".join(ln.strip() for ln in open(GENOME) if not ln.startswith(">")).upper()
    codes = encode_bytes(seq)
    ok = np.flatnonzero(codes != N)
    rng = np.random.default_rng(seed)
    pos = np.sort(ok[rng.integers(len(ok), size=n)])
    shift = rng.integers(1, 4, size=n)
    with open(path, "w") as fh:
        fh.write("##fileformat=VCFv4.2\n##contig=<ID=22>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for a in range(0, n, 100_000):
            p, s = pos[a : a + 100_000], shift[a : a + 100_000]
            fh.write(
                "".join(
                    f"22\t{OFFSET + q + 1}\ts{a + i}\t{seq[q]}\t{'ACGT'[('ACGT'.index(seq[q]) + k) % 4]}\t.\tPASS\t.\n"
                    for i, (q, k) in enumerate(zip(p.tolist(), s.tolist()))
                )
            )


def child(case, model, arg, work):
    import json  # noqa: PLC0415

    p = subprocess.run([sys.executable, "-c", CHILD, case, model, arg, work], capture_output=True, text=True, cwd=ROOT)
    if p.returncode:
        raise SystemExit(f"{case} {arg}: {p.stderr.strip().splitlines()[-1:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--memory-counts", default="10000,1000000")
    ap.add_argument("--memory-arch", default="tiny", choices=("tiny", "simple-cnn", "mrcnn"))
    ap.add_argument("--rate-count", type=int, default=10000)
    ap.add_argument("--arch", default="mrcnn", choices=("simple-cnn", "mrcnn"))
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        genome = os.path.join(work, "22_20-21M.fa")
        with open(GENOME) as src, open(genome, "w") as dst:
            dst.write(src.read())
        models = {a: os.path.join(work, f"{a}.keras") for a in {args.arch, args.memory_arch}}
        for a, path in models.items():
            make_model(path, a)
        print(f"# {os.cpu_count()} CPUs; synthetic SNVs on {os.path.basename(GENOME)}")
        if args.rounds:
            vcf = os.path.join(work, "rate.vcf")
            write_snvs(vcf, args.rate_count)
            eff, alone = [], []
            for r in range(args.rounds):  # alternated: the machine's load falls on both alike
                eff.append(child("effects", models[args.arch], f"{genome},{vcf}", work))
                alone.append(child("model", models[args.arch], str(eff[-1]["windows"]), work))
            per_variant = eff[0]["windows"] / args.rate_count
            v_rate = statistics.median(args.rate_count / e["seconds"] for e in eff)
            w_rate = statistics.median(a["windows"] / a["seconds"] for a in alone)
            print(
                f"speed ({args.arch}, {args.rate_count:,} SNVs, {per_variant:.1f} windows a variant, median of "
                f"{args.rounds}): --variants {v_rate:,.0f} variants/s; model alone {w_rate:,.0f} windows/s = "
                f"{w_rate / per_variant:,.0f} variants/s; ratio {v_rate / (w_rate / per_variant):.0%}"
            )
        counts = [int(c) for c in args.memory_counts.split(",") if c]
        res = {}
        for n in counts:
            vcf = os.path.join(work, f"m{n}.vcf")
            t = time.perf_counter()
            write_snvs(vcf, n)
            res[n] = child("effects", models[args.memory_arch], f"{genome},{vcf}", work)
            os.remove(vcf)
            r = res[n]
            print(
                f"memory ({args.memory_arch}): {n:,} SNVs -> peak RSS {r['rss_mb']:,.0f} MB, {r['seconds']:,.0f} s "
                f"({n / r['seconds']:,.0f} variants/s, {r['windows']:,} windows; {time.perf_counter() - t:,.0f} s "
                "with writing the VCF)"
            )
        if len(counts) > 1:
            ratio = res[counts[-1]]["rss_mb"] / res[counts[0]]["rss_mb"]
            print(f"peak RSS {counts[-1]:,} / {counts[0]:,} SNVs = {ratio:.2f}")


if __name__ == "__main__":
    main()
