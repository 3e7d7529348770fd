#!/usr/bin/env python
"""Genome scale: memory of sites-only encode, training and genome-wide prediction against the number of sites.

Synthetic genomes with a human-like CpG density (one CpG per ~110 bp, chromosome lengths in hg38's
proportions, 1% N in blocks) at three sizes; every CpG gets a Bismark coverage call. For each size, each
step runs as its own process under ``/usr/bin/time -f %M`` (peak RSS):

  encode    mrcnn-encode --no-windows (sites-only dataset)
  codes     building the memory-mapped genome codes (once per genome; later runs map the file)
  train     mrcnn-train SITES.npz --genome FASTA (MRCNN, batch 128), the real command with model.fit capped at
            a fixed number of steps (the loaded sites, split, leak check and input pipeline are all there)
  predict   mrcnn-predict --genome FASTA --output-format bedgraph --shard K/K: the last ~50k CpGs of the genome; the
            shard counts its sites from the genome codes' index and reads only their blocks, so its time and memory
            should not grow with the genome (MRCNN on 2 cores is the slow part)

Fits peak RSS = fixed + slope x sites for each step, prints the extrapolation to 28M sites / 3.1 Gb, and checks
the targets (printed, not asserted): encode <= 1 GB + 64 B/site; train <= codes + 1 GB + 64 B/site.
Then, in one process, the training rate from stored windows and from windows cut on the fly, alternated
A/B/A/B..., medians.

Usage: python benchmarks/scale.py [--sizes 250000 1000000 4000000] [--steps 60] [--predict-sites 50000] [--keep DIR]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

from mrcnn_tools.data.dataset import load_dataset
from mrcnn_tools.genome.codes import open_genome_codes
from mrcnn_tools.models.backend import load_tensorflow
from mrcnn_tools.models.inputs import make_tf_dataset
from mrcnn_tools.models.registry import build_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
BIN = os.path.dirname(sys.executable)
BP_PER_CPG = 110  # hg38: ~28M CpGs (strands merged) on 3.1 Gb
HG38_MB = [
    248,
    242,
    198,
    190,
    181,
    171,
    159,
    145,
    138,
    134,
    135,
    133,
    114,
    107,
    102,
    90,
    83,
    80,
    59,
    64,
    47,
    51,
    156,
    57,
]
HUMAN_SITES, HUMAN_BP = 28_000_000, 3_100_000_000


def make_genome(directory, sites, seed=0):
    """FASTA + Bismark coverage calls of every CpG; returns (fasta, calls, number of CpGs, genome length)."""
    rng = np.random.default_rng(seed)
    total = sites * BP_PER_CPG
    lengths = (np.array(HG38_MB, float) / sum(HG38_MB) * total).astype(np.int64)
    fasta, calls = os.path.join(directory, "genome.fa"), os.path.join(directory, "calls.cov")
    n_sites = 0
    letters = np.frombuffer(b"TCGAN", np.uint8)
    with open(fasta, "wb") as fa, open(calls, "w") as cov:
        for k, length in enumerate(lengths):
            name = f"chr{k + 1}"
            codes = rng.integers(0, 4, length, dtype=np.uint8)
            cg = np.flatnonzero((codes[:-1] == 1) & (codes[1:] == 2))
            # random sequence has a CpG every 16 bp; the human genome one every ~110: turn most G's into A's
            drop = cg[rng.random(len(cg)) > 16 / BP_PER_CPG]
            codes[drop + 1] = 3
            for start in rng.integers(0, length - 20_000, max(1, length // 2_000_000)):
                codes[start : start + 20_000] = 4  # 1% N, in blocks as assembly gaps
            text = letters[codes]
            fa.write(f">{name}\n".encode())
            width = 60
            full = len(text) // width * width
            block = np.concatenate([text[:full].reshape(-1, width), np.full((full // width, 1), 10, np.uint8)], 1)
            fa.write(block.tobytes())
            if full < len(text):
                fa.write(text[full:].tobytes() + b"\n")
            pos = np.flatnonzero((codes[:-1] == 1) & (codes[1:] == 2))
            depth = rng.integers(5, 30, len(pos))
            meth = rng.binomial(depth, rng.beta(0.5, 0.5, len(pos)))

            pd.DataFrame(
                {
                    "c": name,
                    "s": pos + 1,
                    "e": pos + 1,
                    "p": np.round(100 * meth / depth, 2),
                    "m": meth,
                    "u": depth - meth,
                }
            ).to_csv(cov, sep="\t", header=False, index=False)
            n_sites += len(pos)
    return fasta, calls, n_sites, int(lengths.sum())


def timed(cmd, log, env=None):
    """Run *cmd*; returns (seconds, peak RSS in MB) from /usr/bin/time."""
    out = log + ".time"
    t = time.perf_counter()
    with open(log, "w") as fh:
        rc = subprocess.call(
            ["/usr/bin/time", "-f", "%M", "-o", out, *cmd], stdout=fh, stderr=subprocess.STDOUT, env=env
        )
    secs = time.perf_counter() - t
    if rc != 0:
        sys.exit(f"failed ({rc}): {' '.join(cmd)}\n{open(log).read()[-2000:]}")
    return secs, int(open(out).read().split()[-1]) / 1024


CAPPED_TRAIN = """
import sys, threading, time, keras
from mrcnn_tools.cli.train import main
peak = [0]
def watch():  # the peak of private (anonymous) memory, which /usr/bin/time does not separate from mapped files
    while True:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("RssAnon:"):
                    peak[0] = max(peak[0], int(line.split()[1]))
        time.sleep(0.05)
