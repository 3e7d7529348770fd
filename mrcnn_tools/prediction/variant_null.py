"""The empirical null of variant effects (``mrcnn-predict --variants VCF --null N``).

A delta means little on its own: a model moves every prediction a little for any change in the window, more
near the CpG and for some base changes than others. The null is the deltas of N random SNVs, each at a distance
from a random CpG of the variants' chromosomes and with a base change (REF, ALT) drawn from those of the scored
SNVs (the same distances, matched base changes), predicted exactly as the variants are. Each row of the effects
table then gets the ``percentile`` of its |delta| among the null's |delta|: 99 means larger than 99% of random SNVs
at such a distance. Draws follow ``--seed``; the null depends on the model, the genome and the VCF's SNVs only.
"""

import logging
import tempfile

import numpy as np

from mrcnn_tools.encoding import COMPLEMENT, extract_windows, find_cpgs
from mrcnn_tools.errors import MrcnnError
from mrcnn_tools.prediction.predictors import WindowRows

log = logging.getLogger(__name__)

TRIES = 64  # random CpGs tried per draw for one whose base at the distance is the drawn REF
DECIMALS = 6


def _fmt_percentile(value):
    return "" if value != value else repr(round(float(value), 2))


def null_deltas(predictor, genome, chroms, keys, n, seed=0):
    """|delta| of *n* random SNVs at the distances and with the base changes of *keys*.

    Parameters
    ----------
    predictor : Predictor
    genome : Genome
    chroms : list of str
        FASTA chromosomes whose CpGs are drawn (weighted by their number of CpGs).
    keys : dict
        ``(distance, ref code, alt code, strand) -> count`` of the scored SNVs (distance = SNV - site).
    n : int
    seed : int

    Returns
    -------
    numpy.ndarray, float64 (m,), sorted; m <= n (a draw without a matching CpG in TRIES is dropped)
    """
    rng = np.random.default_rng(seed)
    items = sorted(keys)
    counts = np.array([keys[k] for k in items], np.float64)
    draws = rng.choice(len(items), size=n, p=counts / counts.sum())
    sizes = np.array([len(find_cpgs(genome.codes(c))) for c in chroms], np.float64)
    per_chrom = rng.multinomial(n, sizes / sizes.sum()) if sizes.sum() else np.zeros(len(chroms), int)
    flank, out, done = predictor.flank, [], 0
    for chrom, m in zip(chroms, per_chrom):
        if not m:
            continue
        codes = genome.codes(chrom)
        cpgs = find_cpgs(codes)
        key = np.array([items[k] for k in draws[done : done + m]], np.int64).reshape(-1, 4)
        done += m
        dist, ref, alt, strand = key.T
        site = cpgs[rng.integers(len(cpgs), size=(m, TRIES))] + np.where(strand < 0, 1, 0)[:, None]
        q = site + dist[:, None]
        ok = (q >= 0) & (q < len(codes)) & (codes[np.clip(q, 0, len(codes) - 1)] == ref[:, None])
        has, pick = ok.any(1), ok.argmax(1)
        rows = np.flatnonzero(has)
        site, dist, alt, strand = site[rows, pick[rows]], dist[rows], alt[rows], strand[rows]
        ref_w = extract_windows(codes, site, flank)
        alt_w = ref_w.copy()
        alt_w[np.arange(len(rows)), np.where(dist < 0, flank + dist, flank + dist - 1)] = alt
        minus = strand < 0
        ref_w[minus], alt_w[minus] = COMPLEMENT[ref_w[minus, ::-1]], COMPLEMENT[alt_w[minus, ::-1]]
        pred = predictor.predict_rows(WindowRows(np.concatenate([ref_w, alt_w])))
        k = len(rows)
        rp, ap = np.round(pred[:k].astype(np.float64), DECIMALS), np.round(pred[k:].astype(np.float64), DECIMALS)
        out.append(np.abs(np.round(ap - rp, DECIMALS)))
    null = np.sort(np.concatenate(out)) if out else np.empty(0)
    if len(null) < n:
        log.warning("null: %d of %d random SNVs drawn (no CpG with the drawn base at the distance)", len(null), n)
    return null


def percentiles(null, abs_delta):
    """Percentile (0-100) of each |delta| among the null's sorted |delta| (NaN stays NaN)."""
    abs_delta = np.asarray(abs_delta, np.float64)
    out = 100.0 * np.searchsorted(null, abs_delta, side="right") / max(len(null), 1)
    return np.where(np.isnan(abs_delta), np.nan, out)


class NullWriter:
    """Where the effects table's lines go: straight to *fh* without a null; with one, to a temporary file (the
    null needs the distances and base changes of every SNV), then to *fh* with the ``percentile`` column.

    Parameters
    ----------
    fh : text file
    n : int
        Random SNVs of the null (0: none, no percentile column).
    seed : int
    header : callable
        ``header(with_null) -> str``, the table's header line.
    """

    def __init__(self, fh, n, seed, header):
        self.fh, self.n, self.seed, self.header = fh, int(n), seed, header
        self.keys = {}
        self.tmp = None

    def __enter__(self):
        if self.n:
            self.tmp = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")
        else:
            self.fh.write(self.header(False))
        return self

    def __exit__(self, *exc):
        if self.tmp is not None:
            self.tmp.close()

    def write(self, lines, abs_deltas, keys):
        """Lines (str, no newline), their |delta| (NaN: lost or gained), their SNV keys (None: not a SNV)."""
        if not self.n:
            self.fh.write("".join(line + "\n" for line in lines))
            return
        for key in keys:
            if key is not None:
                self.keys[key] = self.keys.get(key, 0) + 1
        self.tmp.write("".join(f"{line}\t{d!r}\n" for line, d in zip(lines, abs_deltas)))

    def finish(self, scorer, genome):
        """Draw the null and write the lines with their percentile."""
        if not self.n:
            return
        if not self.keys:
            raise MrcnnError(
                "--null: no SNV near a CpG to match the null's distances and base changes to; run without --null"
            )
        null = null_deltas(scorer.predictor, genome, list(scorer.chroms), self.keys, self.n, self.seed)
        self.fh.write(self.header(True))
        self.tmp.seek(0)
        while True:
            block = self.tmp.readlines(1 << 22)
            if not block:
                break
            split = [line.rstrip("\n").rsplit("\t", 1) for line in block]
            pct = percentiles(null, [float(d) for _, d in split])
            self.fh.write("".join(f"{line}\t{_fmt_percentile(p)}\n" for (line, _), p in zip(split, pct)))
