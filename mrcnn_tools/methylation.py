"""Readers for methylation calls (docs/FORMATS.md §3), all returning one table of per-cytosine calls.

One reader per producer of :data:`mrcnn_tools.formats.PRODUCERS`, following the producer's documented
columns. Every reader returns a :class:`Calls` with 0-based positions of the called cytosine on the + strand
coordinate system (for a '-' call that is the G of the CpG), the strand when the file says it ('.' otherwise),
and methylated/unmethylated counts (NaN for formats that carry only a level).
"""

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputFormatError, UsageError
from .formats import (BY_NAME, FORMATS, LEVEL_SCALES, PRODUCERS, Source, detect, detect_format, header_names,
                      read_chunks)

__all__ = ["Calls", "read_calls", "detect_format", "FORMATS", "PRODUCERS", "LEVEL_SCALES"]

log = logging.getLogger(__name__)

# ChEBI numbers modkit writes for codes without a one-letter name
_CHEBI = {"27551": "m", "76792": "h", "76794": "f", "76793": "c"}
_C_MODS = {"m", "h", "f", "c", "C"}  # modifications of cytosine (SAM MM codes)
_MOD_NAMES = {"m": "5mC", "h": "5hmC", "C": "any C modification (--combine-mods)", "f": "5fC", "c": "5caC",
              "a": "6mA", "A": "any A modification"}

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
        return Calls(self.chrom_index[mask], self.chrom_names, self.pos[mask], self.strand[mask], self.count_m[mask],
                     self.count_u[mask], None if self.level is None else self.level[mask], self.format,
                     self.has_counts, self.context_dropped)


class _Columns:
    """Typed access to the columns of one table with errors that name the line."""

    def __init__(self, df, path, skip, fmt):
        self.df, self.path, self.skip, self.fmt = df, path, skip, fmt
        self.rows = df.index.to_numpy()

    def line(self, row):
        return int(self.rows[row]) + self.skip + 1

    def num(self, col, what, minimum=None, maximum=None, hint=""):
        raw = self.df[col]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            r = raw.iloc[bad[0]]
            text = "missing" if pd.isna(r) else f"'{r}' is not a number"
            raise InputFormatError(f"{what} ({self.fmt} column {self._colno(col)}): {text}; fix the line or "
                                   "check --format", self.path, self.line(bad[0]))
        if minimum is not None:
            bad = np.flatnonzero(values < minimum)
            if len(bad):
                raise InputFormatError(f"{what} is {values[bad[0]]:g}, below {minimum:g}; counts and positions "
                                       "cannot be negative", self.path, self.line(bad[0]))
        if maximum is not None:
            bad = np.flatnonzero(values > maximum)
            if len(bad):
                raise InputFormatError(f"{what} is {values[bad[0]]:g}, above {maximum:g}{hint}", self.path,
                                       self.line(bad[0]))
        return values

    def text(self, col, clean=lambda t: t):
        """A column as strings, quotes removed; *clean* maps each distinct value (a column has few)."""
        ix, uniq = pd.factorize(self.df[col], use_na_sentinel=False)
        values = np.array([clean(str(u).strip("\"'")) for u in uniq] + [""], dtype=object)
        return pd.Series(values[ix], index=self.df.index)

    def _colno(self, col):
        return col + 1 if isinstance(col, (int, np.integer)) else f"'{col}'"

    def strand(self, col, plus=("+",), minus=("-",), unknown=(".",)):
        text = self.text(col).to_numpy()
        codes = np.full(len(text), 9, np.int8)
        codes[np.isin(text, plus)] = 1
        codes[np.isin(text, minus)] = -1
        codes[np.isin(text, unknown)] = 0
        bad = np.flatnonzero(codes == 9)
        if len(bad):
            allowed = ", ".join(plus + minus + unknown)
            raise InputFormatError(f"strand '{text[bad[0]]}' is not one of {allowed}", self.path,
                                   self.line(bad[0]))
        return codes

    def position(self, col, one_based):
        pos = self.num(col, "position", minimum=0).astype(np.int64)
        if one_based:
            bad = np.flatnonzero(pos == 0)
            if len(bad):
                raise InputFormatError(f"position 0 in a 1-based format ({self.fmt}); the file is probably 0-based: "
                                       "check --format", self.path, self.line(bad[0]))
            pos -= 1
        return pos