threading.Thread(target=watch, daemon=True).start()
steps = int(sys.argv[1])
fit = keras.Model.fit
def capped(self, *a, **kw):  # the real command, model.fit capped at a fixed number of steps
    kw["steps_per_epoch"] = min(kw["steps_per_epoch"], steps)
    if kw.get("validation_steps"):
        kw["validation_steps"] = min(kw["validation_steps"], max(1, steps // 10))
    return fit(self, *a, **kw)
keras.Model.fit = capped
rc = main(sys.argv[2:])
print("#anon-peak-mb", peak[0] / 1024, file=sys.stderr)
sys.exit(rc)
"""


def rate_ab(directory, sites, rounds, steps, seed=0):
    """Training samples/s from stored windows vs windows cut from the codes, alternated; medians."""

    load_tensorflow()
    import keras

    data = load_dataset(os.path.join(directory, "sites.npz"))
    data.use_genome(open_genome_codes(os.path.join(directory, "genome.fa")))
    sites_src = data.site_windows()
    stored = data.windows()  # what a windowed dataset holds in memory
    keras.utils.set_random_seed(seed)
    model = build_model("mrcnn", 400)
    model.compile(keras.optimizers.Adam(1e-3), "mse", jit_compile=False)
    pipes = {
        "stored": make_tf_dataset(stored, data.y, 128, shuffle=True, seed=seed),
        "on-the-fly": make_tf_dataset(sites_src, data.y, 128, shuffle=True, seed=seed, flank=200),
    }
    for pipe in pipes.values():  # warm up: graph tracing, first pages of the codes
        model.fit(pipe, steps_per_epoch=5, epochs=1, verbose=0)
    rates = {k: [] for k in pipes}
    for _ in range(rounds):
        for k, pipe in pipes.items():
            t = time.perf_counter()
            model.fit(pipe, steps_per_epoch=steps, epochs=1, verbose=0)
            rates[k].append(steps * 128 / (time.perf_counter() - t))
    return {k: float(np.median(v)) for k, v in rates.items()}, rates


def fit_line(x, y):
    slope, fixed = np.polyfit(np.asarray(x, float), np.asarray(y, float), 1)
    return fixed, slope


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[250_000, 1_000_000, 4_000_000])
    ap.add_argument("--steps", type=int, default=60, help="training steps per size")
    ap.add_argument("--rounds", type=int, default=7, help="A/B rounds of the training rate")
    ap.add_argument("--ab-steps", type=int, default=40, help="steps per A/B round")
    ap.add_argument(
        "--predict-sites",
        type=int,
        default=50_000,
        help="genome-wide predict: the last shard of about this many sites (only its blocks read)",
    )
    ap.add_argument("--keep", help="work here and keep the files")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:  # the A/B rate, in its own process
        print(json.dumps(rate_ab(args.child[0], int(args.child[1]), args.rounds, args.ab_steps)))
        return
    work = args.keep or tempfile.mkdtemp(prefix="mrcnn-scale-")
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""), MRCNN_CACHE_DIR=work)
    rows = []
    try:
        for size in args.sizes:
            d = os.path.join(work, f"s{size}")
            os.makedirs(d, exist_ok=True)
            t = time.perf_counter()
            fasta, calls, n, bp = make_genome(d, size)
            print(
                f"# {n:,} CpGs on {bp / 1e6:.1f} Mb ({len(HG38_MB)} chromosomes) made in "
                f"{time.perf_counter() - t:.0f} s",
                flush=True,
            )
            row = {"sites": n, "bp": bp}
            sites_npz = os.path.join(d, "sites.npz")
            row["encode_s"], row["encode_mb"] = timed(
                [f"{BIN}/mrcnn-encode", "-g", fasta, "-c", calls, "--no-windows", "-o", sites_npz],
                os.path.join(d, "encode.log"),
                env,
            )
            row["codes_s"], row["codes_mb"] = timed(
                [
                    sys.executable,
                    "-c",
                    "import sys; from mrcnn_tools.genome.codes import open_genome_codes; "
                    "open_genome_codes(sys.argv[1])",
                    fasta,
                ],
                os.path.join(d, "codes.log"),
                env,
            )
            model = os.path.join(d, "model.keras")
            row["train_s"], row["train_mb"] = timed(
                [
                    sys.executable,
                    "-c",
                    CAPPED_TRAIN,
                    str(args.steps),
                    sites_npz,
                    "--genome",
                    fasta,
                    "--epochs",
                    "1",
                    "--val-fraction",
                    "0.1",
                    "--seed",
                    "1",
                    "-o",
                    model,
                ],
                os.path.join(d, "train.log"),
                env,
            )
            # the last shard: its sites found from the codes' CpG counts, only their blocks read
            parts = max(1, n // args.predict_sites)
            row["predict_s"], row["predict_mb"] = timed(
                [
                    f"{BIN}/mrcnn-predict",
                    "-q",
                    "-m",
                    model,
                    "--genome",
                    fasta,
                    "--output-format",
                    "bedgraph",
                    "--shard",
                    f"{parts}/{parts}",
                    "-o",
                    os.path.join(d, "pred.bedGraph"),
                ],
                os.path.join(d, "predict.log"),
                env,
            )
            row["predicted"] = sum(1 for _ in open(os.path.join(d, "pred.bedGraph")))
            row["sites_only_npz_bytes_per_site"] = os.path.getsize(sites_npz) / n
            rows.append(row)
            train_log = open(os.path.join(d, "train.log")).read()
            row["train_anon_mb"] = float(train_log.split("#anon-peak-mb ")[1].split()[0])
            print(
                f"{n:>10,} sites  encode {row['encode_mb']:6.0f} MB {n / row['encode_s']:8,.0f} sites/s | "
                f"codes {row['codes_mb']:5.0f} MB {row['codes_s']:5.1f} s | train ({args.steps} steps) "
                f"{row['train_mb']:6.0f} MB (anonymous {row['train_anon_mb']:5.0f}) | predict "
                f"{row['predict_mb']:5.0f} MB {row['predicted'] / row['predict_s']:6,.0f} sites/s | "
                f"NPZ {row['sites_only_npz_bytes_per_site']:.1f} B/site",
                flush=True,
            )
            for f in (calls, os.path.join(d, "pred.bedGraph")):
                os.remove(f)
        sites = [r["sites"] for r in rows]
        print("\npeak RSS = fixed + slope x sites (least squares over the sizes); extrapolated to 28M sites / 3.1 Gb")
        targets = {
            "encode": lambda s, bp: 1024 + 64 * s / 2**20,
            "train": lambda s, bp: bp / 2**20 + 1024 + 64 * s / 2**20,
        }
        for step in ("encode", "codes", "train", "train_anon", "predict"):
            fixed, slope = fit_line(sites, [r[f"{step}_mb"] for r in rows])
            human = fixed + slope * HUMAN_SITES
            line = (
                f"{step:11s} fixed {fixed:7.0f} MB  slope {slope * 2**20:7.1f} B/site  -> human {human / 1024:6.2f} GB"
            )
            if step in targets:
                ok = all(r[f"{step}_mb"] <= targets[step](r["sites"], r["bp"]) for r in rows)
                line += (
                    f"  (target {targets[step](HUMAN_SITES, HUMAN_BP) / 1024:.2f} GB; measured sizes "
                    f"{'within' if ok else 'OVER'} target)"
                )
            print(line)
        print(
            "(train's RSS includes the pages of the codes file it mapped, shared with every other process and "
            "counted in full by its target; train_anon is its private memory alone)"
        )
        small = os.path.join(work, f"s{args.sizes[0]}")
        out = subprocess.run(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--child",
                small,
                str(args.sizes[0]),
                "--rounds",
                str(args.rounds),
                "--ab-steps",
                str(args.ab_steps),
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        if out.returncode:
            sys.exit(out.stderr[-2000:])
        med, raw = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"\ntraining rate, MRCNN batch 128, {args.rounds} alternated rounds of {args.ab_steps} steps "
            f"({rows[0]['sites']:,} sites): stored windows {med['stored']:,.0f} samples/s, on the fly "
            f"{med['on-the-fly']:,.0f} samples/s = {100 * med['on-the-fly'] / med['stored']:.0f}% (target >= 90%)"
        )
        print("  rounds: " + "; ".join(f"{k} " + ", ".join(f"{v:,.0f}" for v in vals) for k, vals in raw.items()))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
