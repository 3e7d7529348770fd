"""Many samples, one model (issue 25): one S-output context-only model against the three baselines and against one
context-only model per sample, on the two shared cohorts, split by position as acceptance 25 splits them.

For each set (19 tissues, hg38 chr1; 30 single mouse cells, chr19) and each fraction of observed entries kept
(100/50/20/5%, chosen at random with the seed, in training and test alike), prints and writes to
docs/REPRODUCTION.md: AUC (level > 0.5) and Pearson r over the held-out entries (leave-one-out: each entry
predicted without its own value) of the model, the within-sample neighbour average, the mean of the other samples
at the CpG and the mean of the two; one model per sample; the training wall time and peak RSS of one S-output
model against S one-sample models (the one model in its own process, the S models one after the other in another;
wall time and peak RSS of each process from ``os.wait4``); and the AUC per sample at 100%.

Datasets are built here from the Bismark .cov files with the library's neighbour search
(:func:`mrcnn_tools.data.neighbours.chromosome_context`), the layout ``mrcnn-encode --calls A --calls B ... --context
5 --no-windows`` writes (docs/FORMATS.md §3).

Usage: python benchmarks/cohort.py [--fractions 1,0.5,0.2,0.05] [--sets bulk,cells] [--epochs 30] [--no-write]
"""

import argparse
import glob
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from mrcnn_tools.data.dataset import Dataset
from mrcnn_tools.data.neighbours import chromosome_context
from mrcnn_tools.models.context_inputs import model_inputs
from mrcnn_tools.models.registry import register_layers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import ROOT, write_section  # noqa: E402

DATA = os.path.join(ROOT, "..", "shared", "data")
SETS = {  # name: (folder, min coverage, train below, test from, binary)
    "bulk": ("multi_sample_celfie_hg38_chr1", 5, 500_000, 520_000, False),
    "cells": ("single_cell_mouse_chr19", 1, 30_000_000, 30_200_000, True),
}
K = 5


def read_cov(path, mincov):
    """{1-based position: (methylated, unmethylated)} of one Bismark .cov.gz, entries with >= *mincov* reads."""
    out, chrom = {}, None
    with gzip.open(path, "rt") as fh:
        for line in fh:
            c, p, _, _, m, u = line.split()[:6]
            m, u = int(m), int(u)
            if m + u >= mincov:
                out[int(p)] = (m, u)
                chrom = c
    return chrom, out


def cohort(calls, names, chrom, lo, hi, keep=1.0, seed=0):
    """The multi-sample Dataset of the entries with lo <= position < hi (a fraction *keep* of them, seeded).

    Returns
    -------
    Dataset: y float32 (N, S) (NaN = not observed), coverage int32 (N, S), context arrays (N, S, 2K), seq (N, 0)
    """
    rng = np.random.default_rng(seed)
    entries = [{p: v for p, v in c.items() if lo <= p < hi} for c in calls]
    if keep < 1:
        entries = [{p: v for p, v in e.items() if rng.random() < keep} for e in entries]
    pos1 = np.array(sorted(set().union(*entries)), np.int64)
    n, s = len(pos1), len(calls)
    y = np.full((n, s), np.nan, np.float32)
    cov = np.zeros((n, s), np.int32)
    ctx = {
        "context_level": np.full((n, s, 2 * K), np.nan, np.float32),
        "context_dist": np.zeros((n, s, 2 * K), np.int32),
        "context_coverage": np.zeros((n, s, 2 * K), np.int32),
    }
    row = {p: i for i, p in enumerate(pos1.tolist())}
    for j, e in enumerate(entries):
        ps = np.array(sorted(e), np.int64)
        mu = np.array([e[p] for p in ps.tolist()], np.float64).reshape(-1, 2)
        idx = np.array([row[p] for p in ps.tolist()], np.int64)
        y[idx, j] = mu[:, 0] / mu.sum(1)
        cov[idx, j] = mu.sum(1)
        part = chromosome_context(ps - 1, None, y[idx, j], cov[idx, j], pos1 - 1, None, K)
        for key in ctx:
            ctx[key][:, j] = part[key]
    return Dataset(
        seq=np.empty((n, 0), np.uint8),
        y=y,
        coverage=cov,
        chrom=np.full(n, chrom),
        pos=pos1 - 1,
        strand=np.full(n, "."),
        cgi=np.full(n, -1, np.int8),
        meta={"genome": None, "flank": 0, "windows": False, "context": K},
        samples=np.array(names),
        **ctx,
    )


