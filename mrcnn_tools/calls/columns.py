"""One chunk of a calls table to arrays, format by format: the producers' documented columns, checked.

Each format's branch of :func:`convert_chunk` reads positions, strands and counts (or a level) through
:class:`Columns`, whose errors name the file's line. A new format is a new branch here and a row in
:data:`mrcnn_tools.calls.formats.PRODUCERS`.
"""

import re

import numpy as np
import pandas as pd

from mrcnn_tools.errors import InputFormatError

# no chromosome is longer (the longest known are ~5 Gb): a larger position is a damaged line, and would not fit
MAX_POSITION = 2**40


def _to_float(column):
    """A column as float64, NaN where it is no number (a whole number too large for a float is inf)."""
    try:
        return pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    except OverflowError:  # Python ints of hundreds of digits, as the parser leaves them
        return pd.to_numeric(column.astype(str).where(column.notna()), errors="coerce").to_numpy(dtype=np.float64)


class Columns:
    """Typed access to the columns of one table with errors that name the line."""

    def __init__(self, df, path, skip, fmt):
        self.df, self.path, self.skip, self.fmt = df, path, skip, fmt
        self.rows = df.index.to_numpy()

    def line(self, row):
        """The file's line number (1-based) of the chunk's *row*-th row."""
        return int(self.rows[row]) + self.skip + 1

    def num(self, col, what, minimum=None, maximum=None, hint=""):
        """Column *col* as numpy float64 (n,); a missing or non-numeric value or one out of [minimum, maximum]
        is an InputFormatError naming *what* and the line (*hint* appended after a maximum)."""
        raw = self.df[col]
        values = _to_float(raw)
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad) and not pd.api.types.is_numeric_dtype(raw):  # quoted numbers ("12"): quotes are characters
            raw = raw.astype(str).str.strip("\"'").where(raw.notna())
            values = _to_float(raw)
            bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            r = raw.iloc[bad[0]]
            if pd.isna(r):
                text = "missing"
            elif np.isinf(values[bad[0]]):
                text = f"'{str(r)[:40]}' is too large (not a finite number)"
            else:
                text = f"'{str(r)[:40]}' is not a number"
            raise InputFormatError(
                f"{what} ({self.fmt} column {self._colno(col)}): {text}; fix the line or check --calls-format",
                self.path,
                self.line(bad[0]),
            )
        if minimum is not None:
            bad = np.flatnonzero(values < minimum)
            if len(bad):
                raise InputFormatError(
                    f"{what} is {values[bad[0]]:g}, below {minimum:g}; counts and positions cannot be negative",
                    self.path,
                    self.line(bad[0]),
                )
        if maximum is not None:
            bad = np.flatnonzero(values > maximum)
            if len(bad):
                raise InputFormatError(
                    f"{what} is {values[bad[0]]:g}, above {maximum:g}{hint}", self.path, self.line(bad[0])
                )
        return values

    def text(self, col, clean=lambda t: t):
        """A column as strings, quotes removed; *clean* maps each distinct value (a column has few)."""
        ix, uniq = pd.factorize(self.df[col], use_na_sentinel=False)
        values = np.array([clean(str(u).strip("\"'")) for u in uniq] + [""], dtype=object)
        return pd.Series(values[ix], index=self.df.index)

    def _colno(self, col):
        return col + 1 if isinstance(col, (int, np.integer)) else f"'{col}'"

    def strand(self, col, plus=("+",), minus=("-",), unknown=(".",)):
        """Column *col* as numpy int8 (n,): 1 for the *plus* spellings, -1 *minus*, 0 *unknown*; others refused."""
        text = self.text(col).to_numpy()
        codes = np.full(len(text), 9, np.int8)
        codes[np.isin(text, plus)] = 1
        codes[np.isin(text, minus)] = -1
        codes[np.isin(text, unknown)] = 0
        bad = np.flatnonzero(codes == 9)
        if len(bad):
            allowed = ", ".join(plus + minus + unknown)
            raise InputFormatError(f"strand '{text[bad[0]]}' is not one of {allowed}", self.path, self.line(bad[0]))
        return codes

    def position(self, col, one_based):
        """Column *col* as 0-based numpy int64 (n,) positions; 0 in a 1-based format is refused (a 0-based file)."""
        raw = self.num(col, "position", minimum=0, maximum=MAX_POSITION, hint=": beyond any chromosome")
        bad = np.flatnonzero(raw != np.floor(raw))
        if len(bad):
            raise InputFormatError(
                f"position {raw[bad[0]]:g} is not a whole number; check --calls-format", self.path, self.line(bad[0])
            )
        pos = raw.astype(np.int64)
        if one_based:
            bad = np.flatnonzero(pos == 0)
            if len(bad):
                raise InputFormatError(
                    f"position 0 in a 1-based format ({self.fmt}); the file is probably 0-based: check --calls-format",
                    self.path,
                    self.line(bad[0]),
                )
            pos -= 1
        return pos


