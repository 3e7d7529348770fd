#!/usr/bin/env python
"""Planted-motif benchmark of mrcnn-filters2meme's methods (issue 16): how often is a motif the labels depend on
found, for the right methylation group and not the other?

For each JASPAR CORE motif below, a set of real hg19 chr20 CpG windows (400 bp, no N) is labelled half hyper
(0.95) and half hypo (0.05); an instance sampled from the motif's PWM, on a random strand at a random offset within
--spread bp of the CpG, is planted into a fraction (--planted, default 0.8) of the windows of one group (hyper;
NRF1 also into hypo, as a second set). mrcnn and simple-cnn are trained on each set with 3 seeds, as the
acceptance check trains them (15 epochs, 20% validation), and every method is run on the windows of both groups.
A case is recovered when a motif of the planted group matches the planted matrix (Tomtom q < 0.05 against JASPAR
CORE vertebrates) and no motif of the other group does. ``control`` is the default method's motif finder on
random regions instead of the model's highest-attribution ones: what the data give without the model.

Prints the recovery table (motif x architecture x method: k of 3 seeds, best q-values) and, with --write, puts it
into docs/REPRODUCTION.md between its motif-benchmark markers.
Usage: nice python benchmarks/motifs.py [--sites 2000] [--seeds 1,2,3] [--methods ...] [--write]
"""

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time

import numpy as np
from _common import write_section

from mrcnn_tools import motifs as mo
from mrcnn_tools.cli.train import main as train
from mrcnn_tools.data.dataset import Dataset, load_dataset
from mrcnn_tools.encoding import extract_windows, find_cpgs
from mrcnn_tools.errors import ModelError
from mrcnn_tools.genome.fasta import Genome
from mrcnn_tools.models.backend import load_tensorflow
from mrcnn_tools.models.files import load_model, read_model_meta
from mrcnn_tools.motifs.discover import discover
from mrcnn_tools.motifs.pwm import jaspar_motif
from mrcnn_tools.motifs.seqlet_clusters import peak_regions, random_regions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

GENOME = os.path.join(ROOT, "..", "shared", "data", "genome", "GRCh37_chr20.fa.gz")
# name, JASPAR id (latest version), planted group; lengths 8-20 bp, GC content 0.25-0.91
MOTIFS = [
    ("CTCF", "MA0139", "hyper"),
    ("REST", "MA0138", "hyper"),
    ("NRF1", "MA0506", "hyper"),
    ("SP1", "MA0079", "hyper"),
    ("YY1", "MA0095", "hyper"),
    ("MEF2C", "MA0497", "hyper"),
    ("NRF1", "MA0506", "hypo"),
]
ARCHS = ("mrcnn", "simple-cnn")
METHODS = ("attribution", "kmeans", "modisco", "activation", "control")


def real_windows(n, flank, rng):
    """*n* windows of 2 * flank bases around random CpGs of chr20 (no N), codes uint8 (n, 2 * flank)."""

    codes = Genome(GENOME).codes("20")
    cpgs = find_cpgs(codes)
    cpgs = cpgs[(cpgs > flank) & (cpgs < len(codes) - flank)]
    pick = np.sort(rng.choice(cpgs, 3 * n, replace=False))
    win = extract_windows(codes, pick, flank)
    return win[(win < 4).all(1)][:n], pick


