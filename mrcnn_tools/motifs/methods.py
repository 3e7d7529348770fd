"""One entry point per motif method of mrcnn-filters2meme, for one methylation group at a time."""

import numpy as np

import mrcnn_tools.motifs.modisco as modisco
from mrcnn_tools.motifs.discover import MAX_LOG10P, discover, group_enrichment
from mrcnn_tools.motifs.model import activation_motifs, attributions
from mrcnn_tools.motifs.seqlet_clusters import cluster_seqlets, peak_regions, random_regions, seqlets

METHODS = ("attribution", "modisco", "kmeans", "activation")
# the sign of the contribution that carries a group: sites are hyper because of what raises the predicted
# level, hypo because of what lowers it; mid has no direction, so both count
GROUP_SIGN = {"hyper": 1.0, "hypo": -1.0}


def find_group_motifs(
    method, model, seq, group, other=None, n_motifs=4, width=20, seed=0, batch_size=256, flank=20, keep_fraction=0.5
):
    """Motifs one method finds for the windows of one methylation group.

    Parameters
    ----------
    method : str
        attribution: gradient x input, the top window of each sequence (+ 20 bp a side), motifs enriched
        there over random regions of the other groups' windows (*other*; the group's own when None), kept
        when they also occur in more of the group's whole windows than of *other*'s (hypergeometric p < 1e-4);
        modisco: TF-MoDISco on the hypothetical contributions (its patterns checked against *other* as
        attribution's motifs are); kmeans: k-means of the seqlets (0.1's
        attribution); activation: first-layer filters (a convolution wider than 1 bp).
    seq : numpy.ndarray uint8 (n, W), windows of the group
    group : str
        hyper, hypo or mid (the sign of the contributions used).
    other : numpy.ndarray uint8 (m, W), optional
    width, flank, keep_fraction
        attribution: the window of highest summed contribution (*width* bp) of each sequence, *flank* bp more
        a side, from the top *keep_fraction* of the sequences (kmeans: the seqlet width).

    Returns
    -------
    list of (pwm float64 (w, 4) in MEME order, nsites, label), label naming the method, e.g. ``attr``
    """
    sign = GROUP_SIGN.get(group)
    if method == "activation":
        return [(pwm, n, f"filter{f + 1}") for f, pwm, n in activation_motifs(model, seq, batch_size=batch_size)]
    if method == "modisco":
        found = _of_group(modisco.modisco_motifs(model, seq, sign or 1.0, batch_size=batch_size), seq, other)
        return [(pwm, n, f"modisco{k + 1}") for k, (pwm, n) in enumerate(found[:n_motifs])]
    scores = attributions(model, seq, batch_size=batch_size)
    scores = scores * sign if sign else np.abs(scores)
    if method == "kmeans":
        lets = seqlets(seq, scores, width=width)
        return [(pwm, n, f"kmeans{k + 1}") for k, (pwm, n) in enumerate(cluster_seqlets(lets, n_motifs, seed=seed))]
    if method != "attribution":
        raise ValueError(f"unknown method {method}")
    fg = peak_regions(seq, scores, width=width, flank=flank, keep_fraction=keep_fraction)
    rng = np.random.default_rng(seed)
    bg = random_regions(other if other is not None and len(other) else seq, width + 2 * flank, 2 * len(fg), rng)
    return [(pwm, n, f"attr{k + 1}") for k, (pwm, n, _) in enumerate(_of_group(discover(fg, bg, n_motifs), seq, other))]


def _of_group(found, seq, other):
    """The motifs (tuples, PWM first) that occur in more of the group's windows *seq* than of *other*'s
    (:func:`mrcnn_tools.motifs.discover.group_enrichment` below 1e-4): a network that learned "motif -> hyper"
    also puts the hypo windows' peaks on motif-like sequence. All of them when there is no other group."""
    if other is None or not len(other):
        return list(found)
    return [m for m in found if group_enrichment(m[0], seq, other) < MAX_LOG10P]
