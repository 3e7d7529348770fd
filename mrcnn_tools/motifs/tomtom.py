"""Matching motifs to known ones: Tomtom (memelite) p-values, Benjamini-Hochberg q-values per query motif."""

import logging
import os
import warnings

import numpy as np

from mrcnn_tools.errors import require_module
from mrcnn_tools.progress import Progress

log = logging.getLogger(__name__)

MEMELITE_INSTALL = "pip install memelite (or, in a checkout of mrcnn-tools, pip install '.[motifs]')"


def require_memelite():
    """Refuse Tomtom matching up front when memelite, an optional dependency, is not installed.

    memelite is on PyPI only (neither conda-forge nor bioconda), so a conda install lacks it.

    Raises
    ------
    MrcnnError
        Naming the install command.
    """

    require_module(
        "memelite",
        "matching motifs (--jaspar, --motif-db) needs the optional package memelite, which "
        f"is not installed; install it with {MEMELITE_INSTALL}, or leave out --jaspar/--motif-db",
    )


def tomtom_pvalues(motifs, database, chunk=None):
    """Tomtom of every motif against every database motif, *chunk* query motifs at a time (default: one per CPU,
    the queries memelite runs in parallel), with progress per query motif (a bar on a terminal, else a log line
    about every 30 s) unless the log is quiet.

    Each query's p-values depend only on it and the database, so the chunks give the p-values of one call, bit for
    bit (tests/unit/motifs/).

    Returns
    -------
    p : numpy.ndarray float64 (n_motifs, n_database)
    offsets, overlaps : numpy.ndarray int (n_motifs, n_database)
    strands : numpy.ndarray bool (n_motifs, n_database), True where the match is to the reverse complement
    """

    require_memelite()
    from memelite import tomtom

    queries = [np.ascontiguousarray(m.pwm.T) for m in motifs]
    targets = [np.ascontiguousarray(t.pwm.T) for t in database]
    if not queries or not targets:
        empty = np.zeros((len(queries), len(targets)))
        return empty, empty.astype(int), empty.astype(int), empty.astype(bool)
    chunk = max(1, chunk or os.cpu_count() or 1)
    parts = []
    enabled = log.isEnabledFor(logging.INFO)
    with Progress("Tomtom", total=len(queries), unit="motif", log=log, enabled=enabled) as progress:
        for i in range(0, len(queries), chunk):
            with warnings.catch_warnings():
                # numba's first-compile chatter and memelite's deprecation notes are not the user's business
                warnings.simplefilter("ignore")
                parts.append(tomtom(queries[i : i + chunk], targets)[:5])
            progress.update(len(parts[-1][0]))
    p, _, offsets, overlaps, strands = (np.concatenate([part[k] for part in parts]) for k in range(5))
    return (np.asarray(p, np.float64), np.asarray(offsets), np.asarray(overlaps), np.asarray(strands, bool))


def match(motifs, database, q_threshold=0.05):
    """Compare motifs with a database using Tomtom (memelite); q-values by Benjamini-Hochberg over the database,
    per query motif (as Tomtom does).

    Every significant match of a motif is returned, and its best match even when not significant.

    Returns
    -------
    list of dict(motif, match_id, match_name, p, E, q, orientation, offset, overlap, significant), by motif
    and ascending p
    """
    from scipy.stats import false_discovery_control

    if not motifs or not database:
        return []
    p, offsets, overlaps, strands = tomtom_pvalues(motifs, database)
    n_t = len(database)
    rows = []
    for i, m in enumerate(motifs):
        pv = np.nan_to_num(p[i], nan=1.0)
        q = false_discovery_control(np.clip(pv, 0.0, 1.0), method="bh")
        for rank, j in enumerate(np.argsort(pv, kind="stable")):
            significant = bool(q[j] < q_threshold)
            if not significant and rank > 0:
                break
            rows.append(
                {
                    "motif": m.name,
                    "match_id": database[j].name,
                    "match_name": database[j].alt,
                    "p": float(pv[j]),
                    "E": float(pv[j] * n_t),
                    "q": float(q[j]),
                    "orientation": "-" if strands[i, j] else "+",
                    "offset": int(offsets[i, j]),
                    "overlap": int(overlaps[i, j]),
                    "significant": significant,
                }
            )
    return rows
