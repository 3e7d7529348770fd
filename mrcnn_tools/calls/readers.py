"""Readers for methylation calls (docs/FORMATS.md §3), all returning one table of per-cytosine calls.

One reader per producer of :data:`mrcnn_tools.calls.formats.PRODUCERS`, following the producer's documented
columns. Every reader returns a :class:`Calls` with 0-based positions of the called cytosine on the + strand
coordinate system (for a '-' call that is the G of the CpG), the strand when the file says it ('.' otherwise),
and methylated/unmethylated counts (NaN for formats that carry only a level).
"""

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mrcnn_tools.calls.columns import Columns, convert_chunk
from mrcnn_tools.calls.detect import check_forced, detect, detect_format, header_names
from mrcnn_tools.calls.formats import BY_NAME, FORMATS, LEVEL_SCALES, PRODUCERS
from mrcnn_tools.calls.source import Source
from mrcnn_tools.calls.tables import read_chunks
from mrcnn_tools.errors import InputFormatError, UsageError

__all__ = ["Calls", "read_calls", "detect_format", "FORMATS", "PRODUCERS", "LEVEL_SCALES"]

log = logging.getLogger(__name__)

# ChEBI numbers modkit writes for codes without a one-letter name
_CHEBI = {"27551": "m", "76792": "h", "76794": "f", "76793": "c"}
_C_MODS = {"m", "h", "f", "c", "C"}  # modifications of cytosine (SAM MM codes)
_MOD_NAMES = {
    "m": "5mC",
    "h": "5hmC",
    "C": "any C modification (--combine-mods)",
    "f": "5fC",
    "c": "5caC",
    "a": "6mA",
    "A": "any A modification",
}


@dataclass
class Calls:
    """Per-cytosine calls.

    Attributes
    ----------
    chrom_index : numpy.ndarray int16 (n,) (int32 beyond 32767 names), index into ``chrom_names``
    chrom_names : list of str, chromosome names as the file spells them
    pos : numpy.ndarray int32 (n,) (int64 beyond 2**31), 0-based position of the called base on the + strand
    strand : numpy.ndarray int8 (n,), 1 '+', -1 '-', 0 unknown (taken from the reference base)
    count_m, count_u : numpy.ndarray float32 (n,) when every count is whole and below 2**24, else float64;
        NaN when the format has no counts
    level : numpy.ndarray float64 (n,), methylated fraction 0..1, for formats without counts; None with
        counts (the level is that of the summed counts, computed once the strands are merged)
    format : str
    has_counts : bool
    context_dropped : int
        Rows the file itself marks as non-CpG context (CHG/CHH), dropped by the reader.

    Notes
    -----
    The arrays are as small as their values allow: a whole methylome (~28M calls) takes ~15 bytes a call.
    """

    chrom_index: np.ndarray
    chrom_names: list
    pos: np.ndarray
    strand: np.ndarray
    count_m: np.ndarray
    count_u: np.ndarray
    level: np.ndarray
    format: str
    has_counts: bool
    context_dropped: int = 0

    def __len__(self):
        return len(self.pos)

    def subset(self, mask):
        return Calls(
            self.chrom_index[mask],
            self.chrom_names,
            self.pos[mask],
            self.strand[mask],
            self.count_m[mask],
            self.count_u[mask],
            None if self.level is None else self.level[mask],
            self.format,
            self.has_counts,
            self.context_dropped,
        )


def _bedgraph_scale(level, scale, path):
    """Percent or fraction, from the whole column unless forced."""
    top = float(level.max()) if len(level) else 0.0
    if scale is None:
        scale = "percent" if top > 1 else "fraction"
        log.info(
            "%s: bedGraph levels read as %s (largest value %g; --level-scale to force)",
            path,
            "percent (0-100)" if scale == "percent" else "fractions (0-1)",
            top,
        )
    return level / 100.0 if scale == "percent" else level


