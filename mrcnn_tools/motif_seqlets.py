"""Seqlets: the windows of highest attribution, put on one strand and clustered into PWMs."""

import numpy as np

from .motif_io import pwm_from_onehot, trim
from .motif_model import onehot


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
            s[max(0, j - width + 1):j + width] = -np.inf
    if not found:
        return np.empty((0, width), np.uint8)
    found.sort(reverse=True)
    found = found[: max(1, int(len(found) * keep_fraction))]
    return np.stack([seq[r, j:j + width] for _, r, j in found])


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