def _bedgraph_scale(level, scale, path):
    """Percent or fraction, from the whole column unless forced."""
    top = float(level.max()) if len(level) else 0.0
    if scale is None:
        scale = "percent" if top > 1 else "fraction"
        log.info("%s: bedGraph levels read as %s (largest value %g; --level-scale to force)", path,
                 "percent (0-100)" if scale == "percent" else "fractions (0-1)", top)
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
    if fmt is None:
        fmt = detect(source)
        log.info("%s: detected format %s (%s)", path, fmt, BY_NAME[fmt].tool)
    if fmt not in BY_NAME:
        raise UsageError(f"unknown format {fmt}; use one of {', '.join(FORMATS)}")
    if level_scale is not None and level_scale not in LEVEL_SCALES:
        raise UsageError(f"--level-scale must be one of {', '.join(LEVEL_SCALES)}")
    counts_total = fmt == "counts" and header_names(source)[3:4] in (["cov"], ["coverage"], ["total"])
    skip, chunks = read_chunks(source, fmt)
    parts = []
    names, codes = _Names(), _Names()
    for df in chunks:
        cols = _Columns(df, path, skip, fmt)
        part = _convert(df, cols, fmt, path, level_scale, counts_total)
        if fmt == "tsv" and "chrom" not in df.columns:
            raise InputFormatError("a TSV needs a 'chrom' column", path, 1)
        # methylKit's first column is chr.base; its chromosome is the second
        part["chrom"] = names.index(df[{"tsv": "chrom", "methylkit": 1}.get(fmt, 0)])
        if fmt == "modkit":
            # the code is chosen on the whole file's codes: kept per row as a small integer until then
            part["code"] = codes.index(df[3], clean=lambda t: _CHEBI.get(t.split(",")[0], t.split(",")[0]))
        parts.append(_compact(part))
        del df, cols, part
    return _finish(parts, names.names, codes.names, fmt, path, mod_code, level_scale)


class _Names:
    """A table of distinct strings across chunks: each chunk's column as int32 indices into it."""

    def __init__(self):
        self.names, self._ix = [], {}

    def index(self, column, clean=lambda t: t):
        ix, uniq = pd.factorize(column, use_na_sentinel=False)
        table = np.array([self._ix.setdefault(clean(str(u).strip("\"'")), len(self._ix)) for u in uniq], np.int32)
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


def _finish(parts, names, codes, fmt, path, mod_code, level_scale):
    """The chunks as one :class:`Calls`: the whole-file decisions (modkit code, bedGraph scale) taken here."""
    def cat(key):  # each chunk's array is dropped once joined: one column is held twice at a time, not all
        return np.concatenate([p.pop(key) for p in parts])

    has_counts = parts[0]["has_counts"]
    context_dropped = sum(p["context_dropped"] for p in parts)
    keep = None
    if fmt == "modkit":
        keep = _modkit_rows(cat("code"), codes, mod_code, path)
    chrom_index = cat("chrom")
    pos, strand = cat("pos"), cat("strand")
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
    return Calls(chrom_index=chrom_index, chrom_names=[names[k] for k in used], pos=pos, strand=strand,
                 count_m=m, count_u=u, level=level, format=fmt, has_counts=has_counts,
                 context_dropped=context_dropped)


def _first_appearance(index, n, block=1 << 20):
    """The values of *index* (integers below *n*) in the order of their first occurrence, as pandas.factorize.

    Only the chromosomes with calls left count, and their order is the order of the dataset; taken block by
    block, so that no sort of all the calls is needed.
    """
    seen, order = np.zeros(n, bool), []
    for a in range(0, len(index), block):
        values, first = np.unique(index[a:a + block], return_index=True)
        new = ~seen[values]
        order.extend(values[new][np.argsort(first[new])].tolist())
        seen[values] = True
    return np.array(order, np.int64)