def one_sample(data, j):
    """Sample *j* of a multi-sample Dataset as a one-sample dataset (its observed sites, its own neighbours)."""
    seen = ~np.isnan(data.y[:, j])
    return Dataset(
        seq=data.seq[seen],
        y=data.y[seen, j],
        coverage=data.coverage[seen, j],
        chrom=data.chrom[seen],
        pos=data.pos[seen],
        strand=data.strand[seen],
        cgi=data.cgi[seen],
        meta=dict(data.meta, sample=str(data.samples[j])),
        **{k: getattr(data, k)[seen, j] for k in ("context_level", "context_dist", "context_coverage")},
    )


def baselines(data):
    """(neighbour average, mean of the other samples, mean of the two), float64 (N, S) each, NaN where none."""
    w = np.where(data.context_dist != 0, 1.0 / (1.0 + np.abs(data.context_dist.astype(np.float64))), 0.0)
    total = w.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        nb = np.where(total > 0, (w * np.nan_to_num(data.context_level)).sum(-1) / total, np.nan)
        seen = ~np.isnan(data.y)
        others = seen.sum(1, keepdims=True) - seen
        sm = np.where(others > 0, (np.nansum(data.y, 1, keepdims=True) - np.nan_to_num(data.y)) / others, np.nan)
    both = np.where(np.isnan(nb), sm, np.where(np.isnan(sm), nb, (nb + sm) / 2))
    return nb, sm, both


def score(y, p):
    """(AUC of level > 0.5, Pearson r, entries scored) over the observed entries where *p* is known."""
    from sklearn.metrics import roc_auc_score

    ok = ~np.isnan(y) & ~np.isnan(p)
    t = y[ok] > 0.5
    auc = roc_auc_score(t, p[ok]) if 0 < t.sum() < len(t) else float("nan")
    return auc, float(np.corrcoef(y[ok], p[ok])[0, 1]), int(ok.sum())


def train_child(jobs, epochs, seed):
    """mrcnn-train on each (dataset, model) of *jobs*, one after the other in one new process (TensorFlow loaded
    once, as a user's loop over samples would): (wall seconds, peak RSS in MB of that process)."""
    args = [
        [npz, "--arch", "context-only", "-o", model, "--val-fraction", "0.1", "--epochs", str(epochs), "--patience"]
        + ["4", "--seed", str(seed), "-q"]
        for npz, model in jobs
    ]
    # a sample too small to split for validation fails alone (its model is missing, its entries unscored)
    code = f"from mrcnn_tools.cli.train import main\nfor a in {args!r}:\n    main(a)"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    secs = time.perf_counter() - t0
    if status:
        raise SystemExit(f"training failed: {err.strip().splitlines()[-1] if err.strip() else status}")
    return secs, usage.ru_maxrss / 1024


def predict(model_path, data):
    """float64 (N, S) (or (N,) for a one-sample dataset) predictions of a context model on *data*."""
    import keras

    register_layers()
    model = keras.models.load_model(model_path, compile=False, safe_mode=True)
    x = model_inputs(data, np.arange(len(data)), with_codes=False)
    p = np.asarray(model.predict(x, batch_size=1024, verbose=0), np.float64)
    return p.reshape(len(data), -1) if data.samples is not None else p.reshape(-1)


