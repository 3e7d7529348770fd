"""Motifs from the regions a model attends to: the k-mer most enriched in them over background regions seeds a
PWM, which is refined on its best sites (both strands) at the score threshold that best separates the regions
from the background (as HOMER and STREME do). A motif is reported only when that enrichment is significant, so
a group the model has learned nothing for yields none rather than noise."""

import numpy as np

from mrcnn_tools.encoding import N
from mrcnn_tools.motifs.pwm import CODE_TO_MEME, trim

# a motif is reported when its enrichment reaches this hypergeometric log10 p (discovery and group checks alike)
MAX_LOG10P = -4.0


def _kmer_ids(regions, k):
    """Canonical (strand-free) k-mer ids (n, L-k+1) int64 of uint8 codes; -1 where the k-mer holds an N."""
    n, length = regions.shape
    if length < k:
        return np.full((n, 0), -1, np.int64)
    win = np.lib.stride_tricks.sliding_window_view(regions.astype(np.int64), k, axis=1)
    weights = 4 ** np.arange(k - 1, -1, -1, dtype=np.int64)
    fwd = (np.minimum(win, 3) * weights).sum(-1)
    # complement of code c < 4 is 3 - c (T<->A, C<->G): the reverse complement reads the window backwards
    rev = ((3 - np.minimum(win, 3))[..., ::-1] * weights).sum(-1)
    ids = np.minimum(fwd, rev)
    ids[(win >= N).any(-1)] = -1
    return ids


def _presence(ids, k):
    """Regions holding each canonical k-mer at least once: int64 (4**k,)."""
    rows = np.repeat(np.arange(len(ids)), ids.shape[1])
    flat = ids.ravel()
    keep = flat >= 0
    pairs = np.unique(rows[keep] * (4**k) + flat[keep])
    return np.bincount(pairs % (4**k), minlength=4**k)


def _enrichment_logp(a, n_fg, b, n_bg):
    """log10 of the one-sided hypergeometric p of *a* of *n_fg* foreground regions against *b* of *n_bg*."""
    from scipy.stats import hypergeom

    return hypergeom.logsf(np.asarray(a) - 1, n_fg + n_bg, np.asarray(a) + np.asarray(b), n_fg) / np.log(10)


