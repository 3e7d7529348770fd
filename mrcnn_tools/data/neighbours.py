"""Observed neighbours of CpG sites (``mrcnn-encode --context K``) and the neighbour-average baseline.

For every query site, the K nearest *other* observed CpGs on each side of the same chromosome: their level,
signed distance and coverage. Observed CpGs are the labelled calls after strand merging and the coverage
filter (``--min-coverage``), within the chromosomes and regions selected, before the N-window filter and
``--max-sites``: a call whose window reaches into N is not a target but is still an observation.

Layout of the (n, 2K) arrays, one row per query site, columns in genomic order:
columns ``0 .. K-1`` are the left neighbours (column ``K-1`` the nearest), columns ``K .. 2K-1`` the right
ones (column ``K`` the nearest). A missing neighbour (chromosome end, too few observed CpGs) has
``context_dist`` 0, ``context_level`` NaN and ``context_coverage`` 0; ``context_dist`` is never 0 for a
present one, so ``context_dist != 0`` is the presence mask (coverage alone is not: level-only formats such as
bedGraph have coverage 0).

The site itself and the other strand of the same CpG never appear: neighbours are chosen by CpG, the C of a
CpG and its G (``pos - 1`` for a '-' call) being one CpG. With ``--keep-strands`` the two strands of a
neighbouring CpG are two neighbours.

:func:`add_neighbours` is stage 2 of an encode (:mod:`mrcnn_tools.data.encode`): one chromosome's sites at a time,
or with ``--max-sites`` :func:`add_chosen_context` once the sites are chosen; :func:`add_context` gives a whole
dataset the context of another (e.g. a sparser set of observations).
"""

import numpy as np

from mrcnn_tools.data.dataset import CONTEXT_ARRAYS
from mrcnn_tools.errors import DatasetError
from mrcnn_tools.genome.fasta import canonical_chrom

QUERY_CHUNK = 1 << 20  # query sites per step: temporaries stay at ~100 bytes x K x this, whatever the chromosome


def cpg_ids(pos, strand):
    """The C position of each site's CpG: *pos* for '+' and merged sites, ``pos - 1`` for '-' (the G).

    Parameters
    ----------
    pos : int64 (n,)
    strand : int8 (n,) (1, -1, 0) or str (n,) ('+', '-', '.'), or None (merged)

    Returns
    -------
    numpy.ndarray, int64, shape (n,)
    """
    pos = np.asarray(pos, np.int64)
    if strand is None:
        return pos
    strand = np.asarray(strand)
    minus = (strand == "-") if strand.dtype.kind in "US" else (strand < 0)
    return pos - minus


def empty_context(n, k):
    """Arrays of *n* sites with every neighbour missing: dict of float32/int32 (n, 2k)."""
    return {
        "context_level": np.full((n, 2 * k), np.nan, np.float32),
        "context_dist": np.zeros((n, 2 * k), np.int32),
        "context_coverage": np.zeros((n, 2 * k), np.int32),
    }


