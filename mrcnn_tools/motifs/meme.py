"""The paper's route to motifs: windows weighted by the first-layer filters, written for MEME (``>WEIGHTS``)."""

import shutil

import numpy as np

from mrcnn_tools.encoding import decode
from mrcnn_tools.io import atomic_path
from mrcnn_tools.motifs.model import first_conv


def sequence_weights(model, seq):
    """The paper's weighting: each base scored by the first-layer filter weights of its letter (the strongest
    filter), averaged over the window and scaled into (0, 1].

    Parameters
    ----------
    seq : numpy.ndarray uint8 (n, W)

    Returns
    -------
    numpy.ndarray float64 (n,)
    """
    layer = first_conv(model)
    kernel = np.asarray(layer.kernel)
    # (1, 4, 1, F) for MRCNN's 1x4 convolution, (k, 4, F) for a Conv1D: per-letter weight = mean over width
    per_letter = kernel.reshape(-1, 4, kernel.shape[-1]).mean(0) if kernel.ndim == 3 else kernel[0, :, 0, :]
    strength = np.abs(per_letter).max(1)  # (4,) in code order
    table = np.r_[strength, 0.0]
    raw = table[seq].mean(1)
    lo, hi = raw.min(), raw.max()
    w = (raw - lo) / (hi - lo) if hi > lo else np.ones(len(raw))
    return np.clip(w, 1e-3, 1.0)


def write_weighted_fasta(path, seq, weights, names):
    """FASTA with MEME's ``>WEIGHTS`` lines, as MEME reads sequence weights."""

    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        for i in range(0, len(weights), 20):
            fh.write(">WEIGHTS " + " ".join(f"{w:.4f}" for w in weights[i : i + 20]) + "\n")
        for name, s in zip(names, seq):
            text = decode(s)
            fh.write(f">{name}\n" + "\n".join(text[i : i + 80] for i in range(0, len(text), 80)) + "\n")
    return path


def meme_command(fasta, out_dir, nmotifs=5):
    return [
        "meme",
        fasta,
        "-dna",
        "-revcomp",
        "-oc",
        out_dir,
        "-mod",
        "zoops",
        "-nmotifs",
        str(nmotifs),
        "-minw",
        "6",
        "-maxw",
        "20",
        "-markov_order",
        "0",
        "-nostatus",
    ]


def have_meme():
    return shutil.which("meme") is not None
