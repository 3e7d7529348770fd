"""scikit-learn baseline on sequence features: k-mer counts and CpG/GC density in rings around the site.

It tells users whether a CNN earns its cost: when it does as well, the signal is composition, not motifs.
"""

import numpy as np

from mrcnn_tools.encoding import C, G, N

RINGS = (10, 25, 50, 100, 200)


def kmer_counts(seq, k):
    """Counts of every k-mer in each window (k-mers containing N are skipped).

    Parameters
    ----------
    seq : numpy.ndarray, uint8, shape (n, W)

    Returns
    -------
    numpy.ndarray, float32, shape (n, 4**k)
    """
    n, w = seq.shape
    out = np.zeros((n, 4**k), np.float32)
    if w < k or n == 0:
        return out
    idx = np.zeros((n, w - k + 1), np.int64)
    valid = np.ones((n, w - k + 1), bool)
    for j in range(k):
        part = seq[:, j : w - k + 1 + j]
        idx = idx * 4 + np.minimum(part, 3)
        valid &= part != N
    rows = np.broadcast_to(np.arange(n)[:, None], idx.shape)
    flat = rows[valid] * 4**k + idx[valid]
    out.ravel()[:] = np.bincount(flat, minlength=n * 4**k).astype(np.float32)
    return out


def ring_density(seq, flank):
    """CpG and GC density in rings of growing distance around the site (both sides together).

    Returns
    -------
    numpy.ndarray, float32, shape (n, 2 * len(rings within flank))
    """
    dist = np.r_[np.arange(flank, 0, -1), np.arange(1, flank + 1)]  # distance of each window position
    gc = (seq == C) | (seq == G)
    cg = np.zeros_like(gc)
    cg[:, :-1] = (seq[:, :-1] == C) & (seq[:, 1:] == G)
    feats, lo = [], 0
    for hi in RINGS:
        if lo >= flank:
            break
        cols = (dist > lo) & (dist <= min(hi, flank))
        width = cols.sum()
        feats.append(cg[:, cols].sum(1) / width)
        feats.append(gc[:, cols].sum(1) / width)
        lo = hi
    return np.stack(feats, 1).astype(np.float32)


def features(seq, flank, kmax=4, batch_size=8192):
    """Feature matrix of the k-mer GBR baseline: k-mer counts for k = 1..kmax and ring densities.

    Returns
    -------
    numpy.ndarray, float32, shape (n, sum(4**k) + 2 * rings)
    """
    parts = []
    for i in range(0, len(seq), batch_size):
        block = seq[i : i + batch_size]
        parts.append(np.hstack([kmer_counts(block, k) for k in range(1, kmax + 1)] + [ring_density(block, flank)]))
    if not parts:
        return np.empty((0, sum(4**k for k in range(1, kmax + 1)) + 2 * len(RINGS)), np.float32)
    return np.vstack(parts)


def build_kmer_gbr(seed=0, learning_rate=0.1, max_iter=300, patience=10, validation=True):
    """HistGradientBoostingRegressor with early stopping on an internal validation split."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(
        loss="squared_error",
        learning_rate=learning_rate,
        max_iter=max_iter,
        max_leaf_nodes=31,
        early_stopping=validation,
        validation_fraction=0.1 if validation else None,
        n_iter_no_change=patience,
        random_state=seed,
    )
