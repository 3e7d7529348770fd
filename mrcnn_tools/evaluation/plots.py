"""Figures of mrcnn-eval (PNG, one per file), after the paper's Figs. 2-4.

Model names come from the user (``--labels``) or from Galaxy's dataset names, which can be long ("MRCNN predict on
data 5 and data 3: predictions"): they are shortened for the figures (:func:`short_labels`) and every legend is
drawn outside the axes, right of them, so that it covers no curve, bar or axis. The number of sites behind each
group or curve is written in the figure.
"""

import numpy as np

from mrcnn_tools.evaluation.metrics import REGRESSION_GROUPS
from mrcnn_tools.io import atomic_path

# the longest model name drawn in a figure; longer ones end in an ellipsis
MAX_LABEL = 32


def short_label(label, width=MAX_LABEL):
    """*label* cut to at most *width* characters, ending in an ellipsis when cut."""
    label = " ".join(str(label).split())
    return label if len(label) <= width else label[: width - 1].rstrip() + "\u2026"


def short_labels(labels, width=MAX_LABEL):
    """The labels shortened with :func:`short_label`, kept distinct: names that only differ beyond *width*
    (Galaxy's "MRCNN predict on data 5 ..." and "... on data 7 ...") keep their start and end around the ellipsis,
    and any that still collide are numbered."""
    labels = [str(x) for x in labels]
    out = [short_label(x, width) for x in labels]
    if len(set(out)) < len(out):
        head = (width - 1) // 2
        tail = width - 1 - head
        out = [x if len(x) <= width else x[:head].rstrip() + "\u2026" + x[-tail:].lstrip() for x in labels]
    if len(set(out)) < len(out):
        out = [f"{k + 1}: {short_label(x, width - 4)}" for k, x in enumerate(labels)]
    return out


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 11, "axes.titlesize": 12, "figure.dpi": 110})
    return plt