def read_calls(path, fmt=None, mod_code=None, level_scale=None):
    """Read a methylation calls file.

    Parameters
    ----------
    path : str
        File (``.gz`` read transparently) or ``-`` for stdin.
    fmt : str, optional
        One of :data:`FORMATS`; detected from the content when None.
    mod_code : str, optional
        modkit: the modification code whose level is read (default ``m``, 5mC; ``C`` for ``--combine-mods``).
    level_scale : {'percent', 'fraction'}, optional
        bedGraph: force the scale of the level column (default: decided from the whole column).

    Returns
    -------
    Calls
    """
    source = Source(path)
    detected = fmt is None
    if fmt is None:
        fmt = detect(source)
        log.info("%s: detected format %s (%s)", path, fmt, BY_NAME[fmt].tool)
    if fmt not in BY_NAME:
        raise UsageError(f"unknown format {fmt}; use one of {', '.join(FORMATS)}")
    if not detected:
        check_forced(source, fmt)
    if level_scale is not None and level_scale not in LEVEL_SCALES:
        raise UsageError(f"--level-scale must be one of {', '.join(LEVEL_SCALES)}")
    header = header_names(source)
    counts_total = fmt == "counts" and header[3:4] in (["cov"], ["coverage"], ["total"])
    # a headerless chrom, pos, count, count table is M, U unless every row has M >= U: then it may be DSS's N, X
    ambiguous = detected and fmt == "counts" and not header
    skip, chunks = read_chunks(source, fmt)
    parts = []
    names, codes, motifs = _Names(), _Names(), _Names()
    for df in chunks:
        cols = Columns(df, path, skip, fmt)
        part = convert_chunk(df, cols, fmt, path, level_scale, counts_total)
        if fmt == "tsv" and "chrom" not in df.columns:
            raise InputFormatError("a TSV needs a 'chrom' column", path, 1)
        if ambiguous and (part["m"] < part["u"]).any():
            ambiguous = False
        # methylKit's first column is chr.base; its chromosome is the second
        part["chrom"] = names.index(df[{"tsv": "chrom", "methylkit": 1}.get(fmt, 0)], cols=cols)
        expand = part.pop("expand")
        if expand is not None:
            part["chrom"] = part["chrom"][expand]
        if fmt == "modkit":
            # the code is chosen on the whole file's codes: kept per row as a small integer until then
            part["code"] = codes.index(df[3], clean=lambda t: _CHEBI.get(t.split(",")[0], t.split(",")[0]))
            # the whole name: 'm,CG,0' and 'm,CGCG,2' are the same code under two motifs (the same reads)
            part["motif"] = motifs.index(df[3], clean=_motif_name)
        parts.append(_compact(part))
        del df, cols, part
    if ambiguous:
        raise InputFormatError(
            "chrom, pos and two counts without a header, the third column >= the fourth on every row: a DSS "
            "table (chr, pos, N all reads, X methylated) or a count table (chrom, pos, M, U) of sites all >= 50% "
            "methylated; give --calls-format dss or counts (or a header line: chr pos N X, or chr pos M U)",
            path,
        )
    return _finish(parts, names.names, codes.names, motifs.names, fmt, path, mod_code, level_scale)


class _Names:
    """A table of distinct strings across chunks: each chunk's column as int32 indices into it."""

    def __init__(self):
        self.names, self._ix = [], {}

    def index(self, column, clean=lambda t: t, cols=None):
        """*column*'s values as indices; with *cols* (:class:`Columns`), an empty value (a chromosome named '""')
        is an error naming its line."""
        ix, uniq = pd.factorize(column, use_na_sentinel=False)
        texts = [clean(str(u).strip("\"'")) for u in uniq]
        if cols is not None and "" in texts:
            row = int(np.flatnonzero(ix == texts.index(""))[0])
            raise InputFormatError("the chromosome name is empty; fix the line", cols.path, cols.line(row))
        table = np.array([self._ix.setdefault(t, len(self._ix)) for t in texts], np.int32)
        self.names = list(self._ix)
        return table[ix]


def _narrow(values, dtype):
    """*values* as *dtype* when that loses nothing (int32 positions, float32 whole counts), else unchanged."""
    small = values.astype(dtype)
    return small if np.array_equal(small, values, equal_nan=values.dtype.kind == "f") else values


def _compact(part):
    """One chunk's arrays in the fewest bytes that keep their values, its rows of the wrong context dropped."""
    keep = part.pop("keep")
    if keep is not None:
        sel = np.flatnonzero(keep)
        part = {k: (v[sel] if isinstance(v, np.ndarray) else v) for k, v in part.items()}
    if part["has_counts"]:
        # counts are whole numbers almost always: 4 bytes each, widened again to add them up
        part["m"], part["u"], part["level"] = _narrow(part["m"], np.float32), _narrow(part["u"], np.float32), None
    part["pos"] = _narrow(part["pos"], np.int32)
    part["strand"] = part["strand"].astype(np.int8)
    return part


def _motif_name(text):
    """A modkit name column value with its code spelled as a letter: 'm,CG,0', '27551,CG,0' -> 'm,CG,0'."""
    code, _, rest = text.partition(",")
    code = _CHEBI.get(code, code)
    return f"{code},{rest}" if rest else code


