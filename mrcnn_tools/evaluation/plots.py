"""Figures of mrcnn-eval (PNG, one per file), after the paper's Figs. 2-4."""

import numpy as np

from mrcnn_tools.evaluation.metrics import REGRESSION_GROUPS


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 11, "axes.titlesize": 12, "figure.dpi": 110})
    return plt


def _save(fig, path):
    from mrcnn_tools.io import atomic_path

    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
    _plt().close(fig)
    return path


def error_boxplot(models, path):
    """Absolute error per methylation group and model (paper Fig. 2). *models*: {label: (y, p)}."""
    plt = _plt()
    groups = [g for g, _ in REGRESSION_GROUPS]
    fig, ax = plt.subplots(figsize=(2 + 1.6 * len(groups) * max(1, len(models)) / 2, 4.5))
    width = 0.8 / len(models)
    for k, (label, (y, p)) in enumerate(models.items()):
        data, pos = [], []
        for g, (name, test) in enumerate(REGRESSION_GROUPS):
            m = test(y)
            data.append(np.abs(p[m] - y[m]) if m.any() else [np.nan])
            pos.append(g + (k - (len(models) - 1) / 2) * width)
        bp = ax.boxplot(data, positions=pos, widths=width * 0.9, patch_artist=True, showfliers=False)
        for box in bp["boxes"]:
            box.set_facecolor(f"C{k}")
            box.set_alpha(0.6)
        ax.plot([], [], color=f"C{k}", lw=8, alpha=0.6, label=label)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([f"{g}\n(n={int(t(list(models.values())[0][0]).sum())})" for g, t in REGRESSION_GROUPS])
    ax.set_ylabel("absolute error |predicted - true|")
    ax.set_title("Absolute error by methylation group")
    ax.legend(frameon=False)
    return _save(fig, path)


def group_bars(rows, path, metrics=("rmse", "mae"), groups=None, title="", ylabel=""):
    """Bars of *metrics* per group and model from metric rows (paper Figs. 3 and 4)."""
    plt = _plt()
    labels = list(dict.fromkeys(r["model"] for r in rows))
    groups = groups or list(dict.fromkeys(r["group"] for r in rows))
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics) + 1, 4), squeeze=False)
    width = 0.8 / len(labels)
    for ax, metric in zip(axes[0], metrics):
        for k, label in enumerate(labels):
            vals = [next((r[metric] for r in rows if r["model"] == label and r["group"] == g), np.nan)
                    for g in groups]
            ax.bar(np.arange(len(groups)) + (k - (len(labels) - 1) / 2) * width, vals, width, label=label,
                   color=f"C{k}")
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels(groups)
        ax.set_title(metric.upper() if len(metric) <= 4 else metric)
        if metric in ("sensitivity", "specificity", "accuracy", "auc", "auprc"):
            ax.set_ylim(0, 1.05)  # same scale on every panel: these all lie in [0, 1]
        else:
            ax.set_ylim(bottom=0)
    axes[0][0].set_ylabel(ylabel)
    axes[0][-1].legend(frameon=False, fontsize=9)
    fig.suptitle(title)
    return _save(fig, path)


def roc_curves(models, path, cutoff=0.5):
    """ROC curves of every model, methylated = true level > cutoff."""
    from sklearn.metrics import roc_auc_score, roc_curve

    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 5))
    for k, (label, (y, p)) in enumerate(models.items()):
        t = y > cutoff
        if t.all() or not t.any():
            continue
        fpr, tpr, _ = roc_curve(t, p)
        ax.plot(fpr, tpr, color=f"C{k}", label=f"{label} (AUC {roc_auc_score(t, p):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1)
    ax.set_xlabel("false positive rate (1 - specificity)")
    ax.set_ylabel("true positive rate (sensitivity)")
    ax.set_title(f"ROC, methylated = level > {cutoff:g}")
    ax.legend(frameon=False, loc="lower right")
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
    ax.set_title(f"{label}: predicted vs true (n={len(y)})")
    return _save(fig, path)


def calibration_curve(cal, path):
    """Mean truth against mean prediction per bin, for every model. *cal*: {label: rows from metrics.calibration}."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 5))
    for k, (label, rows) in enumerate(cal.items()):
        ax.plot([r["mean_prediction"] for r in rows], [r["mean_truth"] for r in rows], "o-", color=f"C{k}",
                label=label)
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean predicted level (10 bins)")
    ax.set_ylabel("mean true level")
    ax.set_title("Calibration")
    ax.legend(frameon=False)
    return _save(fig, path)