def convert_chunk(df, cols, fmt, path, level_scale, counts_total):
    """One chunk of a table: positions, strands, counts or levels, and the rows of the right context."""
    keep = None  # rows of the right context / modification
    context_dropped = 0
    expand = None  # rows of the table each output row comes from, when a row gives several (nanopolish groups)
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
                raise InputFormatError(
                    "a merged-CpG .cov spans 2 bases (end = start + 1); this line does not: check --calls-format",
                    path,
                    cols.line(bad[0]),
                )
    elif fmt in ("bismark-cpg-report", "bismark-cpg-report-zero-based"):
        pos = cols.position(1, one_based=fmt == "bismark-cpg-report")
        strand = cols.strand(2, unknown=())
        m, u = cols.num(3, "count_m", 0), cols.num(4, "count_u", 0)
        keep, context_dropped = _context(cols, 5, ("CG", "CpG"), ("CHG", "CHH", "CHN", "CNN"))
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
        m, u = _reads(cov, cols.num(5, "freqC", 0, 100, hint="; freqC is a percentage 0..100"))
    elif fmt == "bedmethyl":
        _no_modkit_codes(cols, path)
        pos = cols.position(1, one_based=False)
        strand = cols.strand(5)
        cov = cols.num(9, "coverage", 0)
        m, u = _reads(cov, cols.num(10, "percent", 0, 100, hint="; column 11 of a bedMethyl is a percentage 0..100"))
    elif fmt == "modkit":
        pos = cols.position(1, one_based=False)
        strand = cols.strand(5)
        valid = cols.num(9, "Nvalid_cov", 0)
        m = cols.num(11, "Nmod", 0)
        bad = np.flatnonzero(m > valid)
        if len(bad):
            raise InputFormatError(
                f"Nmod {m[bad[0]]:g} exceeds Nvalid_cov {valid[bad[0]]:g}; check --calls-format",
                path,
                cols.line(bad[0]),
            )
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
        keep, context_dropped = _context(cols, 3, ("CG",), ("CHG", "CHH"))
    elif fmt == "allc":
        pos = cols.position(1, one_based=True)
        strand = cols.strand(2)
        m = cols.num(4, "count_m", 0)
        u = cols.num(5, "coverage", 0) - m
        ctx = cols.text(3)
        keep = ctx.str.startswith("CG").to_numpy()
        bad = np.flatnonzero(~ctx.str.fullmatch(r"C[ACGTN]{1,2}").to_numpy())
        if len(bad):
            raise InputFormatError(
                f"context '{ctx.iloc[bad[0]]}' is not a cytosine context (CGN, CHG, CHH ...)", path, cols.line(bad[0])
            )
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
    elif fmt == "dss":
        pos = cols.position(1, one_based=True)
        total, m = cols.num(2, "N", 0), cols.num(3, "X", 0)
        bad = np.flatnonzero(m > total)
        if len(bad):
            raise InputFormatError(
                f"X {m[bad[0]]:g} (methylated reads) is above N {total[bad[0]]:g} (all reads): not a DSS table "
                "(chr, pos, N, X); a table of chr, pos, M, U is --calls-format counts",
                path,
                cols.line(bad[0]),
            )
        u = total - m
    elif fmt == "nanopolish":
        pos, m, u, expand = _nanopolish(df, cols, path)
        strand = np.zeros(len(pos), np.int8)
        n = len(pos)
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
            raise InputFormatError(f"level {raw[bad]:g} is above 1 with --level-scale fraction", path, cols.line(bad))
        level = raw  # scaled on the whole column
        m, u, has_counts = np.full(n, np.nan), np.full(n, np.nan), False
    else:  # tsv
        names = set(df.columns)
        pos = cols.position("start", one_based=False)
        if {"count_m", "count_u"} <= names:
            m, u = cols.num("count_m", "count_m", 0), cols.num("count_u", "count_u", 0)
        elif "level" in names:
            level = cols.num(
                "level", "level", 0, 1, hint="; the TSV 'level' column is a fraction 0..1: divide percentages by 100"
            )
            m, u, has_counts = np.full(n, np.nan), np.full(n, np.nan), False
        else:
            raise InputFormatError("a TSV needs a 'level' column (0..1) or 'count_m' and 'count_u' columns", path, 1)
        if "strand" in names:
            strand = cols.strand("strand")
    if has_counts:
        bad = np.flatnonzero(u < 0)
        if len(bad):
            raise InputFormatError(
                "more methylated reads than reads in all; check --calls-format", path, cols.line(bad[0])
            )
    return {
        "pos": pos,
        "strand": strand,
        "m": m,
        "u": u,
        "level": level,
        "keep": keep,
        "context_dropped": context_dropped,
        "has_counts": has_counts,
        "expand": expand,
    }


