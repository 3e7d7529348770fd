"""Figures of mrcnn-filters2meme: sequence logos and t-SNE of hyper vs hypo windows (paper Fig. 5)."""

import numpy as np

from mrcnn_tools.motifs.pwm import MEME_ORDER
from mrcnn_tools.motifs.model import first_conv, layer_outputs, onehot


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    from mrcnn_tools.io import atomic_path

    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight", dpi=100)
    _plt().close(fig)
    return path


def logo(motif, path):
    """Sequence logo (information content) of a motif, as PNG (logomaker)."""
    import logomaker
    import pandas as pd

    plt = _plt()
    pwm = np.asarray(motif.pwm, np.float64)
    bits = np.clip(2.0 + np.sum(pwm * np.log2(np.clip(pwm, 1e-9, None)), axis=1), 0, None)
    info = pd.DataFrame(pwm * bits[:, None], columns=list(MEME_ORDER))
    fig, ax = plt.subplots(figsize=(max(3, 0.45 * motif.width + 1), 2.4))
    logomaker.Logo(info, ax=ax, color_scheme="classic")
    ax.set_ylim(0, 2)
    ax.set_ylabel("bits")
    ax.set_title(f"{motif.name} (n={motif.nsites})", fontsize=10)
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
    panels = {"one-hot input": onehot(seq).reshape(len(seq), -1),
              "first-layer features": outs[first.name],
              "last hidden layer": outs.get(dense[-2]) if len(dense) >= 2 else None}
    rows, embeds = [], {}
    for name, feats in panels.items():
        if feats is None:
            continue
        feats = feats.reshape(len(feats), -1)
        if feats.shape[1] > 50:
            feats = PCA(50, random_state=seed).fit_transform(feats)
        emb = TSNE(2, random_state=seed, init="pca", perplexity=min(30, max(5, len(feats) // 4))).fit_transform(feats)
        embeds[name] = emb
        rows.append({"panel": name, "silhouette": float(silhouette_score(emb, labels)),
                     "n_hyper": int(len(hyper)), "n_hypo": int(len(hypo))})
    if path:
        plt = _plt()
        fig, axes = plt.subplots(1, len(embeds), figsize=(4.6 * len(embeds), 4.4), squeeze=False)
        for ax, (name, emb), row in zip(axes[0], embeds.items(), rows):
            ax.scatter(*emb[labels == 1].T, s=6, c="C3", label="hyper (> 0.9)", alpha=0.7)
            ax.scatter(*emb[labels == 0].T, s=6, c="C0", label="hypo (< 0.1)", alpha=0.7)
            ax.set_title(f"{name}\nsilhouette {row['silhouette']:.3f}")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0][0].legend(frameon=False, fontsize=9)
        _save(fig, path)
    return rows