def _decode_kmer(kid, k):
    return np.array([(kid // 4 ** (k - 1 - i)) % 4 for i in range(k)], np.uint8)


def _best_sites(regions, logodds):
    """Best-scoring site of a log-odds matrix (w, 4; code order) in each region, either strand.

    Returns
    -------
    score float64 (n,), start int (n,), reverse bool (n,)
    """
    w = len(logodds)
    table = np.vstack([logodds.T, np.full((1, w), -2.0)])  # (5, w): N scores low
    win = np.lib.stride_tricks.sliding_window_view(regions, w, axis=1)  # (n, P, w)
    cols = np.arange(w)
    fwd = table[win, cols].sum(-1)
    rc_table = np.vstack([logodds[::-1, ::-1].T, np.full((1, w), -2.0)])
    rev = rc_table[win, cols].sum(-1)
    both = np.stack([fwd, rev], -1).reshape(len(regions), -1)
    j = both.argmax(1)
    return both[np.arange(len(regions)), j], j // 2, (j % 2).astype(bool)


def _best_scores(regions, logodds, chunk=2048):
    """:func:`_best_sites`' scores in chunks of rows, so that whole windows of many sites fit in memory."""
    return (
        np.concatenate([_best_sites(regions[i : i + chunk], logodds)[0] for i in range(0, len(regions), chunk)])
        if len(regions)
        else np.empty(0)
    )


def _sites(regions, start, reverse, w, margin=0):
    """The sites (n, w + 2 * margin) at *start*, with *margin* more bases a side (N beyond the region), read on
    the strand of the match."""
    padded = np.pad(regions, ((0, 0), (margin, margin)), constant_values=N)
    out = (
        np.stack([padded[i, s : s + w + 2 * margin] for i, s in enumerate(start)])
        if len(start)
        else np.empty((0, w + 2 * margin), np.uint8)
    )
    rc = np.where(out < N, 3 - out, N)[:, ::-1]
    return np.where(reverse[:, None], rc, out)


def _pwm_code(sites, pseudocount=0.25):
    """PWM (w, 4) in code order from code sites (n, w); N ignored."""
    counts = np.stack([(sites == c).sum(0) for c in range(4)], -1).astype(np.float64) + pseudocount
    return counts / counts.sum(1, keepdims=True)


def _best_threshold(fg, bg):
    """The threshold on best-site scores whose foreground/background split is most significant."""
    cands = np.unique(np.quantile(fg, np.linspace(0.05, 0.95, 37)))
    a = (fg[:, None] >= cands).sum(0)
    b = (bg[:, None] >= cands).sum(0)
    logp = _enrichment_logp(a, len(fg), b, len(bg))
    i = int(np.argmin(logp))
    return cands[i], float(logp[i]), int(a[i])


def _refine_step(fg, bg, pwm, bgf):
    logodds = np.log(pwm / bgf)
    sf, start, rev = _best_sites(fg, logodds)
    t, logp, n = _best_threshold(sf, _best_sites(bg, logodds)[0])
    return sf, start, rev, t, logp, n


def discover(fg, bg, n_motifs=4, k=(6, 8), extend=6, iters=6, max_log10p=MAX_LOG10P, min_sites=10, background=None):
    """Enriched motifs of foreground regions against background regions.

    Parameters
    ----------
    fg, bg : numpy.ndarray uint8 (n, L), codes; the regions a model attends to, and regions it does not
    k : tuple of int
        Seed k-mer lengths tried; the most enriched seed wins.
    extend : int
        Columns added on each side of the seed before refinement (trimmed back by information content).
    max_log10p : float
        A motif is kept when its sites separate fg from bg at hypergeometric log10 p below this.

    Returns
    -------
    list of (pwm float64 (w, 4) in MEME order, nsites, log10 p), in the order found (most enriched first)
    """
    bgf = np.full(4, 0.25) if background is None else np.asarray(background)[[3, 1, 2, 0]]  # MEME -> code order
    fg = np.array(fg, np.uint8, copy=True)
    out = []
    for _ in range(n_motifs):
        best = None
        for kk in k:
            ids_f, ids_b = _kmer_ids(fg, kk), _kmer_ids(bg, kk)
            a, b = _presence(ids_f, kk), _presence(ids_b, kk)
            ok = a >= min_sites
            if not ok.any():
                continue
            logp = np.where(ok, _enrichment_logp(a, len(fg), b, len(bg)), 0.0)
            i = int(np.argmin(logp))
            if best is None or logp[i] < best[0]:
                best = (logp[i], i, kk)
        if best is None or best[0] > max_log10p:
            break
        pwm = np.full((best[2] + 2 * extend, 4), 0.25)
        pwm[extend : extend + best[2]] = 0.1 / 3
        pwm[extend + np.arange(best[2]), _decode_kmer(best[1], best[2])] = 0.9
        for _it in range(iters):
            sf, start, rev, t, logp, n = _refine_step(fg, bg, pwm, bgf)
            keep = sf >= t
            pwm = _pwm_code(_sites(fg[keep], start[keep], rev[keep], len(pwm)))
        # the seed may sit near one end of the motif: the final sites are read with *extend* more bases a side,
        # and the uninformative ends cut off (they would add noise to the scores of the sites reported)
        pwm = trim(_pwm_code(_sites(fg[keep], start[keep], rev[keep], len(pwm), extend)))
        sf, start, rev, t, logp, n = _refine_step(fg, bg, pwm, bgf)
        keep = sf >= t
        if logp > max_log10p or n < min_sites:
            break
        out.append((pwm[:, CODE_TO_MEME], int(n), logp))
        # mask the sites found, so that the next round finds another motif
        for i in np.flatnonzero(keep):
            fg[i, start[i] : start[i] + len(pwm)] = N
    return out


def group_enrichment(pwm, seq, other, background=None):
    """How strongly a motif tells a group's windows from the other groups' windows.

    A network that learned "motif present -> hyper" also gives hypo windows their highest contributions on
    motif-like sequence, so a motif found in one group's peaks can be the other group's motif; checked here
    on the whole windows: a motif of the group occurs in more of its windows than of the others'.

    Parameters
    ----------
    pwm : numpy.ndarray float (w, 4), MEME order (A, C, G, T)
    seq, other : numpy.ndarray uint8 (n, W) and (m, W), the windows of the group and of the other groups

    Returns
    -------
    float: log10 of the one-sided hypergeometric p at the score threshold that best separates seq from other
    (0.0 when either set is empty)
    """
    if not len(seq) or not len(other):
        return 0.0
    bgf = np.full(4, 0.25) if background is None else np.asarray(background)
    meme_to_code = np.argsort(CODE_TO_MEME)
    logodds = np.log(np.asarray(pwm, np.float64)[:, meme_to_code] / bgf[meme_to_code])
    return _best_threshold(_best_scores(seq, logodds), _best_scores(other, logodds))[1]
