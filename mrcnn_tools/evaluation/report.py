"""mrcnn-eval's outputs: predictions files aligned on their shared sites, the paper's metrics per model as
metrics.tsv and metrics.json, calibration.tsv and the plots (docs/FORMATS.md §6)."""

import json
import math
import os
from dataclasses import dataclass, field

import numpy as np

from mrcnn_tools.errors import MrcnnError, UsageError
from mrcnn_tools.evaluation import metrics, plots
from mrcnn_tools.genome.fasta import canonical_chrom
from mrcnn_tools.io import atomic_path
from mrcnn_tools.levels import LEVELS
from mrcnn_tools.prediction.files import read_predictions

METRIC_COLUMNS = (
    "model",
    "group",
    "n",
    "rmse",
    "mae",
    "pearson",
    "spearman",
    "r2",
    "n_pos",
    "n_neg",
    "sensitivity",
    "specificity",
    "accuracy",
    "auc",
    "auprc",
    "mcc",
)
CALIBRATION_COLUMNS = ("bin", "lo", "hi", "n", "mean_prediction", "mean_truth")
# predictions of several samples (a ``sample`` column): the metrics pooled over every (site, sample) entry, then
# those of each sample; the table gets a sample column after the model's
SAMPLE, POOLED = "sample", "pooled"


@dataclass
class EvalReport:
    """What :func:`evaluate_files` computed and wrote.

    ``rows``: one dict per model and group (keys :data:`METRIC_COLUMNS`; with several samples also ``sample``,
    :data:`POOLED` for the entries of all samples together); ``calibration``: model -> bins; ``files``: the paths
    written, in order. ``samples``: the sample names (None for predictions of one sample).
    """

    sites: int
    skipped: int
    shared: int
    rows: list
    calibration: dict
    files: list = field(default_factory=list)
    samples: list = None
    unpredicted: int = 0  # of the skipped: labelled, but a prediction is NA


def fmt(value):
    """A table cell: floats with 10 significant digits, NaN as NA."""
    if isinstance(value, float):
        return "NA" if math.isnan(value) else f"{value:.10g}"
    return str(value)


def model_labels(paths, labels=None):
    """One unique model name per predictions file: *labels*, else the file names up to the first dot.

    Raises
    ------
    UsageError
        A label count that differs from the number of files, or stdin (``-``) given more than once.
    """
    if list(paths).count("-") > 1:
        raise UsageError("only one input can be stdin (-)")
    labels = list(labels) if labels else ["stdin" if p == "-" else os.path.basename(p).split(".")[0] for p in paths]
    if len(labels) != len(paths):
        raise UsageError(f"--labels has {len(labels)} names for {len(paths)} files")
    if len(set(labels)) != len(labels):
        labels = [f"{lab}_{i + 1}" for i, lab in enumerate(labels)]
    return labels


def align(frames):
    """The frames re-indexed on the sites all of them have, keyed on chromosome (chr22 = 22) and start (and the
    sample, for predictions of several samples).

    Returns
    -------
    (list of pandas.DataFrame, pandas.Index)
        Each frame indexed by (key_chrom, start[, sample]), duplicates dropped; the shared index, in the first's
        order.
    """

    keyed = []
    for df in frames:
        df = df.copy()
        df["key_chrom"] = [canonical_chrom(c) for c in df["chrom"].astype(str)]
        key = ["key_chrom", "start"] + ([SAMPLE] if SAMPLE in df else [])
        keyed.append(df.drop_duplicates(key).set_index(key))
    common = keyed[0].index
    for df in keyed[1:]:
        common = common.intersection(df.index)
    return keyed, common


def _write_tables(out_dir, report, cutoff, inputs):
    def clean(v):
        return None if isinstance(v, float) and math.isnan(v) else v

    path = os.path.join(out_dir, "metrics.tsv")
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        fh.write(
            f"## mrcnn-eval: {report.sites} sites, cutoff {cutoff:g}; groups by true level: "
            f"{', '.join(lv.describe() for lv in reversed(LEVELS))}\n"
        )
        cols = METRIC_COLUMNS if report.samples is None else (METRIC_COLUMNS[0], SAMPLE, *METRIC_COLUMNS[1:])
        fh.write("#" + "\t".join(cols) + "\n")
        for r in report.rows:
            fh.write("\t".join(fmt(r.get(c, float("nan"))) for c in cols) + "\n")
    cal_path = os.path.join(out_dir, "calibration.tsv")
    with atomic_path(cal_path) as tmp, open(tmp, "w") as fh:
        fh.write("#model\t" + "\t".join(CALIBRATION_COLUMNS) + "\n")
        for label, bins in report.calibration.items():
            for r in bins:
                fh.write("\t".join([label] + [fmt(r[k]) for k in CALIBRATION_COLUMNS]) + "\n")
    payload = {
        "sites": report.sites,
        "skipped": report.skipped,
        "cutoff": cutoff,
        "inputs": list(inputs),
        "metrics": [{k: clean(v) for k, v in r.items()} for r in report.rows],
        "calibration": {k: [{a: clean(b) for a, b in r.items()} for r in v] for k, v in report.calibration.items()},
    }
    json_path = os.path.join(out_dir, "metrics.json")
    with atomic_path(json_path) as tmp, open(tmp, "w") as fh:
        json.dump(payload, fh, indent=1)
    report.files += [path, cal_path, json_path]


