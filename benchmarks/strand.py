#!/usr/bin/env python
"""Strand symmetry (issue 16): does ``mrcnn-train --rc-augment`` help on held-out real data?

With strands merged, a CpG's window and its reverse complement describe the same site. For each data set, each
architecture (mrcnn, simple-cnn) and each seed, the network is trained as ``examples/reproduce.py`` trains it,
once as is and once with --rc-augment (mrcnn-predict then averages both orientations by itself, from the model's
metadata), and evaluated by mrcnn-eval on every test site:

  h1      ENCODE H1 RRBS, hg19 chr20: train below 45 Mb (15% validation), test above
  imr90   IMR90 WGBS, chr22: train below 31 Mb, validate 31-32 Mb, test 32.1-35 Mb (region split)

Prints one table (RMSE and ROC AUC per seed, their means, and the change with --rc-augment) and, with --write,
puts it into docs/REPRODUCTION.md between its strand-benchmark markers.
Usage: nice python benchmarks/strand.py [--sets h1,imr90] [--seeds 1,2,3] [--work DIR] [--write]
"""

import argparse
import os
import sys
import time

import numpy as np
from _common import write_section

from mrcnn_tools.cli.encode import main as encode
from mrcnn_tools.cli.evaluate import main as evaluate
from mrcnn_tools.cli.predict import main as predict
from mrcnn_tools.cli.train import main as train
from mrcnn_tools.data.dataset import load_dataset

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

DATA = os.path.join(ROOT, "examples", "data")
ARCHS = ("mrcnn", "simple-cnn")


def run(fn, args):
    rc = fn(["-q", *map(str, args)])
    if rc:
        raise SystemExit(f"{fn.__module__} {' '.join(map(str, args))} failed with exit code {rc}")


def sets(work):
    """{name: (train.npz, validation args, test.npz, training args)}, encoded as examples/reproduce.py does."""

    cgi = os.path.join(DATA, "cpgIslands_hg19_all.bed")
    out = {}
    w = os.path.join(work, "h1")
    os.makedirs(w, exist_ok=True)
    for part, region in (("train", "chr20:1-45000000"), ("test", "chr20:45000001-63025520")):
        path = os.path.join(w, f"{part}.npz")
        if not os.path.exists(path):
            run(
                encode,
                [
                    "--genome",
                    os.path.join(DATA, "GRCh37_chr20.fa.gz"),
                    "--calls",
                    os.path.join(DATA, "rrbsH1hESC_hg19_50k.bedMethyl"),
                    "--chroms",
                    "chr20",
                    "--cgi",
                    cgi,
                    "--region",
                    region,
                    "-o",
                    path,
                ],
            )
    out["h1"] = (
        os.path.join(w, "train.npz"),
        ["--val-fraction", 0.15],
        os.path.join(w, "test.npz"),
        ["--epochs", 80, "--patience", 8, "--batch-size", 32],
    )
    w = os.path.join(work, "imr90")
    os.makedirs(w, exist_ok=True)
    for part, region in (("train", "1-31000000"), ("val", "31000001-32000000"), ("test", "32100001-35000000")):
        path = os.path.join(w, f"{part}.npz")
        if not os.path.exists(path):
            run(
                encode,
                [
                    "--genome",
                    os.path.join(DATA, "GRCh37_chr22_pieces.fa.gz"),
                    "--calls",
                    os.path.join(DATA, "IMR90_WGBS_chr22_24-35Mb_GRCh37.bismark.cov.gz"),
                    "--max-n-fraction",
                    0,
                    "--cgi",
                    cgi,
                    "--region",
                    f"chr22:{region}",
                    "-o",
                    path,
                ],
            )
    out["imr90"] = (
        os.path.join(w, "train.npz"),
        ["--validation", os.path.join(w, "val.npz")],
        os.path.join(w, "test.npz"),
        ["--epochs", 15, "--patience", 3],
    )
    return out


