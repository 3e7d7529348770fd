"""Figures of mrcnn-filters2meme: sequence logos and t-SNE of hyper vs hypo windows (paper Fig. 5).

The t-SNE legend, with the number of windows of each group, is drawn below the panels, outside every axes; long
motif names are shortened in the logos' titles.
"""

import numpy as np
import pandas as pd

from mrcnn_tools.evaluation.plots import short_label
from mrcnn_tools.io import atomic_path
from mrcnn_tools.motifs.model import first_conv, layer_outputs, onehot
from mrcnn_tools.motifs.pwm import MEME_ORDER


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight", dpi=100)
    _plt().close(fig)
    return path


def logo(motif, path):
    """Sequence logo (information content) of a motif, as PNG (logomaker)."""
    import logomaker

    plt = _plt()
    pwm = np.asarray(motif.pwm, np.float64)
    bits = np.clip(2.0 + np.sum(pwm * np.log2(np.clip(pwm, 1e-9, None)), axis=1), 0, None)
    info = pd.DataFrame(pwm * bits[:, None], columns=list(MEME_ORDER))
    fig, ax = plt.subplots(figsize=(max(3, 0.45 * motif.width + 1), 2.4))
    logomaker.Logo(info, ax=ax, color_scheme="classic")
    ax.set_ylim(0, 2)
    ax.set_ylabel("bits")
    ax.set_title(f"{short_label(motif.name, 40)} (n={motif.nsites})", fontsize=10)
    ax.set_xticks([])
    return _save(fig, path)


def tsne_panels(model, hyper, hypo, seed=0, path=None):
    """t-SNE of hyper vs hypo windows on the raw one-hot input, the first-layer features and the last hidden
    layer (paper Fig. 5), with a silhouette score per panel.

    Parameters
    ----------
    hyper, hypo : numpy.ndarray uint8 (n, W), windows of each group

    Returns
    -------
    list of dict(panel, silhouette, n_hyper, n_hypo)
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from sklearn.metrics import silhouette_score

    seq = np.concatenate([hyper, hypo])
    labels = np.r_[np.ones(len(hyper), int), np.zeros(len(hypo), int)]
    first = first_conv(model)
    dense = [layer.name for layer in model.layers if type(layer).__name__ == "Dense"]
    names = [first.name] + ([dense[-2]] if len(dense) >= 2 else [])
    outs = layer_outputs(model, seq, names)
    panels = {
        "one-hot input": onehot(seq).reshape(len(seq), -1),
        "first-layer features": outs[first.name],
        "last hidden layer": outs.get(dense[-2]) if len(dense) >= 2 else None,
    }
    rows, embeds = [], {}
    for name, feats in panels.items():
        if feats is None:
            continue
        feats = feats.reshape(len(feats), -1)
        if feats.shape[1] > 50:
            feats = PCA(50, random_state=seed).fit_transform(feats)
        emb = TSNE(2, random_state=seed, init="pca", perplexity=min(30, max(5, len(feats) // 4))).fit_transform(feats)
        embeds[name] = emb
        rows.append(
            {
                "panel": name,
                "silhouette": float(silhouette_score(emb, labels)),
                "n_hyper": int(len(hyper)),
                "n_hypo": int(len(hypo)),
            }
        )
    if path:
        tsne_figure(embeds, rows, labels, path)
    return rows


def tsne_figure(embeds, rows, labels, path):
    """The t-SNE panels (*embeds*: {panel: (n, 2) array}; *labels*: 1 hyper, 0 hypo) as PNG, one legend for all
    panels below them with the windows of each group (n)."""
    plt = _plt()
    labels = np.asarray(labels)
    n_hyper, n_hypo = int((labels == 1).sum()), int((labels == 0).sum())
    fig, axes = plt.subplots(1, len(embeds), figsize=(4.6 * len(embeds), 4.4), squeeze=False)
    handles = []
    for ax, (name, emb), row in zip(axes[0], embeds.items(), rows):
        emb = np.asarray(emb)
        hyper = ax.scatter(*emb[labels == 1].T, s=6, c="C3", alpha=0.7)
        hypo = ax.scatter(*emb[labels == 0].T, s=6, c="C0", alpha=0.7)
        handles = [hyper, hypo]
        ax.set_title(f"{short_label(name, 40)}\nsilhouette {row['silhouette']:.3f}")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"t-SNE of hyper- vs hypomethylated windows (n = {n_hyper + n_hypo})", y=1.06)
    fig.legend(
        handles,
        [f"hyper (> 0.9), n={n_hyper}", f"hypo (< 0.1), n={n_hypo}"],
        loc="upper center",
        bbox_to_anchor=(0.5, 0.08),
        ncol=2,
        frameon=False,
        fontsize=10,
        markerscale=2.5,
    )
    return _save(fig, path)