def _write_plots(out_dir, report, models, cgi, cutoff):

    def out(name):
        report.files.append(os.path.join(out_dir, name))
        return report.files[-1]

    rows = [r for r in report.rows if r.get(SAMPLE, POOLED) == POOLED]  # several samples: all entries pooled
    plots.error_boxplot(models, out("error_by_group.png"))
    plots.group_bars(
        [r for r in rows if r["group"] in ("all", "hyper", "mid", "hypo")],
        out("rmse_mae_by_group.png"),
        ("rmse", "mae"),
        title="Regression error by methylation group",
        ylabel="error",
    )
    classes = ("sensitivity", "specificity", "accuracy", "auc")
    if cgi is not None and (cgi >= 0).any():
        plots.group_bars(
            [r for r in rows if r["group"] in ("cgi", "non-cgi")],
            out("classification_cgi.png"),
            classes,
            title=f"Classification at {cutoff:g}: CpG islands vs other sites",
        )
    else:
        plots.group_bars(
            [r for r in rows if r["group"] == "all"],
            out("classification.png"),
            classes,
            title=f"Classification at {cutoff:g} (no CpG-island annotation)",
        )
    plots.roc_curves(models, out("roc.png"), cutoff)
    for label, (yy, pp) in models.items():
        plots.hexbin(yy, pp, out(f"pred_vs_true.{label}.png"), label)
    plots.calibration_curve(report.calibration, out("calibration.png"))


def evaluate_files(paths, out_dir, *, labels=None, cutoff=0.5, min_coverage=0, plots=True):
    """Evaluate predictions files on the sites they share and write the report into *out_dir*.

    Parameters
    ----------
    paths : sequence of str
        Predictions TSVs from mrcnn-predict (``-`` = stdin, once).
    out_dir : str
        Created with its parents when absent.
    labels : sequence of str, optional
        Model names, one per file (default: the file names).
    cutoff : float
        Methylated = level above this (classification metrics).
    min_coverage : int
        Evaluate only sites with at least this many reads (needs a coverage column).
    plots : bool
        Also write the PNG plots.

    Returns
    -------
    EvalReport

    Raises
    ------
    UsageError, InputFormatError, MrcnnError
        Bad labels or options, an unreadable predictions file, no labelled site.
    """

    labels = model_labels(paths, labels)
    frames = [read_predictions(p) for p in paths]
    several = [SAMPLE in df for df in frames]
    if any(several) and not all(several):
        raise UsageError(
            f"{paths[several.index(not several[0])]}: predictions of one sample and of several (a sample column) "
            "cannot be compared; give files of the same samples"
        )
    os.makedirs(out_dir, exist_ok=True)
    keyed, common = align(frames)
    base = keyed[0].loc[common]
    y = base["y_true"].to_numpy(np.float64)
    keep = np.isfinite(y)
    if min_coverage:
        if "coverage" not in base:
            raise UsageError("--min-coverage needs a coverage column in the predictions")
        keep &= base["coverage"].to_numpy() >= min_coverage
    labelled = keep.copy()
    for df in keyed:  # a baseline's NA (no neighbour, no other sample): left out for every model alike
        keep &= np.isfinite(df.loc[common]["prediction"].to_numpy(np.float64))
    unpredicted = int((labelled & ~keep).sum())
    if not keep.any():
        raise MrcnnError(f"{paths[0]}: no site with a label (and a prediction) to evaluate")
    y = y[keep]
    cgi = base["cgi"].to_numpy()[keep] if "cgi" in base else None
    sample = base.index.get_level_values(SAMPLE).astype(str).to_numpy()[keep] if several[0] else None
    names = None if sample is None else sorted(set(sample))
    report = EvalReport(int(len(y)), int((~keep).sum()), len(common), [], {}, samples=names, unpredicted=unpredicted)
    models = {}
    for label, df in zip(labels, keyed):
        p = df.loc[common]["prediction"].to_numpy(np.float64)[keep]
        models[label] = (y, p)
        report.rows += metrics.evaluate(y, p, cgi, cutoff=cutoff, label=label, sample=None if names is None else POOLED)
        for name in names or ():
            m = sample == name
            report.rows += metrics.evaluate(y[m], p[m], None if cgi is None else cgi[m], cutoff, label, sample=name)
        report.calibration[label] = metrics.calibration(y, p)
    _write_tables(out_dir, report, cutoff, paths)
    if plots:
        _write_plots(out_dir, report, models, cgi, cutoff)
    return report
