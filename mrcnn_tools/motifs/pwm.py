"""Position weight matrices and their files: the Motif record, PWMs from seqlets, information content, MEME
minimal format (read and write), JASPAR CORE from the bundled pyjaspar database."""

import logging
import math
import re
from dataclasses import dataclass

import numpy as np

from mrcnn_tools.encoding import ALPHABET, N
from mrcnn_tools.errors import InputFormatError, ModelError
from mrcnn_tools.io import atomic_path, iter_lines

log = logging.getLogger(__name__)

MEME_ORDER = "ACGT"
# column k of a code-ordered matrix (T, C, G, A) goes to MEME column CODE_TO_MEME[k]
CODE_TO_MEME = [ALPHABET.index(b) for b in MEME_ORDER]


@dataclass
class Motif:
    """A position weight matrix.

    Attributes
    ----------
    name : str
    pwm : numpy.ndarray float64 (width, 4), letter probabilities in MEME order A, C, G, T; rows sum to 1
    nsites : int
    alt : str, optional
    """

    name: str
    pwm: np.ndarray
    nsites: int = 0
    alt: str = ""

    @property
    def width(self):
        return len(self.pwm)


def pwm_from_onehot(onehot, pseudocount=0.5):
    """PWM in MEME order from one-hot seqlets.

    Parameters
    ----------
    onehot : numpy.ndarray (n, width, 4), channels in code order (T, C, G, A)

    Returns
    -------
    numpy.ndarray float64 (width, 4), rows sum to 1
    """
    counts = onehot.sum(0, dtype=np.float64)[:, CODE_TO_MEME] + pseudocount
    return counts / counts.sum(1, keepdims=True)


def information(pwm, background=None):
    """Information content (bits) of each row of a PWM: float64 (width,)."""
    bg = np.full(4, 0.25) if background is None else np.asarray(background)
    return np.sum(pwm * np.log2(np.clip(pwm, 1e-9, None) / bg), axis=1)


def trim(pwm, min_ic=0.25, min_width=6):
    """Cut low-information columns off both ends, keeping at least *min_width* columns."""
    ic = information(pwm)
    lo, hi = 0, len(pwm)
    while hi - lo > min_width and ic[lo] < min_ic:
        lo += 1
    while hi - lo > min_width and ic[hi - 1] < min_ic:
        hi -= 1
    return pwm[lo:hi]


def background_frequencies(seq):
    """A, C, G, T frequencies (float64 (4,)) of uint8 codes (N ignored)."""
    counts = np.bincount(seq[seq < N].ravel(), minlength=4).astype(np.float64)[CODE_TO_MEME]
    return counts / max(counts.sum(), 1)


def write_meme(motifs, path, background):
    """Write motifs in MEME minimal motif format, version 4 (readable by MEME Suite, Tomtom, Bio.motifs)."""

    names = [m.name for m in motifs]
    if len(set(names)) != len(names):
        raise ValueError("motif names must be unique")
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        fh.write("MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\nBackground letter frequencies\n")
        fh.write(" ".join(f"{b} {f:.4f}" for b, f in zip(MEME_ORDER, background)) + "\n\n")
        for m in motifs:
            fh.write(f"MOTIF {m.name}{(' ' + m.alt) if m.alt else ''}\n")
            fh.write(f"letter-probability matrix: alength= 4 w= {m.width} nsites= {m.nsites} E= 0\n")
            for row in m.pwm:
                row = np.asarray(row, np.float64)
                fh.write(" " + "  ".join(f"{v:.6f}" for v in row / row.sum()) + "\n")
            fh.write("\n")
    return path


def read_meme(path):
    """Read motifs from a MEME minimal format file (as written by MEME, JASPAR or :func:`write_meme`).

    Raises
    ------
    InputFormatError
        With the line, when the file is not MEME minimal format.
    """

    motifs, name, alt, rows, want, nsites = [], None, "", [], 0, 0
    saw_version = False
    for lineno, line in iter_lines(path):
        text = line.strip()
        if text.startswith("MEME version"):
            saw_version = True
        elif text.startswith("MOTIF"):
            parts = text.split()
            if len(parts) < 2:
                raise InputFormatError("MOTIF line without a name", path, lineno)
            name, alt, rows = parts[1], " ".join(parts[2:]), []
        elif text.startswith("letter-probability matrix"):
            if name is None:
                raise InputFormatError("a matrix before any MOTIF line", path, lineno)
            m = re.search(r"w=\s*(\d+)", text)
            want = int(m[1]) if m else 0
            s = re.search(r"nsites=\s*([\d.]+)", text)
            nsites = int(float(s[1])) if s else 0
            if want == 0:
                raise InputFormatError("letter-probability matrix without w=", path, lineno)
        elif want and text:
            try:
                values = [float(v) for v in text.split()]
            except ValueError:
                raise InputFormatError(f"'{text[:40]}' is not a row of 4 probabilities", path, lineno) from None
            if len(values) != 4:
                raise InputFormatError(f"{len(values)} values in a matrix row, expected 4 (A C G T)", path, lineno)
            rows.append(values)
            if len(rows) == want:
                pwm = np.array(rows)
                motifs.append(Motif(name, pwm / pwm.sum(1, keepdims=True), nsites, alt))
                want = 0
    if not saw_version or not motifs:
        raise InputFormatError(
            "not a MEME motif file (needs 'MEME version' and MOTIF ... letter-probability "
            "matrix blocks); convert it with the MEME Suite (e.g. jaspar2meme)",
            path,
        )
    return motifs


def jaspar_counts_motif(m):
    """A Motif from a pyjaspar/Bio.motifs JASPAR record: its counts + 0.1 pseudocount as probabilities, nsites
    = the number of sites counted (the column total, the same in every column of a JASPAR matrix)."""
    counts = np.array([m.counts[b] for b in MEME_ORDER], np.float64).T
    nsites = int(round(counts.sum(1).max())) if len(counts) else 0
    counts = counts + 0.1
    return Motif(m.matrix_id, counts / counts.sum(1, keepdims=True), nsites, m.name)


def jaspar_motifs(collection="CORE", tax_group="vertebrates"):
    """JASPAR CORE vertebrate motifs from the pyjaspar package (bundled database, no network)."""
    try:
        from pyjaspar import jaspardb
    except ImportError:
        raise ModelError("--jaspar needs the pyjaspar package; pip install pyjaspar, or give --motif-db") from None
    db = jaspardb()
    out = [jaspar_counts_motif(m) for m in db.fetch_motifs(collection=collection, tax_group=[tax_group])]
    log.info("matching against %d motifs of %s %s %s", len(out), db.release, collection, tax_group)
    return out


def jaspar_motif(matrix_id):
    """One JASPAR motif by id (e.g. ``MA0139``; the latest version when none is given), as a :class:`Motif`."""
    from pyjaspar import jaspardb

    return jaspar_counts_motif(jaspardb().fetch_motif_by_id(matrix_id))


def safe_name(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def fmt_p(v):
    return "NA" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3g}"