def _finish(parts, names, codes, motifs, fmt, path, mod_code, level_scale):
    """The chunks as one :class:`Calls`: the whole-file decisions (modkit code, bedGraph scale) taken here."""

    def cat(key):  # each chunk's array is dropped once joined: one column is held twice at a time, not all
        return np.concatenate([p.pop(key) for p in parts])

    has_counts = parts[0]["has_counts"]
    context_dropped = sum(p["context_dropped"] for p in parts)
    keep = motif = None
    if fmt == "modkit":
        keep = _modkit_rows(cat("code"), codes, mod_code, path)
        motif = cat("motif")
    chrom_index = cat("chrom")
    pos, strand = cat("pos"), cat("strand")
    if motif is not None:
        _one_motif(keep, motif, motifs, chrom_index, pos, strand, path)
        del motif
    if has_counts:
        m, u, level = cat("m"), cat("u"), None
    else:
        level = cat("level")
        if fmt == "bedgraph":
            level = _bedgraph_scale(level, level_scale, path)
        m = u = np.full(len(level), np.nan, np.float32)
    if keep is not None:
        sel = np.flatnonzero(keep)
        chrom_index, pos, strand, m, u = chrom_index[sel], pos[sel], strand[sel], m[sel], u[sel]
        level = None if level is None else level[sel]
    used = _first_appearance(chrom_index, len(names))
    remap = np.zeros(len(names) + 1, np.int32)
    remap[used] = np.arange(len(used))
    chrom_index = remap[chrom_index].astype(np.int16 if len(used) < 2**15 else np.int32)
    return Calls(
        chrom_index=chrom_index,
        chrom_names=[names[k] for k in used],
        pos=pos,
        strand=strand,
        count_m=m,
        count_u=u,
        level=level,
        format=fmt,
        has_counts=has_counts,
        context_dropped=context_dropped,
    )


def _first_appearance(index, n, block=1 << 20):
    """The values of *index* (integers below *n*) in the order of their first occurrence, as pandas.factorize.

    Only the chromosomes with calls left count, and their order is the order of the dataset; taken block by
    block, so that no sort of all the calls is needed.
    """
    seen, order = np.zeros(n, bool), []
    for a in range(0, len(index), block):
        values, first = np.unique(index[a : a + block], return_index=True)
        new = ~seen[values]
        order.extend(values[new][np.argsort(first[new])].tolist())
        seen[values] = True
    return np.array(order, np.int64)


def _modkit_rows(code, names, mod_code, path):
    """Rows of the chosen modification code; says which codes were seen and which is used.

    *code* indexes *names*, the codes as read ('m,CG,0', motif-named rows, is code m; ChEBI numbers stand for
    the one-letter codes).
    """
    tally = np.bincount(code, minlength=len(names))
    seen_counts = sorted((names[k], int(tally[k])) for k in range(len(names)) if tally[k])
    seen = [c for c, _ in seen_counts]
    counts = [k for _, k in seen_counts]
    seen_text = ", ".join(f"{c} ({_MOD_NAMES.get(c, 'other')}) {k}" for c, k in zip(seen, counts))
    if mod_code is None:
        # 5mC, else all C modifications combined, else the only cytosine modification there is (e.g. 5hmC alone)
        cytosine = [c for c in seen if c in _C_MODS]
        mod_code = "m" if "m" in seen else ("C" if "C" in seen else (cytosine[0] if len(cytosine) == 1 else None))
        if mod_code is None:
            raise InputFormatError(
                f"modkit pileup without 5mC rows (codes seen: {seen_text}); choose one with --mod-code", path
            )
    elif mod_code not in seen:
        raise InputFormatError(
            f"no rows with modification code {mod_code} (codes seen: {seen_text}); check --mod-code", path
        )
    log.info(
        "%s: modkit codes seen: %s; level of %s (%s) = Nmod / Nvalid_cov, other codes' rows ignored",
        path,
        seen_text,
        mod_code,
        _MOD_NAMES.get(mod_code, "other"),
    )
    return code == names.index(mod_code)


def _one_motif(keep, motif, names, chrom_index, pos, strand, path):
    """Rows of *keep* (bool, changed in place) listing a C that a row of another motif name lists already are
    dropped: modkit run with several motifs (``--motif CG 0 --motif CGCG 2``) writes the same C, with the same
    reads, under each motif that covers it, and summing them would count its reads twice. The motif with the most
    rows is read first (ties: the first in the file), then each other one where it adds a C. Rows of one motif at
    the same C (files of other reads concatenated) stay, and are summed as duplicates."""
    sel = np.flatnonzero(keep)
    kinds = np.unique(motif[sel])
    if len(kinds) < 2:
        return
    tally = np.bincount(motif[sel], minlength=len(names))
    order = sorted(kinds.tolist(), key=lambda k: (-tally[k], k))
    key = (
        (chrom_index[sel].astype(np.int64) << 42)
        | (pos[sel].astype(np.int64) << 2)
        | (strand[sel] + 1).astype(np.int64)
    )
    taken = np.empty(0, np.int64)
    dropped = []
    for k in order:
        mine = np.flatnonzero(motif[sel] == k)
        seen = np.isin(key[mine], taken)
        keep[sel[mine[seen]]] = False
        if seen.any():
            dropped.append(f"{int(seen.sum())} of {names[k]}")
        taken = np.union1d(taken, key[mine])
    log.info(
        "%s: modkit motifs %s list the same cytosines with the same reads: each C is read once, from %s first "
        "(the motif with the most rows), then the others where they add a C; rows dropped: %s",
        path,
        ", ".join(f"{names[k]} ({int(tally[k])} rows)" for k in order),
        names[order[0]],
        ", ".join(dropped) or "none",
    )