def _legend_outside(ax, **kw):
    """The legend of *ax* right of its axes (upper left corner of the legend at the axes' upper right corner)."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, frameon=False, **kw)


def _save(fig, path):
    with atomic_path(path, suffix=".png") as tmp:
        # bbox_inches="tight" grows the figure to take in the legends outside the axes
        fig.savefig(tmp, format="png", bbox_inches="tight")
    _plt().close(fig)
    return path


def error_boxplot(models, path):
    """Absolute error per methylation group and model (paper Fig. 2). *models*: {label: (y, p)}."""
    plt = _plt()
    groups = [g for g, _ in REGRESSION_GROUPS]
    fig, ax = plt.subplots(figsize=(2 + 1.6 * len(groups) * max(1, len(models)) / 2, 4.5))
    width = 0.8 / len(models)
    for k, ((_label, (y, p)), name) in enumerate(zip(models.items(), short_labels(models))):
        data, pos = [], []
        for g, (_group, test) in enumerate(REGRESSION_GROUPS):
            m = test(y)
            data.append(np.abs(p[m] - y[m]) if m.any() else [np.nan])
            pos.append(g + (k - (len(models) - 1) / 2) * width)
        bp = ax.boxplot(data, positions=pos, widths=width * 0.9, patch_artist=True, showfliers=False)
        for box in bp["boxes"]:
            box.set_facecolor(f"C{k}")
            box.set_alpha(0.6)
        ax.plot([], [], color=f"C{k}", lw=8, alpha=0.6, label=f"{name} (n={len(y)})")
    y0 = list(models.values())[0][0]
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([f"{g}\n(n={int(t(y0).sum())})" for g, t in REGRESSION_GROUPS])
    ax.set_ylabel("absolute error |predicted - true|")
    ax.set_title("Absolute error by methylation group")
    _legend_outside(ax)
    return _save(fig, path)


def group_bars(rows, path, metrics=("rmse", "mae"), groups=None, title="", ylabel=""):
    """Bars of *metrics* per group and model from metric rows (paper Figs. 3 and 4); the sites of each group
    (its ``n``) under its name."""
    plt = _plt()
    labels = list(dict.fromkeys(r["model"] for r in rows))
    names = dict(zip(labels, short_labels(labels)))
    groups = groups or list(dict.fromkeys(r["group"] for r in rows))
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics) + 1, 4), squeeze=False)
    width = 0.8 / len(labels)

    def group_n(g):
        ns = {int(r["n"]) for r in rows if r["group"] == g and r.get("n") is not None}
        return f"\n(n={ns.pop()})" if len(ns) == 1 else ""

    ticklabels = [f"{g}{group_n(g)}" for g in groups]
    for ax, metric in zip(axes[0], metrics):
        for k, label in enumerate(labels):
            vals = [next((r[metric] for r in rows if r["model"] == label and r["group"] == g), np.nan) for g in groups]
            x = np.arange(len(groups)) + (k - (len(labels) - 1) / 2) * width
            ax.bar(x, vals, width, label=names[label], color=f"C{k}")
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels(ticklabels)
        ax.set_title(metric.upper() if len(metric) <= 4 else metric)
        if metric in ("sensitivity", "specificity", "accuracy", "auc", "auprc"):
            ax.set_ylim(0, 1.05)  # same scale on every panel: these all lie in [0, 1]
        else:
            ax.set_ylim(bottom=0)
    axes[0][0].set_ylabel(ylabel)
    _legend_outside(axes[0][-1], fontsize=9)
    fig.suptitle(title)
    return _save(fig, path)


def roc_curves(models, path, cutoff=0.5):
    """ROC curves of every model, methylated = true level > cutoff; the sites of each class in the legend."""
    from sklearn.metrics import roc_auc_score, roc_curve

    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 5))
    counts = set()
    for k, ((_label, (y, p)), name) in enumerate(zip(models.items(), short_labels(models))):
        t = y > cutoff
        if t.all() or not t.any():
            continue
        fpr, tpr, _ = roc_curve(t, p)
        npos, nneg = int(t.sum()), int((~t).sum())
        counts.add((npos, nneg))
        auc = roc_auc_score(t, p)
        ax.plot(fpr, tpr, color=f"C{k}", label=f"{name}\nAUC {auc:.3f}, n={npos + nneg} ({npos} meth., {nneg} unmeth.)")
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("false positive rate (1 - specificity)")
    ax.set_ylabel("true positive rate (sensitivity)")
    title = f"ROC, methylated = level > {cutoff:g}"
    if len(counts) == 1:
        npos, nneg = counts.pop()
        title += f"\nn = {npos + nneg}: {npos} methylated, {nneg} unmethylated"
    ax.set_title(title)
    _legend_outside(ax, fontsize=9)
    return _save(fig, path)


def hexbin(y, p, path, label):
    """Predicted against true level, with the identity line."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.4, 4.6))
    hb = ax.hexbin(y, p, gridsize=30, extent=(0, 1, 0, 1), mincnt=1, bins="log", cmap="viridis")
    fig.colorbar(hb, ax=ax, label="sites (log)")
    ax.plot([0, 1], [0, 1], color="red", lw=1)
    ax.set_xlabel("true methylation level")
    ax.set_ylabel("predicted methylation level")
    ax.set_title(f"{short_label(label)}: predicted vs true (n={len(y)})")
    return _save(fig, path)


def calibration_curve(cal, path):
    """Mean truth against mean prediction per bin, for every model. *cal*: {label: rows from metrics.calibration}."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 5))
    for k, ((_label, rows), name) in enumerate(zip(cal.items(), short_labels(cal))):
        n = sum(int(r.get("n", 0)) for r in rows)
        xs = [r["mean_prediction"] for r in rows]
        ax.plot(xs, [r["mean_truth"] for r in rows], "o-", color=f"C{k}", label=f"{name} (n={n})")
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean predicted level (10 bins)")
    ax.set_ylabel("mean true level")
    ax.set_title("Calibration")
    _legend_outside(ax)
    return _save(fig, path)