def plant(windows, pwm_code, rows, spread, rng):
    """Put an instance sampled from *pwm_code* (w, 4; code order) into each of *rows*, random strand, start
    within *spread* of the centre. Returns the start of each instance."""
    w = len(pwm_code)
    centre = windows.shape[1] // 2
    starts = []
    for r in rows:
        site = np.array([rng.choice(4, p=p) for p in pwm_code], np.uint8)
        if rng.random() < 0.5:
            site = (3 - site)[::-1]
        s = int(np.clip(centre + rng.integers(-spread, spread + 1) - w // 2, 0, windows.shape[1] - w))
        windows[r, s : s + w] = site
        starts.append(s)
    return np.array(starts)


def make_set(path, jaspar_id, group, n, planted, spread, seed):

    rng = np.random.default_rng(seed)
    seq, pos = real_windows(n, 200, rng)
    n = len(seq)
    y = np.where(np.arange(n) % 2 == 0, 0.95, 0.05).astype(np.float32)
    target = np.flatnonzero((y > 0.9) if group == "hyper" else (y < 0.1))
    rows = target[rng.random(len(target)) < planted]
    pwm = jaspar_motif(jaspar_id).pwm[:, [3, 1, 2, 0]]  # MEME order A C G T -> code order T C G A
    plant(seq, pwm, rows, spread, rng)
    Dataset(
        seq=seq,
        y=y,
        coverage=np.full(n, 20, np.int32),
        chrom=np.full(n, "20"),
        pos=pos[:n].astype(np.int64),
        strand=np.full(n, "."),
        cgi=np.full(n, -1, np.int8),
        meta={"flank": 200, "encoding": "TCGA-N4", "genome": "GRCh37_chr20 (planted)"},
    ).save(path)
    return len(rows)


def quiet(fn, *args):
    buf = io.StringIO()
    with contextlib.redirect_stderr(buf):
        rc = fn(*args)
    if rc != 0:
        raise RuntimeError(buf.getvalue()[-2000:])


def control_motifs(seq, other, seed):
    """The default method's motif finder on random regions of the group's windows: no model."""

    rng = np.random.default_rng(seed)
    fg = peak_regions(seq, rng.random(seq.shape).astype(np.float32), width=20, flank=10)
    bg = random_regions(other, 40, 2 * len(fg), rng)
    return [(pwm, n, f"ctrl{k + 1}") for k, (pwm, n, _) in enumerate(discover(fg, bg))]


def learned(model_path, data_path):
    """1 - best validation MSE / variance of the labels: 0 when the network learned nothing it could use on
    held-out windows, 1 for perfect predictions."""

    rows = read_model_meta(model_path).get("history") or []
    best = min((r["val_loss"] for r in rows if "val_loss" in r), default=float("nan"))
    return 1.0 - best / float(np.var(load_dataset(data_path).y))


def run_methods(model_path, data_path, methods, jaspar_id, planted_group, db, seed, per_group=None):
    """Best q of a match to *jaspar_id* per method and group: {method: {group: q or None}}, seconds. The methods
    read at most *per_group* windows of each group (a random subset), as filters2meme --sites-per-group does."""

    data = load_dataset(data_path)
    model, _ = load_model(model_path)
    idx = {"hyper": np.flatnonzero(data.y > 0.9), "hypo": np.flatnonzero(data.y < 0.1)}
    rng = np.random.default_rng(seed)
    idx = {
        g: np.sort(rng.choice(i, per_group, replace=False)) if per_group and len(i) > per_group else i
        for g, i in idx.items()
    }
    out, secs = {}, {}
    for method in methods:
        t = time.time()
        out[method] = {}
        for g in ("hyper", "hypo"):
            seq, other = data.seq[idx[g]], data.seq[idx["hypo" if g == "hyper" else "hyper"]]
            try:
                found = (
                    control_motifs(seq, other, seed)
                    if method == "control"
                    else mo.find_group_motifs(method, model, seq, g, other, seed=seed)
                )
            except ModelError:  # activation on MRCNN's 1-bp first layer
                out[method] = None
                break
            motifs = [mo.Motif(f"{g}_{label}", pwm, n) for pwm, n, label in found]
            qs = [r["q"] for r in mo.match(motifs, db) if r["significant"] and r["match_id"].split(".")[0] == jaspar_id]
            out[method][g] = (min(qs) if qs else None, len(motifs))
        secs[method] = time.time() - t
    return out, secs


def table(results, methods):
    """Markdown recovery table from result rows."""
    lines = [
        "| motif (planted in) | arch | learned | " + " | ".join(methods) + " |",
        "|---|---|---|" + "---|" * len(methods),
    ]
    keys = list(dict.fromkeys((r["motif"], r["group"], r["arch"]) for r in results))
    total = {m: [0, 0] for m in methods}
    for motif, group, arch in keys:
        gains = {
            r["seed"]: r["learned"] for r in results if (r["motif"], r["group"], r["arch"]) == (motif, group, arch)
        }
        cells = [", ".join(f"{v:.2f}" for v in gains.values())]
        for m in methods:
            rows = [r for r in results if (r["motif"], r["group"], r["arch"], r["method"]) == (motif, group, arch, m)]
            if not rows:
                cells.append("n/a")
                continue
            k = sum(r["recovered"] for r in rows)
            total[m][0] += k
            total[m][1] += len(rows)
            qs = ", ".join(f"{r['q_right']:.0e}" if r["q_right"] is not None else "-" for r in rows)
            wrong = sum(r["q_wrong"] is not None for r in rows)
            cells.append(f"{k}/{len(rows)} ({qs})" + (f", other group {wrong}" if wrong else ""))
        lines.append(f"| {motif} ({group}) | {arch} | " + " | ".join(cells) + " |")
    lines.append(
        "| **all** | | | "
        + " | ".join(f"**{k}/{n} ({100 * k / n:.0f}%)**" if n else "n/a" for k, n in total.values())
        + " |"
    )
    return "\n".join(lines)


def rebuild(args):
    """The table of earlier runs, from their results files in --out (comma-separated: e.g. a later run of one more
    method on the same models), and its models' histories where a file has no learned column."""
    paths = [os.path.join(args.out, name) for name in args.results.split(",")]
    rows = []
    for path in paths:
        lines = [ln.rstrip("\n").split("\t") for ln in open(path)]
        rows += [dict(zip(lines[0], v)) for v in lines[1:]]
    results = []
    for r in rows:
        stem = os.path.join(args.out, f"{r['motif']}_{r['group']}")
        gain = (
            float(r["learned"]) if "learned" in r else learned(f"{stem}_{r['arch']}_{r['seed']}.keras", stem + ".npz")
        )
        results.append(
            {
                **r,
                "recovered": r["recovered"] == "1",
                "learned": gain,
                **{k: None if r[k] == "None" else float(r[k]) for k in ("q_right", "q_wrong")},
            }
        )
    methods = sorted(
        dict.fromkeys(r["method"] for r in results), key=lambda m: METHODS.index(m) if m in METHODS else len(METHODS)
    )
    text = table(results, methods)
    print(text)
    if args.write:
        write_section(
            args.doc_marker,
            text + "\n\n" + f"{len(results)} cases from {', '.join(args.results.split(','))} "
            f"(`benchmarks/motifs.py --from-results`).",
        )
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=2000, help="windows per set (half hyper, half hypo)")
    parser.add_argument("--planted", type=float, default=0.8, help="fraction of the group's windows planted")
    parser.add_argument("--spread", type=int, default=80, help="instances start within this of the CpG")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument(
        "--rc-augment",
        action="store_true",
        help="train with mrcnn-train --rc-augment (the table's arch reads 'ARCH --rc-augment')",
    )
    parser.add_argument(
        "--per-group",
        type=int,
        default=None,
        help="the methods read at most this many windows of each group (default: all)",
    )
    parser.add_argument("--motifs", default=",".join(f"{n}:{g}" for n, _, g in MOTIFS), help="NAME:GROUP,...")
    parser.add_argument("--archs", default=",".join(ARCHS))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--out", default=None, help="directory for the sets, models and results.tsv")
    parser.add_argument("--write", action="store_true", help="put the table into docs/REPRODUCTION.md")
    parser.add_argument(
        "--reuse-models",
        action="store_true",
        help="use the sets and models an earlier run left in --out (e.g. to add a method)",
    )
    parser.add_argument(
        "--results",
        default="results.tsv",
        help="file name of the results in --out (--from-results: several, comma-separated)",
    )
    parser.add_argument(
        "--doc-marker",
        default="motif-benchmark",
        help="--write puts the table between <!-- MARKER:begin/end --> in docs/REPRODUCTION.md",
    )
    parser.add_argument(
        "--from-results",
        action="store_true",
        help="only rebuild the table from --out's results.tsv and models (no training)",
    )
    args = parser.parse_args(argv)
    if args.from_results:
        return rebuild(args)

    load_tensorflow()
    db = mo.jaspar_motifs()
    out = args.out or tempfile.mkdtemp(prefix="motif-bench-")
    os.makedirs(out, exist_ok=True)
    wanted = [tuple(s.split(":")) for s in args.motifs.split(",")]
    methods = args.methods.split(",")
    results, t0 = [], time.time()
    res_path = os.path.join(out, args.results)
    with open(res_path, "w") as fh:
        fh.write("motif\tgroup\tarch\tseed\tmethod\trecovered\tq_right\tq_wrong\tn_right\tn_wrong\tsecs\tlearned\n")
    for k, (name, jid, group) in enumerate(MOTIFS):
        if (name, group) not in wanted:
            continue
        data = os.path.join(out, f"{name}_{group}.npz")
        n_planted = (
            make_set(data, jid, group, args.sites, args.planted, args.spread, seed=100 + k)
            if not (args.reuse_models and os.path.exists(data))
            else "(reused)"
        )
        print(f"{name} ({jid}) planted in {n_planted} {group} windows of {args.sites}", flush=True)
        for arch in args.archs.split(","):
            for seed in args.seeds.split(","):
                label = arch + (" --rc-augment" if args.rc_augment else "")
                model = os.path.join(out, f"{name}_{group}_{arch}{'_rc' if args.rc_augment else ''}_{seed}.keras")
                t = time.time()
                if not (args.reuse_models and os.path.exists(model)):
                    quiet(
                        train,
                        [
                            "-q",
                            data,
                            "--arch",
                            arch,
                            "--epochs",
                            str(args.epochs),
                            "--val-fraction",
                            "0.2",
                            "--seed",
                            seed,
                            *(["--rc-augment"] if args.rc_augment else []),
                            "-o",
                            model,
                        ],
                    )
                t_train = time.time() - t
                gain = learned(model, data)
                found, secs = run_methods(
                    model,
                    data,
                    [m for m in methods if not (m == "activation" and arch == "mrcnn")],
                    jid,
                    group,
                    db,
                    int(seed),
                    args.per_group,
                )
                other = "hypo" if group == "hyper" else "hyper"
                for method, res in found.items():
                    if res is None:
                        continue
                    (q_right, n_right), (q_wrong, n_wrong) = res[group], res[other]
                    row = {
                        "motif": name,
                        "group": group,
                        "arch": label,
                        "seed": seed,
                        "method": method,
                        "recovered": q_right is not None and q_wrong is None,
                        "q_right": q_right,
                        "q_wrong": q_wrong,
                        "learned": gain,
                    }
                    results.append(row)
                    with open(res_path, "a") as fh:
                        fh.write(
                            f"{name}\t{group}\t{label}\t{seed}\t{method}\t{int(row['recovered'])}\t{q_right}\t"
                            f"{q_wrong}\t{n_right}\t{n_wrong}\t{secs[method]:.1f}\t{gain:.3f}\n"
                        )
                print(
                    f"  {label} seed {seed}: train {t_train:.0f} s, learned {gain:.3f}; "
                    + "; ".join(
                        f"{m} {'yes' if r['recovered'] else 'no'} ({secs[m]:.0f} s)"
                        for m, r in ((r["method"], r) for r in results[-len(found) :])
                    ),
                    flush=True,
                )
    text = table(results, [m for m in methods])
    summary = (
        f"{len(results)} cases, {time.time() - t0:.0f} s in all; {args.sites} windows a set"
        + (f" (the methods read {args.per_group} of each group)" if args.per_group else "")
        + ", "
        f"{args.planted:.0%} of the planted group's windows planted, within {args.spread} bp of the CpG; "
        f"{args.epochs} epochs; results in {res_path}"
    )
    print(text)
    print(summary)
    if args.write:
        write_section(args.doc_marker, text + "\n\n" + summary.split("; results in")[0] + ".")
    return 0


if __name__ == "__main__":
    sys.exit(main())
