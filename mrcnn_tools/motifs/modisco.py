"""TF-MoDISco (modisco-lite) on gradient x input: seqlets of high contribution, aligned and clustered into
patterns by their hypothetical contributions, as the field does (Shrikumar et al. 2018, arXiv:1811.00416)."""

import logging

import numpy as np

from mrcnn_tools.errors import require_module
from mrcnn_tools.motifs.model import input_gradients, onehot
from mrcnn_tools.motifs.pwm import CODE_TO_MEME, trim

log = logging.getLogger(__name__)

MODISCO_INSTALL = "pip install modisco-lite"


def require_modisco():
    """Refuse --method modisco up front when modisco-lite, an optional dependency, is not installed.

    Raises
    ------
    MrcnnError
        Naming the install command.
    """
    require_module(
        "modiscolite",
        f"--method modisco needs the optional package modisco-lite; install it with "
        f"{MODISCO_INSTALL}, or use --method attribution",
    )


def hypothetical_contributions(grads):
    """Hypothetical contributions from input gradients: the gradient of each base minus the mean over the four
    bases at that position (the gradient is defined only up to that constant on a one-hot simplex; Majdandzic
    et al. 2023), so that the contribution of the base present equals gradient x input up to that correction.

    Parameters
    ----------
    grads : numpy.ndarray float (n, W, 4)

    Returns
    -------
    numpy.ndarray float32 (n, W, 4)
    """
    return (grads - grads.mean(-1, keepdims=True)).astype(np.float32)


def modisco_motifs(model, seq, sign=1.0, window=15, max_seqlets=1000, n_leiden_runs=2, batch_size=256):
    """Patterns TF-MoDISco finds in the contributions to the predicted level.

    Parameters
    ----------
    model : keras.Model from mrcnn-train
    seq : numpy.ndarray uint8 (n, W), windows of one methylation group
    sign : float
        +1: patterns that raise the predicted level (the hyper group); -1: those that lower it (hypo).
    window : int
        Seqlet core width (modisco's sliding window).

    Returns
    -------
    list of (pwm float64 (w, 4) in MEME order, nsites), most seqlets first
    """
    require_modisco()
    from modiscolite.tfmodisco import TFMoDISco

    grads = input_gradients(model, seq, batch_size)
    # modisco-lite's tracks are in A, C, G, T order; ours in code order T, C, G, A
    hyp = sign * hypothetical_contributions(grads)[:, :, CODE_TO_MEME]
    oh = onehot(seq)[:, :, CODE_TO_MEME]
    try:
        pos, _ = TFMoDISco(
            one_hot=oh,
            hypothetical_contribs=hyp,
            sliding_window_size=window,
            flank_size=5,
            max_seqlets_per_metacluster=max_seqlets,
            n_leiden_runs=n_leiden_runs,
            min_metacluster_size=20,
            final_min_cluster_size=10,
            trim_to_window_size=window + 5,
            initial_flank_to_add=5,
        )
    except (ValueError, IndexError) as e:
        # modisco-lite raises on too few seqlets to estimate its null; that is "no pattern", not a failure
        log.info("TF-MoDISco found no pattern (%s)", e)
        return []
    out = []
    for pattern in pos or []:
        ppm = np.asarray(pattern.sequence, np.float64) + 1e-3
        out.append((trim(ppm / ppm.sum(1, keepdims=True)), len(pattern.seqlets)))
    out.sort(key=lambda t: -t[1])
    return out
