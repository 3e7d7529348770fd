"""Seqlets: the windows of highest attribution, put on one strand and clustered into PWMs."""

import numpy as np

from mrcnn_tools.motifs.model import onehot
from mrcnn_tools.motifs.pwm import pwm_from_onehot, trim


def seqlets(seq, scores, width=15, per_seq=1, keep_fraction=0.5):
    """Windows of highest summed contribution, at most *per_seq* per sequence (no overlap); the top
    *keep_fraction* of them by score.

    Parameters
    ----------
    seq : numpy.ndarray uint8 (n, W)
    scores : numpy.ndarray float (n, W), per-base contribution

    Returns
    -------
    numpy.ndarray uint8 (k, width), codes of the seqlets, highest score first
    """
    kernel = np.ones(width, np.float32)
    found = []
    for r in range(len(seq)):
        s = np.convolve(scores[r], kernel, mode="valid")
        for _ in range(per_seq):
            j = int(np.argmax(s))
            if not np.isfinite(s[j]):
                break
            found.append((float(s[j]), r, j))
            s[max(0, j - width + 1) : j + width] = -np.inf
    if not found:
        return np.empty((0, width), np.uint8)
    found.sort(reverse=True)
    found = found[: max(1, int(len(found) * keep_fraction))]
    return np.stack([seq[r, j : j + width] for _, r, j in found])


def orient(x, iters=5):
    """Flip one-hot seqlets (n, w, 4, code order) onto one strand: a motif found in both orientations would
    otherwise blur into a palindrome. Starts from the highest-scoring seqlet (the first) and refines.

    In code order T, C, G, A the complement is the reversed channel axis, so the reverse complement of a
    one-hot seqlet is ``x[::-1, ::-1]``.
    """
    if len(x) == 0:
        return x
    rc = x[:, ::-1, ::-1]
    flip = np.zeros(len(x), bool)
    ref = x[0] + 0.1
    for it in range(iters):
        logp = np.log(ref / ref.sum(1, keepdims=True))
        new = np.einsum("nwc,wc->n", rc, logp) > np.einsum("nwc,wc->n", x, logp)
        if it > 0 and (new == flip).all():
            break
        flip = new
        ref = np.where(flip[:, None, None], rc, x).sum(0) + 0.5
    return np.where(flip[:, None, None], rc, x)


def cluster_seqlets(lets, n_motifs=4, seed=0, min_sites=10):
    """k-means of one-hot seqlets into PWMs (MEME order), biggest cluster first.

    Parameters
    ----------
    lets : numpy.ndarray uint8 (n, width), codes

    Returns
    -------
    list of (pwm float64 (w, 4), nsites)
    """
    from sklearn.cluster import KMeans

    if len(lets) < min_sites:
        return []
    x = orient(onehot(lets))
    k = max(1, min(n_motifs, len(lets) // min_sites))
    labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(x.reshape(len(x), -1))
    out = []
    for c in range(k):
        members = x[labels == c]
        if len(members) >= min_sites:
            out.append((trim(pwm_from_onehot(members)), len(members)))
    out.sort(key=lambda t: -t[1])
    return out


def peak_regions(seq, scores, width=20, flank=10, keep_fraction=0.5):
    """The window of highest summed contribution in each sequence with *flank* bases on each side (N beyond
    the ends); the top *keep_fraction* of them by score.

    Parameters
    ----------
    seq : numpy.ndarray uint8 (n, W)
    scores : numpy.ndarray float (n, W), per-base contribution

    Returns
    -------
    numpy.ndarray uint8 (k, width + 2 * flank), highest score first
    """
    if len(seq) == 0:
        return np.empty((0, width + 2 * flank), np.uint8)
    summed = np.stack([np.convolve(r, np.ones(width, np.float32), mode="valid") for r in scores])
    start = summed.argmax(1)
    order = np.argsort(-summed[np.arange(len(seq)), start], kind="stable")
    order = order[: max(1, int(len(order) * keep_fraction))]
    padded = np.pad(seq, ((0, 0), (flank, flank)), constant_values=4)
    return np.stack([padded[r, start[r] : start[r] + width + 2 * flank] for r in order])


def random_regions(seq, length, n, rng):
    """*n* regions of *length* bases at random rows and offsets of *seq* (n, W): the background the regions a
    model attends to are compared with.

    Returns
    -------
    numpy.ndarray uint8 (n, length)
    """
    rows = rng.integers(0, len(seq), n)
    starts = rng.integers(0, seq.shape[1] - length + 1, n)
    return np.stack([seq[r, s : s + length] for r, s in zip(rows, starts)])
