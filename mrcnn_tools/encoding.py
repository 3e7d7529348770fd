"""Base codes, window extraction and one-hot encoding (docs/FORMATS.md §2).

Codes are uint8: T=0, C=1, G=2, A=3, N (and every other letter) = 4, so that code k is one-hot channel k of
the paper's encoding and the complement of k < 4 is ``3 - k``.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

T, C, G, A, N = 0, 1, 2, 3, 4
ALPHABET = "TCGA"
ENCODING_NAME = "TCGA-N4"

_LUT = np.full(256, N, dtype=np.uint8)
for _code, _base in enumerate(ALPHABET):
    _LUT[ord(_base)] = _code
    _LUT[ord(_base.lower())] = _code
COMPLEMENT = np.array([3, 2, 1, 0, 4], dtype=np.uint8)


def encode_bytes(seq):
    """Encode a DNA sequence to codes.

    Parameters
    ----------
    seq : bytes, str or numpy.ndarray of uint8 (ASCII)

    Returns
    -------
    numpy.ndarray, uint8, shape (len(seq),)
    """
    if isinstance(seq, str):
        seq = seq.encode("ascii", errors="replace")
    arr = np.frombuffer(seq, dtype=np.uint8) if isinstance(seq, (bytes, bytearray)) else np.asarray(seq, np.uint8)
    return _LUT[arr]


def decode(codes):
    """Codes back to a string (N for code 4)."""
    return "".join("TCGAN"[int(c)] for c in codes)


def find_cpgs(codes, start=0, end=None):
    """0-based positions of the C of every CG dinucleotide in ``codes[start:end]``.

    Returns
    -------
    numpy.ndarray, int64, shape (n,)
    """
    end = len(codes) if end is None else min(end, len(codes))
    start = max(0, start)
    if end - start < 2:
        return np.empty(0, dtype=np.int64)
    sub = codes[start:end]
    hits = np.flatnonzero((sub[:-1] == C) & (sub[1:] == G))
    return hits.astype(np.int64) + start


def minus_mask(strand):
    """Boolean (n,) of minus-strand sites; *strand* is str ('+', '-', '.') or int8 (1, -1, 0)."""
    strand = np.asarray(strand)
    return strand == "-" if strand.dtype.kind in "UO" else strand < 0


N_RUN_BLOCK = 1 << 24  # bases looked at at a time for the runs of N


def n_counts(codes, pos, flank, beyond_ends=True):
    """Number of N (code 4, or beyond the chromosome ends) in each window, without cutting the windows.

    Works on the runs of N, so memory does not grow with the chromosome (a cumulative sum over a
    250 Mb chromosome would take 2 GB). With *beyond_ends* False, positions beyond the chromosome ends are
    not counted (a short contig is not a gap in the sequence).

    Returns
    -------
    numpy.ndarray, int64, shape (n,)
    """
    pos = np.asarray(pos, dtype=np.int64)
    length = len(codes)
    # where N starts or stops, found block by block: two boolean copies of a whole chromosome would be 2 bytes
    # a base (500 MB for chr1)
    block = N_RUN_BLOCK
    change = [np.flatnonzero(np.diff(codes[a : a + block + 1] == N)) + (a + 1) for a in range(0, length - 1, block)]
    change = np.concatenate(change) if change else np.empty(0, np.int64)
    edges = np.concatenate(
        [[0] if length and codes[0] == N else [], change, [length] if length and codes[-1] == N else []]
    )
    run_start, run_end = edges[0::2].astype(np.int64), edges[1::2].astype(np.int64)
    before = np.concatenate([[0], np.cumsum(run_end - run_start)])

    def n_before(x):
        # N bases in [0, x): whole runs ending at or before x, plus the part of a run that straddles x
        x = np.clip(x, 0, length)
        if len(run_start) == 0:
            return np.zeros(len(x), np.int64)
        i = np.searchsorted(run_end, x, side="right")
        part = np.where(i < len(run_start), np.clip(x - run_start[np.minimum(i, len(run_start) - 1)], 0, None), 0)
        return before[i] + part

    lo, hi = pos - flank, pos + flank + 1
    inside = n_before(hi) - n_before(lo)
    outside = np.clip(-lo, 0, None) + np.clip(hi - length, 0, None) if beyond_ends else 0
    centre_n = codes[np.clip(pos, 0, length - 1)] == N
    return inside + outside - centre_n


def is_cpg(codes, pos, strand):
    """Whether each site is on a CpG: '+' needs C at pos and G after; '-' needs G at pos and C before.

    Parameters
    ----------
    codes : uint8 (L,)
    pos : int64 (n,) 0-based
    strand : array of '+'/'-' (n,)

    Returns
    -------
    numpy.ndarray of bool, shape (n,)
    """
    pos = np.asarray(pos, dtype=np.int64)
    n = len(codes)
    inside = (pos >= 0) & (pos < n)
    p = np.clip(pos, 0, max(n - 1, 0))
    nxt = np.clip(pos + 1, 0, max(n - 1, 0))
    prv = np.clip(pos - 1, 0, max(n - 1, 0))
    plus = (codes[p] == C) & (codes[nxt] == G) & (pos + 1 < n)
    minus = (codes[p] == G) & (codes[prv] == C) & (pos - 1 >= 0)
    return inside & np.where(minus_mask(strand), minus, plus)


def extract_windows(codes, pos, flank, strand=None, out=None, chunk=16384):
    """Cut windows of ``flank`` bases on each side of each site, the site itself left out.

    Minus-strand windows are reverse-complemented so that every window reads 5'->3' on its own strand.
    Positions beyond the chromosome ends are N.

    Parameters
    ----------
    codes : numpy.ndarray, uint8, shape (L,)
        One chromosome.
    pos : numpy.ndarray, int64, shape (n,)
        0-based site positions on the + strand (for '-' sites: the G of the CpG, i.e. the C of the - strand).
    flank : int
    strand : array of str or int8, shape (n,), optional
        '+', '-' or '.' (or 1, -1, 0); None means all '+'.
    out : numpy.ndarray, uint8, shape (n, 2*flank), optional

    Returns
    -------
    numpy.ndarray, uint8, shape (n, 2*flank)
    """
    pos = np.asarray(pos, dtype=np.int64)
    n = len(pos)
    if out is None:
        out = np.empty((n, 2 * flank), dtype=np.uint8)
    if n == 0:
        return out
    lo, hi = int(pos.min()), int(pos.max())
    # pad only the part of the chromosome these sites touch, so a chunk of sites costs a chunk of memory
    left = lo - flank
    right = hi + flank + 1
    seg = np.full(right - left, N, dtype=np.uint8)
    a, b = max(left, 0), min(right, len(codes))
    if b > a:
        seg[a - left : b - left] = codes[a:b]
    view = sliding_window_view(seg, flank)
    rel = pos - left
    # chunks keep each gather in cache: ~3x faster than one gather of all rows
    for i in range(0, n, chunk):
        r = rel[i : i + chunk]
        block = out[i : i + chunk]
        block[:, :flank] = view[r - flank]
        block[:, flank:] = view[r + 1]
    if strand is not None:
        minus = np.flatnonzero(minus_mask(strand))
        if len(minus):
            out[minus] = COMPLEMENT[out[minus, ::-1]]
    return out


def one_hot(windows):
    """One-hot of codes; N rows are all zero.

    Parameters
    ----------
    windows : numpy.ndarray, uint8, shape (n, W)

    Returns
    -------
    numpy.ndarray, float32, shape (n, W, 4)
    """
    eye = np.vstack([np.eye(4, dtype=np.float32), np.zeros((1, 4), np.float32)])
    return eye[windows]