def run_set(name, fractions, epochs, seed, tmp):
    folder, mincov, train_hi, test_lo, binary = SETS[name]
    files = sorted(glob.glob(os.path.join(DATA, folder, "*.cov.gz")))
    names = [os.path.basename(f).split(".")[0] for f in files]
    read = [read_cov(f, mincov) for f in files]
    chrom, calls = read[0][0], [c for _, c in read]
    rows, per_sample, costs = [], None, None
    for keep in fractions:
        train = cohort(calls, names, chrom, 0, train_hi, keep, seed)
        test = cohort(calls, names, chrom, test_lo, 1 << 40, keep, seed + 1)
        train.save(f"{tmp}/{name}.train.npz")
        model = f"{tmp}/{name}.keras"
        secs, rss = train_child([(f"{tmp}/{name}.train.npz", model)], epochs, seed)
        p = predict(model, test)
        nb, sm, both = baselines(test)
        # one context-only model per sample, on that sample alone (samples with under 50 training sites: none)
        jobs = []
        for j in range(len(names)):
            part = one_sample(train, j)
            if len(part) >= 50:
                part.save(f"{tmp}/{name}.{j}.npz")
                jobs.append((f"{tmp}/{name}.{j}.npz", f"{tmp}/{name}.{j}.keras"))
        s_secs, s_rss = train_child(jobs, epochs, seed)
        single = np.full(test.y.shape, np.nan)
        for j in range(len(names)):
            te = one_sample(test, j)
            if len(te) and os.path.exists(f"{tmp}/{name}.{j}.keras"):
                single[~np.isnan(test.y[:, j]), j] = predict(f"{tmp}/{name}.{j}.keras", te)
        y = test.y
        res = {
            "model": score(y, p),
            "neighbours": score(y, nb),
            "samples": score(y, sm),
            "both": score(y, both),
            "per-sample models": score(y, single),
        }
        rows.append((keep, res))
        print(name, keep, json.dumps({k: [round(v, 4) for v in r[:2]] + [r[2]] for k, r in res.items()}), flush=True)
        if keep == 1:
            per_sample = [
                (names[j], score(y[:, j], p[:, j])[0], score(y[:, j], both[:, j])[0]) for j in range(len(names))
            ]
            costs = (secs, rss, s_secs, s_rss, len(names))
    return rows, per_sample, costs, len(names)


def table(name, rows, per_sample, costs, s):
    out = [f"**{name}** ({s} samples; AUC / Pearson r on the held-out entries, n scored)", ""]
    out += ["| kept | S-output model | neighbour average | other samples | mean of the two | one model per sample |"]
    out += ["|---|---|---|---|---|---|"]
    for keep, res in rows:
        cells = [f"{res[k][0]:.3f} / {res[k][1]:.3f}" for k in ("model", "neighbours", "samples", "both")]
        cells.append(f"{res['per-sample models'][0]:.3f} / {res['per-sample models'][1]:.3f}")
        out.append(f"| {100 * keep:g}% (n={res['model'][2]}) | " + " | ".join(cells) + " |")
    if costs:
        secs, rss, s_secs, s_rss, n = costs
        out += ["", f"Training at 100%: one {n}-output model {secs:.0f} s, peak RSS {rss:.0f} MB; "]
        out[-1] += (
            f"{n} one-sample models, one after the other in one process, {s_secs:.0f} s, peak RSS {s_rss:.0f} MB."
        )
    if per_sample:
        out += ["", "AUC per sample at 100% (model / mean of the two): "]
        out[-1] += "; ".join(f"{n} {a:.3f}/{b:.3f}" for n, a, b in per_sample)
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default="bulk,cells")
    ap.add_argument("--fractions", default="1,0.5,0.2,0.05")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/REPRODUCTION.md alone")
    ap.add_argument("--section", default="cohort", help="the section of docs/REPRODUCTION.md written (one per set run)")
    a = ap.parse_args(argv)
    fractions = [float(f) for f in a.fractions.split(",")]
    parts = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in a.sets.split(","):
            parts.append(table(name, *run_set(name, fractions, a.epochs, a.seed, tmp)))
    text = "\n\n".join(parts)
    print(text)
    if not a.no_write:
        cmd = f"python benchmarks/cohort.py --sets {a.sets} --fractions {a.fractions} --epochs {a.epochs}"
        write_section(a.section, f"`{cmd} --section {a.section}` (seed {a.seed}):\n\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
