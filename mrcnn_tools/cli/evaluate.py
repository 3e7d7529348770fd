"""mrcnn-eval: predictions -> the paper's metrics (RMSE/MAE by group; SE/SP/ACC/AUC, CGI vs not) and plots."""

import json
import math
import os
import sys

import numpy as np

from ..errors import InputFormatError, MrcnnError, UsageError
from .common import fraction, make_parser, non_negative_int, run

PROG = "mrcnn-eval"
REQUIRED = ("chrom", "start", "prediction", "y_true")


def get_parser():
    parser = make_parser(
        PROG,
        "Evaluate predictions as in the paper: RMSE/MAE for all, hyper (> 0.9), mid (0.4-0.6) and hypo (< 0.1) "
        "sites; sensitivity, specificity, accuracy, ROC AUC, AUPRC and MCC at a cutoff, for CpG-island and other "
        "sites; calibration. Several prediction files are compared on the sites they share.\n\n"
        "example:\n  mrcnn-predict -m model.keras test.npz | mrcnn-eval - --out-dir eval/")
    parser.add_argument("predictions", nargs="+", metavar="PRED.tsv", help="predictions TSV from mrcnn-predict "
                                                                          "(- = stdin)")
    parser.add_argument("--labels", help="comma-separated model names, one per file (default: file names)")
    parser.add_argument("-o", "--out-dir", required=True,
                        help="directory for metrics.tsv, metrics.json, *.png (created when absent, removed again "
                             "if the run fails before writing to it)")
    parser.add_argument("--cutoff", type=fraction, default=0.5, help="methylated = level above this")
    parser.add_argument("--min-coverage", type=non_negative_int, default=0,
                        help="evaluate only sites with at least this many reads (needs a coverage column)")
    parser.add_argument("--no-plots", action="store_true", help="write the tables only")
    return parser


def read_predictions(path):
    """Read a predictions TSV; returns a DataFrame with chrom, start, prediction, y_true (+ coverage, cgi)."""
    import pandas as pd

    from ..io import check_readable, open_text

    check_readable(path, "predictions file")
    fh = open_text(path)
    try:
        header = fh.readline()
        if not header.strip():
            raise InputFormatError("the file is empty; give the output of mrcnn-predict", path)
        cols = [c.strip() for c in header.lstrip("#").rstrip("\n").split("\t")]
        missing = [c for c in REQUIRED if c not in cols]
        if missing:
            hint = (" (predictions made without labels: predict on a dataset encoded with --calls)"
                    if "y_true" in missing and "prediction" in cols else "")
            raise InputFormatError(f"column(s) {', '.join(missing)} missing from the header{hint}", path, 1)
        try:
            df = pd.read_csv(fh, sep="\t", header=None, names=cols, dtype={"chrom": str}, na_values=["NA"],
                             keep_default_na=False)
        except pd.errors.ParserError as exc:
            raise InputFormatError(f"cannot parse: {exc}", path) from None
        except pd.errors.EmptyDataError:
            df = pd.DataFrame(columns=cols)
    finally:
        if fh is not sys.stdin:
            fh.close()
    for c in ("start", "prediction", "y_true", "coverage", "cgi"):
        if c in df:
            values = pd.to_numeric(df[c], errors="coerce")
            bad = np.flatnonzero(values.isna().to_numpy() & df[c].notna().to_numpy())
            if len(bad):
                raise InputFormatError(f"column {c}: '{df[c].iloc[bad[0]]}' is not a number", path, int(bad[0]) + 2)
            df[c] = values
    return df


def _fmt(v):
    if isinstance(v, float):
        return "NA" if math.isnan(v) else f"{v:.10g}"
    return str(v)