def _convert(df, cols, fmt, path, level_scale, counts_total):
    """One chunk of a table: positions, strands, counts or levels, and the rows of the right context."""
    keep = None  # rows of the right context / modification
    context_dropped = 0
    n = len(df)
    strand = np.zeros(n, np.int8)
    has_counts = True
    level = None
    if fmt in ("bismark-cov", "bismark-merged-cov"):
        pos = cols.position(1, one_based=True)
        cols.num(3, "percent", 0, 100)
        m, u = cols.num(4, "count_m", 0), cols.num(5, "count_u", 0)
        if fmt == "bismark-merged-cov":
            end = cols.num(2, "end").astype(np.int64) - 1
            bad = np.flatnonzero(end != pos + 1)
            if len(bad):
                raise InputFormatError("a merged-CpG .cov spans 2 bases (end = start + 1); this line does not: "
                                       "check --format", path, cols.line(bad[0]))
    elif fmt in ("bismark-cpg-report", "bismark-cpg-report-zero-based"):
        pos = cols.position(1, one_based=fmt == "bismark-cpg-report")
        strand = cols.strand(2, unknown=())
        m, u = cols.num(3, "count_m", 0), cols.num(4, "count_u", 0)
        ctx = cols.text(5).to_numpy()
        keep = np.isin(ctx, ("CG", "CpG"))
        context_dropped = int((~keep).sum())
    elif fmt == "methyldackel":
        pos = cols.position(1, one_based=False)
        end = cols.num(2, "end").astype(np.int64)
        _check_end(end, pos, cols)
        cols.num(3, "percent", 0, 100)
        m, u = cols.num(4, "count_m", 0), cols.num(5, "count_u", 0)
    elif fmt == "methylkit":
        pos = cols.position(2, one_based=True)
        strand = cols.strand(3, plus=("F", "+"), minus=("R", "-"), unknown=())
        cov = cols.num(4, "coverage", 0)
        freq = cols.num(5, "freqC", 0, 100, hint="; freqC is a percentage 0..100")
        # not rounded: a single-strand site keeps the file's own level exactly
        m = cov * freq / 100.0
        u = cov - m
    elif fmt == "bedmethyl":
        pos = cols.position(1, one_based=False)
        strand = cols.strand(5)
        cov = cols.num(9, "coverage", 0)
        pct = cols.num(10, "percent", 0, 100, hint="; column 11 of a bedMethyl is a percentage 0..100")
        m = cov * pct / 100.0
        u = cov - m
    elif fmt == "modkit":
        pos = cols.position(1, one_based=False)
        strand = cols.strand(5)
        valid = cols.num(9, "Nvalid_cov", 0)
        m = cols.num(11, "Nmod", 0)
        bad = np.flatnonzero(m > valid)
        if len(bad):
            raise InputFormatError(f"Nmod {m[bad[0]]:g} exceeds Nvalid_cov {valid[bad[0]]:g}; check --format",
                                   path, cols.line(bad[0]))
        u = valid - m
    elif fmt == "modbam2bed":
        pos = cols.position(1, one_based=False)
        strand = cols.strand(5)
        u, m = cols.num(11, "Ncanonical", 0), cols.num(12, "Nmod", 0)
    elif fmt == "cgmap":
        pos = cols.position(2, one_based=True)
        strand = cols.strand(1, plus=("C",), minus=("G",), unknown=())
        m = cols.num(6, "count_m", 0)
        total = cols.num(7, "count_total", 0)
        u = total - m
        keep = cols.text(3).to_numpy() == "CG"
        context_dropped = int((~keep).sum())
    elif fmt == "allc":
        pos = cols.position(1, one_based=True)
        strand = cols.strand(2)
        m = cols.num(4, "count_m", 0)
        u = cols.num(5, "coverage", 0) - m
        keep = cols.text(3).str.startswith("CG").to_numpy()
        context_dropped = int((~keep).sum())
    elif fmt == "biscuit":
        ncol = df.shape[1]
        pos = cols.position(1, one_based=False)
        end = cols.num(2, "end").astype(np.int64)
        _check_end(end, pos, cols)
        beta_text = cols.text(ncol - 2)
        called = (beta_text != ".").to_numpy()
        if ncol >= 9:
            ctx = cols.text(4).to_numpy()
            keep = np.isin(ctx, ("CG", "CpG"))
            context_dropped = int((~keep).sum())
            strand = np.where(cols.text(3).to_numpy() == "G", -1, np.where(cols.text(3).to_numpy() == "C", 1, 0))
            strand = strand.astype(np.int8)
        keep = called if keep is None else keep & called
        beta = np.where(called, pd.to_numeric(beta_text.where(called, "0"), errors="coerce"), 0.0)
        if not np.isfinite(beta).all():
            bad = int(np.flatnonzero(~np.isfinite(beta))[0])
            raise InputFormatError(f"beta '{beta_text.iloc[bad]}' is not a number", path, cols.line(bad))
        cov = cols.num(ncol - 1, "coverage", 0)
        m = beta * cov
        u = cov - m
    elif fmt == "counts":
        pos = cols.position(1, one_based=True)
        m, u = cols.num(2, "M", 0), cols.num(3, "U", 0)
        if counts_total:  # chrom, pos, M, Cov (bsseq)
            u = u - m
    elif fmt == "bedgraph":
        pos = cols.position(1, one_based=False)
        end = cols.num(2, "end").astype(np.int64)
        _check_end(end, pos, cols)
        raw = cols.num(3, "level", 0, 100, hint="; a bedGraph level is a percentage 0..100 or a fraction 0..1")
        if level_scale == "fraction" and (raw > 1).any():
            bad = int(np.flatnonzero(raw > 1)[0])
            raise InputFormatError(f"level {raw[bad]:g} is above 1 with --level-scale fraction", path,
                                   cols.line(bad))
        level = raw  # scaled on the whole column
        m, u, has_counts = np.full(n, np.nan), np.full(n, np.nan), False
    else:  # tsv
        names = set(df.columns)
        pos = cols.position("start", one_based=False)
        if {"count_m", "count_u"} <= names:
            m, u = cols.num("count_m", "count_m", 0), cols.num("count_u", "count_u", 0)
        elif "level" in names:
            level = cols.num("level", "level", 0, 1,
                             hint="; the TSV 'level' column is a fraction 0..1: divide percentages by 100")
            m, u, has_counts = np.full(n, np.nan), np.full(n, np.nan), False
        else:
            raise InputFormatError("a TSV needs a 'level' column (0..1) or 'count_m' and 'count_u' columns",
                                   path, 1)
        if "strand" in names:
            strand = cols.strand("strand")
    if has_counts:
        bad = np.flatnonzero(u < 0)
        if len(bad):
            raise InputFormatError("more methylated reads than reads in all; check --format", path,
                                   cols.line(bad[0]))
    return {"pos": pos, "strand": strand, "m": m, "u": u, "level": level, "keep": keep,
            "context_dropped": context_dropped, "has_counts": has_counts}


def _check_end(end, pos, cols):
    bad = np.flatnonzero(end <= pos)
    if len(bad):
        raise InputFormatError(f"end {end[bad[0]]} is not after start {pos[bad[0]]}; a BED-style interval is "
                               "0-based half-open (a chrom, pos, M, U count table is --format counts)",
                               cols.path, cols.line(bad[0]))


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
            raise InputFormatError(f"modkit pileup without 5mC rows (codes seen: {seen_text}); choose one with "
                                   "--mod-code", path)
    elif mod_code not in seen:
        raise InputFormatError(f"no rows with modification code {mod_code} (codes seen: {seen_text}); "
                               "check --mod-code", path)
    log.info("%s: modkit codes seen: %s; level of %s (%s) = Nmod / Nvalid_cov, other codes' rows ignored", path,
             seen_text, mod_code, _MOD_NAMES.get(mod_code, "other"))
    return code == names.index(mod_code)