def chromosome_context(obs_pos, obs_strand, obs_level, obs_coverage, query_pos, query_strand, k, out=None):
    """Context of the query sites of one chromosome.

    Parameters
    ----------
    obs_pos : int64 (m,)
        Positions of the observed sites (the C, or the G for '-' calls), sorted ascending.
    obs_strand, query_strand : int8 or str (m,) / (n,), or None when strands are merged
    obs_level : float (m,) levels 0..1
    obs_coverage : int (m,) reads (0 when the format has none)
    query_pos : int64 (n,) sites to give a context, in any order
    k : int
        Neighbours on each side.
    out : dict of arrays (n, 2k), optional
        Filled in place (e.g. slices of a dataset's arrays); made when None.

    Returns
    -------
    dict: ``context_level`` float32 (n, 2k), ``context_dist`` int32 (n, 2k) (neighbour position minus site
    position: negative on the left, 0 = missing), ``context_coverage`` int32 (n, 2k)
    """
    obs_pos = np.asarray(obs_pos, np.int64)
    if len(obs_pos) > 1 and (obs_pos[1:] < obs_pos[:-1]).any():
        raise DatasetError("observed sites must be sorted by position within a chromosome")
    obs_id = cpg_ids(obs_pos, obs_strand)
    level = np.asarray(obs_level, np.float32)
    coverage = np.minimum(np.asarray(obs_coverage, np.float64), 2**31 - 1).astype(np.int32)
    query_pos = np.asarray(query_pos, np.int64)
    n, m = len(query_pos), len(obs_pos)
    if out is None:
        out = empty_context(n, k)
    if m == 0:
        for key, value in (("context_level", np.nan), ("context_dist", 0), ("context_coverage", 0)):
            out[key][:] = value
        return out
    query_id = cpg_ids(query_pos, query_strand)
    offsets = np.arange(k)
    for a in range(0, n, QUERY_CHUNK):
        b = min(a + QUERY_CHUNK, n)
        qid, qpos = query_id[a:b], query_pos[a:b]
        # every observation of the site's own CpG lies in [left, right): skipped, so neither the site nor its
        # strand partner can be a neighbour
        left = np.searchsorted(obs_id, qid, "left")
        right = np.searchsorted(obs_id, qid, "right")
        idx = np.concatenate([left[:, None] - k + offsets, right[:, None] + offsets], axis=1)
        present = (idx >= 0) & (idx < m)
        np.clip(idx, 0, m - 1, out=idx)
        dist = obs_pos[idx] - qpos[:, None]
        out["context_level"][a:b] = np.where(present, level[idx], np.float32(np.nan))
        out["context_dist"][a:b] = np.where(present, dist, 0)
        out["context_coverage"][a:b] = np.where(present, coverage[idx], 0)
    return out


def add_neighbours(sites, observed, k):
    """Stage 2 of an encode (``--context K``): one chromosome's sites with their observed neighbours.

    Parameters
    ----------
    sites : mrcnn_tools.data.sites.Sites
        The sites of one chromosome (stage 1).
    observed : mrcnn_tools.data.sites.Sites or None
        The observed sites of the same chromosome, in genomic order; those without a level are ignored.
    k : int
        Neighbours on each side.

    Returns
    -------
    *sites*, with ``context`` set to the arrays of :func:`chromosome_context` (every neighbour missing when
    *observed* is None or empty).
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    if observed is None or len(observed) == 0:
        sites.context = empty_context(len(sites), k)
        return sites
    labelled = np.isfinite(observed.level)
    if not labelled.all():
        observed = observed.subset(labelled)
    sites.context = chromosome_context(
        observed.pos, observed.strand, observed.level, observed.coverage, sites.pos, sites.strand, k
    )
    return sites


def add_chosen_context(data, observed, k):
    """Stage 2 once the sites are chosen (``--context K --max-sites N``): the context of every site of *data*.

    Parameters
    ----------
    data : Dataset
        The sites (each chromosome one run of rows, as an encode leaves them).
    observed : dict
        {chromosome as *data* names it: its observed :class:`~mrcnn_tools.data.sites.Sites`, in genomic order}.
    k : int

    Returns
    -------
    *data*, its context arrays set: the same as :func:`add_neighbours` gives each chromosome's sites before
    they are chosen, at the cost of the sites kept only.
    """
    out = empty_context(len(data), k)
    chrom = np.asarray(data.chrom)
    starts = np.flatnonzero(np.r_[True, chrom[1:] != chrom[:-1]]) if len(chrom) else np.empty(0, np.int64)
    for a, b in zip(starts.tolist(), np.r_[starts[1:], len(chrom)].tolist()):
        obs = observed.get(str(chrom[a]))
        if obs is not None and len(obs):
            part = {key: value[a:b] for key, value in out.items()}
            chromosome_context(obs.pos, obs.strand, obs.level, obs.coverage, data.pos[a:b], data.strand[a:b], k, part)
    for key in CONTEXT_ARRAYS:
        setattr(data, key, out[key])
    return data


def add_context(targets, observed, k):
    """Give every site of *targets* its K observed neighbours on each side from *observed*.

    Parameters
    ----------
    targets : Dataset
        Sites to impute or train on; sorted or not.
    observed : Dataset
        Labelled sites (``y`` finite) the neighbours are taken from; unlabelled ones are ignored.
    k : int
        Neighbours on each side (``--context K``).

    Returns
    -------
    targets, with ``context_level``/``context_dist``/``context_coverage`` set and ``meta["context"] = k``.
    Work and temporaries are one chromosome (and :data:`QUERY_CHUNK` query sites) at a time.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    out = empty_context(len(targets), k)
    labelled = np.isfinite(observed.y)
    obs_rows = _chrom_rows(observed.chrom, labelled)
    for name, rows in _chrom_rows(targets.chrom).items():
        o = obs_rows.get(name)
        if o is None or len(o) == 0:
            continue
        o = o[np.argsort(observed.pos[o], kind="stable")]
        part = chromosome_context(
            observed.pos[o],
            observed.strand[o],
            observed.y[o],
            observed.coverage[o],
            targets.pos[rows],
            targets.strand[rows],
            k,
        )
        for key in CONTEXT_ARRAYS:
            out[key][rows] = part[key]
    for key in CONTEXT_ARRAYS:
        setattr(targets, key, out[key])
    targets.meta = dict(targets.meta, context=int(k))
    return targets