def metric(path, name):
    rows = [ln.rstrip("\n").split("\t") for ln in open(path) if ln.strip() and not ln.startswith("##")]
    for r in (dict(zip(rows[0], v)) for v in rows[1:]):
        if r["group"] == "all":
            return float(r[name])
    raise ValueError(f"{path}: no 'all' row")


def one(work, name, arch, rc, seed, spec):
    """(RMSE, ROC AUC) of one trained network on its test set."""

    train_npz, val_args, test_npz, train_args = spec
    stem = os.path.join(work, name, f"{arch}{'.rc' if rc else ''}.{seed}")
    trained = not os.path.exists(stem + ".keras")
    if trained:
        run(
            train,
            [
                train_npz,
                "--arch",
                arch,
                "--seed",
                seed,
                *val_args,
                *train_args,
                *(["--rc-augment"] if rc else []),
                "-o",
                stem + ".keras",
            ],
        )
    run(predict, ["-m", stem + ".keras", test_npz, "-o", stem + ".tsv"])
    run(evaluate, [stem + ".tsv", "--out-dir", stem + ".eval", "--no-plots"])
    path = os.path.join(stem + ".eval", "metrics.tsv")
    return metric(path, "rmse"), metric(path, "auc"), trained


def table(results, counts):
    """Markdown table from {(set, arch, rc): [(rmse, auc) per seed]}."""
    lines = [
        "| data (test CpGs) | model | RMSE per seed | mean RMSE | ROC AUC per seed | mean AUC |",
        "|---|---|---|---|---|---|",
    ]
    for (name, arch, rc), vals in results.items():
        rmse, auc = np.array(vals).T
        change = ""
        if rc and (name, arch, False) in results:
            base = np.array(results[(name, arch, False)]).T
            change = f" ({rmse.mean() - base[0].mean():+.3f})", f" ({auc.mean() - base[1].mean():+.3f})"
        lines.append(
            f"| {name} ({counts[name]}) | {arch}{' --rc-augment' if rc else ''} | "
            + ", ".join(f"{v:.3f}" for v in rmse)
            + f" | {rmse.mean():.3f}{change[0] if change else ''} | "
            + ", ".join(f"{v:.3f}" for v in auc)
            + f" | {auc.mean():.3f}{change[1] if change else ''} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default="h1,imr90")
    parser.add_argument("--archs", default=",".join(ARCHS))
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument(
        "--work",
        default=os.path.join(ROOT, "strand-output"),
        help="data sets, models and evaluations (models found there are reused)",
    )
    parser.add_argument("--write", action="store_true", help="put the table into docs/REPRODUCTION.md")
    args = parser.parse_args(argv)

    t0 = time.time()
    specs = sets(args.work)
    results, counts, trained = {}, {}, 0
    for name in args.sets.split(","):
        counts[name] = len(load_dataset(specs[name][2]).y)
        for arch in args.archs.split(","):
            for rc in (False, True):
                for seed in args.seeds.split(","):
                    t = time.time()
                    rmse, auc, new = one(args.work, name, arch, rc, seed, specs[name])
                    results.setdefault((name, arch, rc), []).append((rmse, auc))
                    trained += new
                    print(
                        f"{name} {arch}{' --rc-augment' if rc else ''} seed {seed}: RMSE {rmse:.3f} AUC {auc:.3f} "
                        f"({time.time() - t:.0f} s)",
                        file=sys.stderr,
                        flush=True,
                    )
    text = table(results, counts)
    summary = (
        f"{sum(map(len, results.values()))} networks ({trained} trained in this run, the others found in "
        f"--work), {(time.time() - t0) / 60:.0f} minutes in all"
    )
    print(text)
    print(summary)
    if args.write:
        write_section(
            "strand-benchmark",
            text + "\n\n" + summary + f" (`benchmarks/strand.py --sets {args.sets} --seeds {args.seeds}`).",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