def _context(cols, col, kept, others):
    """(rows of a *kept* context, how many rows of the *others*); another value is an error naming its line."""
    ctx = cols.text(col).to_numpy()
    keep = np.isin(ctx, kept)
    bad = np.flatnonzero(~keep & ~np.isin(ctx, others))
    if len(bad):
        raise InputFormatError(
            f"context '{ctx[bad[0]]}' is not one of {', '.join(kept + others)}; check --calls-format",
            cols.path,
            cols.line(bad[0]),
        )
    return keep, int((~keep).sum())


def _nanopolish(df, cols, path):
    """calculate_methylation_frequency.py rows as per-CpG (pos, m, u, rows): each CpG of a group gets the group's
    level, and reads = called_sites / num_motifs_in_group (the script adds num_motifs_in_group calls a read);
    the CpGs of a group are where its group_sequence has CG, counted from the first (as --split-groups does)."""
    start = cols.position(1, one_based=False)
    end = cols.position(2, one_based=False)
    k = cols.num(3, "num_motifs_in_group", 1)
    called = cols.num(4, "called_sites", 0)
    meth = cols.num(5, "called_sites_methylated", 0)
    freq = cols.num(6, "methylated_frequency", 0, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        checks = (
            (end < start, "end is before start"),
            ((k == 1) & (end != start), "end is not start for a group of one CpG"),
            (meth > called, "called_sites_methylated is above called_sites"),
            ((called % k != 0) | (meth % k != 0), "called_sites is not a whole number of reads of the group"),
            ((called > 0) & (np.abs(freq - meth / called) > 0.0006), "methylated_frequency is not the ratio"),
        )
    for bad, what in checks:
        rows = np.flatnonzero(bad)
        if len(rows):
            raise InputFormatError(
                f"{what}: not calculate_methylation_frequency.py output; check --calls-format", path, cols.line(rows[0])
            )
    m, u = meth / k, (called - meth) / k
    multi = np.flatnonzero(k > 1)
    if not len(multi):
        return start, m, u, None
    seqs = cols.text(7).to_numpy()
    offsets = [np.zeros(1, np.int64)] * len(df)
    for r in multi:
        seq, at = str(seqs[r]).upper(), []
        p = seq.find("CG")
        while p != -1:
            at.append(p)
            p = seq.find("CG", p + 1)
        off = np.array(at, np.int64) - (at[0] if at else 0)
        if len(off) != k[r] or start[r] + off[-1] != end[r]:
            raise InputFormatError(
                f"a group of {k[r]:g} CpGs from {start[r]} to {end[r]} whose group_sequence '{seq[:60]}' has "
                f"{len(off)} CG: fix the line, or run calculate_methylation_frequency.py --split-groups",
                path,
                cols.line(r),
            )
        offsets[r] = off
    sizes = np.array([len(o) for o in offsets])
    rows = np.repeat(np.arange(len(df)), sizes)
    return start[rows] + np.concatenate(offsets), m[rows], u[rows], rows


# a modkit name column value: a modification code (letter or ChEBI number), optionally with its motif
_MODKIT_NAME = re.compile(r"([A-Za-z]|\d{4,6})(,[ACGTNRYSWKMBDHV]+,\d+)?")


def _no_modkit_codes(cols, path):
    """A bedMethyl whose name column holds several modkit codes (h and m, or one code under two motifs) is a
    modkit pileup cut to 11 columns or read with the wrong format: its rows per C are not reads to sum."""
    names = sorted({t for t in cols.text(3).unique() if _MODKIT_NAME.fullmatch(t)})
    if len(names) > 1:
        raise InputFormatError(
            f"read as bedmethyl, but the name column holds modkit modification codes ({', '.join(names[:5])}): "
            "a modkit pileup, one row per code (5mC m, 5hmC h) and C; give the whole modkit file with "
            "--calls-format modkit (--mod-code chooses the code)",
            path,
        )


def _reads(coverage, percent):
    """(methylated, unmethylated) reads of *coverage* reads at *percent*, float64 (n,) each; not rounded, so
    that a single-strand site keeps the file's own level exactly."""
    m = coverage * percent / 100.0
    return m, coverage - m


def _check_end(end, pos, cols):
    bad = np.flatnonzero(end <= pos)
    if len(bad):
        raise InputFormatError(
            f"end {end[bad[0]]} is not after start {pos[bad[0]]}; a BED-style interval is "
            "0-based half-open (a chrom, pos, M, U count table is --calls-format counts)",
            cols.path,
            cols.line(bad[0]),
        )
