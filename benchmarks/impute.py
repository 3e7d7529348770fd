#!/usr/bin/env python
"""Imputation from neighbours and sequence on real WGBS (issue 17): mrcnn-context against its baselines.

IMR90 WGBS chr22 (/work/shared/data/imr90_wgbs_chr22, or --data DIR): train on chr22 < 31 Mb, test on
32.1-35 Mb (windows free of N, coverage >= 5), each site's context the 5 nearest other observed CpGs on
each side (leave-one-out: a site never sees its own label). Compared, per seed:
  mrcnn-context     MRCNN's sequence branch + the context branch
  context-only      the context branch alone
  neighbours        the distance-weighted average of the observed neighbours (no training)
  mrcnn             the paper's sequence-only network
Sparse data (--keep 1 0.5 0.2 0.05): a fraction of the observed CpGs is kept as neighbours, in both regions
(a low-coverage sample is sparse everywhere), every site stays a target; context models are trained on the
sparse context of the training region. Prints one table (mean and sd over seeds) of ROC AUC (level > 0.5),
Pearson r and RMSE.
Usage: python benchmarks/impute.py [--seeds 0 1 2] [--keep 1 0.5 0.2 0.05] [--epochs 30] [--threads N]
"""

import argparse
import os
import sys
import textwrap
import time

import numpy as np
from _common import REPRODUCTION, write_section

from mrcnn_tools.data.encode import encode_file
from mrcnn_tools.data.neighbours import add_context, neighbour_average
from mrcnn_tools.data.options import EncodeOptions
from mrcnn_tools.data.splits import split_validation
from mrcnn_tools.genome.fasta import Genome
from mrcnn_tools.genome.regions import IntervalSet, Selection, parse_region
from mrcnn_tools.models.context import context_meta
from mrcnn_tools.prediction.predictors import ContextPredictor, Predictor
from mrcnn_tools.training.fit import TrainConfig, base_meta, train_keras

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

DATA = "/work/shared/data"
TRAIN, TEST = "chr22:1-31000000", "chr22:32100001-35000000"
K = 5


def selection(region):
    return Selection(regions=IntervalSet([parse_region(region)]))


def encode(data_dir):
    """(train targets, test targets, observed sites of both regions): the targets without context yet."""

    genome = Genome(os.path.join(data_dir, "genome", "GRCh37_chr22_pieces.fa.gz"))
    calls = os.path.join(data_dir, "imr90_wgbs_chr22", "IMR90_WGBS_chr22_24-35Mb_GRCh37.bismark.cov.gz")
    out = []
    for region in (TRAIN, TEST):
        targets, _ = encode_file(genome, calls, EncodeOptions(max_n_fraction=0.0, selection=selection(region)))
        observed, _ = encode_file(
            genome, calls, EncodeOptions(max_n_fraction=1.0, windows=False, selection=selection(region))
        )
        out.append((targets, observed))
    return out


def with_context(targets, observed, keep, seed):
    """*targets* (a copy) with the context of a random fraction *keep* of *observed*."""

    if keep < 1:
        observed = observed.subset(np.random.default_rng([seed, 17]).random(len(observed)) < keep)
    return add_context(targets.subset(slice(None)), observed, K)


def scores(y, p):
    from sklearn.metrics import roc_auc_score

    ok = np.isfinite(p)
    return (
        roc_auc_score(y[ok] > 0.5, p[ok]),
        float(np.corrcoef(y[ok], p[ok])[0, 1]),
        float(np.sqrt(np.mean((y[ok] - p[ok]) ** 2))),
    )


def train_model(arch, train, seed, epochs, threads, context_dropout=0.0):
    """A model trained as mrcnn-train trains it (10% of 10-kb blocks for validation, patience 4)."""

    tr, val, split = split_validation(train, val_fraction=0.1, seed=seed)
    kwargs = {"k": K, "context_dropout": context_dropout} if arch != "mrcnn" else {}
    config = TrainConfig(
        arch=arch, epochs=epochs, batch_size=128, patience=4, seed=seed, threads=threads, model_kwargs=kwargs
    )
    meta = base_meta(config, tr, val, split, [])
    if arch != "mrcnn":
        meta["context"] = context_meta(K, context_dropout)
    model, history = train_keras(tr, val, config, meta=meta)
    return model, meta, len(history)