def _body(args, log):
    import pandas as pd

    from .. import metrics, plots
    from ..io import atomic_path

    if args.predictions.count("-") > 1:
        raise UsageError("only one input can be stdin (-)")
    labels = args.labels.split(",") if args.labels else [
        "stdin" if p == "-" else os.path.basename(p).split(".")[0] for p in args.predictions]
    if len(labels) != len(args.predictions):
        raise UsageError(f"--labels has {len(labels)} names for {len(args.predictions)} files")
    if len(set(labels)) != len(labels):
        labels = [f"{lab}_{i + 1}" for i, lab in enumerate(labels)]
    frames = [read_predictions(p) for p in args.predictions]
    if not os.path.isdir(args.out_dir):
        parent = os.path.dirname(os.path.abspath(args.out_dir))
        if not os.path.isdir(parent):
            raise MrcnnError(f"{args.out_dir}: the parent directory {parent} does not exist; create it first")
        os.makedirs(args.out_dir)
    # align on the sites every file has, keyed on chromosome (chr22 = 22) and start
    from ..genome import canonical_chrom

    keyed = []
    for df in frames:
        df = df.copy()
        df["key_chrom"] = [canonical_chrom(c) for c in df["chrom"].astype(str)]
        keyed.append(df.drop_duplicates(["key_chrom", "start"]).set_index(["key_chrom", "start"]))
    common = keyed[0].index
    for df in keyed[1:]:
        common = common.intersection(df.index)
    if len(keyed) > 1:
        log.info("%d sites shared by all %d files", len(common), len(keyed))
    base = keyed[0].loc[common]
    y = base["y_true"].to_numpy(np.float64)
    keep = np.isfinite(y)
    if args.min_coverage:
        if "coverage" not in base:
            raise UsageError("--min-coverage needs a coverage column in the predictions")
        keep &= base["coverage"].to_numpy() >= args.min_coverage
    skipped = int((~keep).sum())
    if skipped:
        log.info("skipped %d sites without a label%s", skipped, " or below --min-coverage" if args.min_coverage else "")
    if not keep.any():
        raise MrcnnError(f"{args.predictions[0]}: no site with a label to evaluate")
    y = y[keep]
    cgi = base["cgi"].to_numpy()[keep] if "cgi" in base else None
    rows, models, cal = [], {}, {}
    for label, df in zip(labels, keyed):
        p = df.loc[common]["prediction"].to_numpy(np.float64)[keep]
        models[label] = (y, p)
        rows += metrics.evaluate(y, p, cgi, cutoff=args.cutoff, label=label)
        cal[label] = metrics.calibration(y, p)
    cols = ["model", "group", "n", "rmse", "mae", "pearson", "spearman", "r2", "n_pos", "n_neg", "sensitivity",
            "specificity", "accuracy", "auc", "auprc", "mcc"]
    with atomic_path(os.path.join(args.out_dir, "metrics.tsv")) as tmp, open(tmp, "w") as fh:
        fh.write(f"## mrcnn-eval: {len(y)} sites, cutoff {args.cutoff:g}; groups by true level: hyper > 0.9, "
                 "mid 0.4-0.6, hypo < 0.1\n")
        fh.write("#" + "\t".join(cols) + "\n")
        for r in rows:
            fh.write("\t".join(_fmt(r.get(c, float("nan"))) for c in cols) + "\n")
    with atomic_path(os.path.join(args.out_dir, "calibration.tsv")) as tmp, open(tmp, "w") as fh:
        fh.write("#model\tbin\tlo\thi\tn\tmean_prediction\tmean_truth\n")
        for label, crow in cal.items():
            for r in crow:
                fh.write("\t".join([label] + [_fmt(r[k]) for k in ("bin", "lo", "hi", "n", "mean_prediction",
                                                                    "mean_truth")]) + "\n")

    def clean(v):
        return None if isinstance(v, float) and math.isnan(v) else v

    report = {"sites": int(len(y)), "skipped": skipped, "cutoff": args.cutoff, "inputs": args.predictions,
              "metrics": [{k: clean(v) for k, v in r.items()} for r in rows],
              "calibration": {k: [{a: clean(b) for a, b in r.items()} for r in v] for k, v in cal.items()}}
    with atomic_path(os.path.join(args.out_dir, "metrics.json")) as tmp, open(tmp, "w") as fh:
        json.dump(report, fh, indent=1)
    if not args.no_plots:
        out = args.out_dir
        plots.error_boxplot(models, os.path.join(out, "error_by_group.png"))
        plots.group_bars([r for r in rows if r["group"] in ("all", "hyper", "mid", "hypo")],
                         os.path.join(out, "rmse_mae_by_group.png"), ("rmse", "mae"),
                         title="Regression error by methylation group", ylabel="error")
        if cgi is not None and (cgi >= 0).any():
            plots.group_bars([r for r in rows if r["group"] in ("cgi", "non-cgi")],
                             os.path.join(out, "classification_cgi.png"),
                             ("sensitivity", "specificity", "accuracy", "auc"),
                             title=f"Classification at {args.cutoff:g}: CpG islands vs other sites")
        else:
            plots.group_bars([r for r in rows if r["group"] == "all"], os.path.join(out, "classification.png"),
                             ("sensitivity", "specificity", "accuracy", "auc"),
                             title=f"Classification at {args.cutoff:g} (no CpG-island annotation)")
        plots.roc_curves(models, os.path.join(out, "roc.png"), args.cutoff)
        for label, (yy, pp) in models.items():
            plots.hexbin(yy, pp, os.path.join(out, f"pred_vs_true.{label}.png"), label)
        plots.calibration_curve(cal, os.path.join(out, "calibration.png"))
    for r in rows:
        if r["group"] == "all":
            log.info("%s: n %d RMSE %.4f MAE %.4f AUC %s", r["model"], r["n"], r["rmse"], r["mae"], _fmt(r["auc"]))
    log.info("wrote metrics.tsv, metrics.json, calibration.tsv%s to %s", "" if args.no_plots else " and plots",
             args.out_dir)


def main(argv=None):
    return run(PROG, get_parser(), _body, argv)


if __name__ == "__main__":
    sys.exit(main())