def _chrom_rows(chrom, mask=None):
    """{canonical chromosome name: int64 row indices}, in one sort of the names.

    Canonical (``chr22`` = ``22``): the sites of ``--all-cpgs`` carry the genome's names, the observed ones the
    calls' names, and the two often differ by convention.
    """

    chrom = np.asarray(chrom)
    rows = np.arange(len(chrom)) if mask is None else np.flatnonzero(mask)
    names, inverse = np.unique(chrom[rows], return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(names) + 1))
    out = {}
    for i, n in enumerate(names):
        key = canonical_chrom(str(n))
        part = rows[order[bounds[i] : bounds[i + 1]]]
        out[key] = np.concatenate([out[key], part]) if key in out else part
    return out


def neighbour_weights(dist):
    """Weights ``1 / (1 + |d|)`` of present neighbours, 0 for missing ones (``dist == 0``); float64 (n, 2K)."""
    dist = np.asarray(dist)
    return np.where(dist != 0, 1.0 / (1.0 + np.abs(dist.astype(np.float64))), 0.0)


def neighbour_average(level, dist):
    """The distance-weighted average of the observed neighbours: the baseline that needs no training.

    Parameters
    ----------
    level : float32 (n, 2K) neighbour levels (NaN where missing)
    dist : int32 (n, 2K) signed distances (0 = missing)

    Returns
    -------
    numpy.ndarray, float32, shape (n,): ``sum(w * level) / sum(w)`` with ``w = 1 / (1 + |d|)`` over present
    neighbours; NaN for a site without any.
    """
    w = neighbour_weights(dist)
    total = w.sum(axis=1)
    num = (w * np.nan_to_num(np.asarray(level, np.float64))).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, num / total, np.nan).astype(np.float32)


def check_context(data, k, path="dataset"):
    """Refuse a dataset whose context arrays are missing or of another K than the model's (*k* None: any K).

    Raises
    ------
    DatasetError
        Naming the missing arrays and the fix (``mrcnn-encode --context K``).
    """
    have = getattr(data, "context_k", None)
    if have is None:
        raise DatasetError(
            f"{path}: the model needs the arrays {', '.join(CONTEXT_ARRAYS)} (observed neighbours), "
            "which the dataset lacks; re-encode it with mrcnn-encode --calls FILE --context "
            f"{k if k is not None else 'K (e.g. 5)'}"
        )
    if k is not None and have != k:
        raise DatasetError(
            f"{path}: the dataset has {have} neighbours on each side but the model was trained with "
            f"{k}; re-encode it with mrcnn-encode --context {k}"
        )