def predict(arch, model, meta, test):

    if arch == "mrcnn":
        return Predictor(model, dict(meta, flank=200)).predict(test.windows())
    return ContextPredictor(model, meta).predict(test)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--keep", type=float, nargs="+", default=[1.0, 0.5, 0.2, 0.05])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--context-dropout", type=float, default=0.0)
    ap.add_argument("--models", nargs="+", default=["mrcnn-context", "context-only", "neighbours", "mrcnn"])
    ap.add_argument(
        "--doc",
        metavar="MD",
        nargs="?",
        const=REPRODUCTION,
        help="also write the table between the imputation-benchmark markers of this Markdown file (default "
        "docs/REPRODUCTION.md; appended when it has none)",
    )
    ap.add_argument("--plot", metavar="PNG", help="also plot AUC and Pearson r against the neighbours kept")
    args = ap.parse_args(argv)
    t0 = time.time()
    (train_t, train_o), (test_t, test_o) = encode(args.data)
    print(
        f"# train {len(train_t)} sites ({TRAIN}), test {len(test_t)} sites ({TEST}), K={K}; "
        f"encoded in {time.time() - t0:.0f} s",
        flush=True,
    )
    results = {}  # (keep, model) -> list of (auc, r, rmse)
    for seed in args.seeds:
        seq_pred = None
        for keep in args.keep:
            train = with_context(train_t, train_o, keep, seed)
            test = with_context(test_t, test_o, keep, seed + 1000)
            for arch in args.models:
                t = time.time()
                if arch == "neighbours":
                    pred, epochs = neighbour_average(test.context_level, test.context_dist), 0
                elif arch == "mrcnn":
                    if seq_pred is None:  # the sequence does not thin out: trained once a seed
                        model, meta, epochs = train_model(arch, train, seed, args.epochs, args.threads)
                        seq_pred = predict(arch, model, meta, test)
                    pred = seq_pred
                else:
                    model, meta, epochs = train_model(
                        arch, train, seed, args.epochs, args.threads, args.context_dropout
                    )
                    pred = predict(arch, model, meta, test)
                s = scores(test.y, pred)
                results.setdefault((keep, arch), []).append(s)
                print(
                    f"# seed {seed} keep {keep:g} {arch}: AUC {s[0]:.4f} r {s[1]:.4f} RMSE {s[2]:.4f} "
                    f"({epochs} epochs, {time.time() - t:.0f} s)",
                    flush=True,
                )
    table = ["| neighbours kept | model | ROC AUC | Pearson r | RMSE | seeds |", "|---|---|---|---|---|---|"]
    for (keep, arch), rows in results.items():
        a = np.array(rows)
        cells = " | ".join(f"{m:.3f} ± {sd:.3f}" for m, sd in zip(a.mean(0), a.std(0)))
        table.append(f"| {keep:g} | {arch} | {cells} | {len(rows)} |")
    print("\n" + "\n".join(table))
    if args.plot:
        plot(results, args.plot)
    if args.doc:
        write_imputation_section(args.doc, table, args, len(train_t), len(test_t), results)
    print(f"\n# {time.time() - t0:.0f} s in all")


def plot(results, path):
    """AUC and Pearson r (mean and sd over seeds) against the fraction of neighbours kept, one line per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for arch in dict.fromkeys(a for _, a in results):
        keeps = sorted(k for k, a in results if a == arch)
        vals = np.array([np.mean(results[(k, arch)], axis=0) for k in keeps])
        sds = np.array([np.std(results[(k, arch)], axis=0) for k in keeps])
        for ax, col in zip(axes, (0, 1)):
            ax.errorbar(keeps, vals[:, col], yerr=sds[:, col], marker="o", capsize=3, label=arch)
    for ax, name in zip(axes, ("ROC AUC (level > 0.5)", "Pearson r")):
        ax.set_xscale("log")
        ax.set_xlabel("fraction of observed CpGs kept as neighbours")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_imputation_section(path, table, args, n_train, n_test, results):
    """The imputation section of a Markdown report (benchmarks/_common.write_section)."""

    cmd = (
        "python benchmarks/impute.py --seeds "
        + " ".join(map(str, args.seeds))
        + " --keep "
        + " ".join(f"{k:g}" for k in args.keep)
        + (f" --plot {args.plot}" if args.plot else "")
        + f" --doc {args.doc}"
    )

    def auc(keep, arch):
        return np.mean(results[(keep, arch)], axis=0)[0]

    gains = ", ".join(
        f"{auc(k, 'mrcnn-context') - auc(k, 'context-only'):+.3f} with {k:g}"
        for k in args.keep
        if (k, "mrcnn-context") in results and (k, "context-only") in results
    )
    prose = (
        f"Regenerated by `{cmd}` (mean ± sd over seeds). Train on chr22 < 31 Mb "
        f"({n_train} CpGs), test on 32.1-35 Mb ({n_test} CpGs); windows free of N, coverage >= 5. Each site's context "
        f"is the {K} nearest other observed CpGs on each side (mrcnn-encode --context {K}; leave-one-out: a site "
        "never sees its own label). Observed CpGs whose window reaches into N are neighbours, not targets. "
        "Sparse rows keep a random fraction of the observed CpGs as neighbours in both regions (a low-coverage "
        "sample is sparse everywhere); every site stays a target, and the context models are trained on the "
        "sparse context (the neighbour average varies between seeds there by the subsample only). ROC AUC: "
        "level > 0.5. Labels of this lifted data set are partly mis-registered (the data's README): judge the "
        "differences between rows, not the absolute values."
        + (
            f" What the sequence adds to the neighbours (ROC AUC of mrcnn-context minus context-only, by the "
            f"fraction of neighbours kept): {gains}."
            if gains
            else ""
        )
    )
    text = "\n".join(
        [
            "## Imputation: observed neighbours and sequence (IMR90 WGBS, chr22)",
            "",
            textwrap.fill(prose, 115, break_on_hyphens=False, break_long_words=False),
            "",
            *table,
            "",
        ]
    )
    if args.plot:
        image = os.path.relpath(args.plot, os.path.dirname(os.path.abspath(path)))
        text += f"\n![AUC and Pearson r against the neighbours kept]({image})\n"
    write_section("imputation-benchmark", text, path)


if __name__ == "__main__":
    main()
