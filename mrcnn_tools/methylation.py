"""Readers for methylation calls (DESIGN.md §3), all returning one table of per-cytosine calls.

Every reader returns a :class:`Calls` with 0-based positions of the called cytosine on the + strand
coordinate system (for a '-' call that is the G of the CpG), the strand when the file says it ('.' otherwise),
and methylated/unmethylated counts (NaN for formats that carry only a level).
"""

import gzip
import logging
import re
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputFormatError
from .io import check_readable, open_text

log = logging.getLogger(__name__)

FORMATS = ("bismark-cov", "bismark-cpg-report", "bedmethyl", "methyldackel", "bedgraph", "tsv")


@dataclass
class Calls:
    """Per-cytosine calls.

    Attributes
    ----------
    chrom_index : numpy.ndarray int32 (n,), index into ``chrom_names``
    chrom_names : list of str, chromosome names as the file spells them
    pos : numpy.ndarray int64 (n,), 0-based position of the called base on the + strand
    strand : numpy.ndarray int8 (n,), 1 '+', -1 '-', 0 unknown (taken from the reference base)
    count_m, count_u : numpy.ndarray float64 (n,), NaN when the format has no counts
    level : numpy.ndarray float64 (n,), methylated fraction 0..1
    format : str
    has_counts : bool
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

    def __len__(self):
        return len(self.pos)

    def subset(self, mask):
        return Calls(self.chrom_index[mask], self.chrom_names, self.pos[mask], self.strand[mask], self.count_m[mask],
                     self.count_u[mask], self.level[mask], self.format, self.has_counts)


def _head_lines(path, n=50):
    lines = []
    fh = open_text(path)
    try:
        for line in fh:
            if line.strip():
                lines.append(line.rstrip("\n\r"))
            if len(lines) >= n:
                break
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        if not lines:
            raise InputFormatError(f"cannot read it as gzip ({exc}); re-compress or decompress it", path) from None
    finally:
        fh.close()
    return lines


def _is_header(line):
    first = line.split("\t")[0].lower()
    return line.startswith(("track", "#", "browser")) or first in ("chrom", "chr", "chromosome", "seqnames")


def detect_format(path):
    """Guess the format of a calls file from its first lines.

    Returns
    -------
    str, one of :data:`FORMATS`
    """
    lines = _head_lines(path)
    if not lines:
        raise InputFormatError("the file is empty; give a file with methylation calls", path)
    has_track = lines[0].startswith("track")
    first = lines[0].lstrip("#").split("\t")
    if not has_track and "chrom" in [c.strip().lower() for c in first] and "start" in [c.strip().lower() for c in first]:
        return "tsv"
    data = [ln for ln in lines if not _is_header(ln)]
    if not data:
        raise InputFormatError("the file has a header but no calls", path)
    cols = data[0].split("\t")
    ncol = len(cols)
    if ncol >= 11:
        return "bedmethyl"
    if ncol == 7 and cols[2] in ("+", "-") and cols[5].startswith("C"):
        return "bismark-cpg-report"
    if ncol == 6:
        if has_track:
            return "methyldackel"
        try:
            same = all(int(r.split("\t")[1]) == int(r.split("\t")[2]) for r in data[:20])
        except (ValueError, IndexError):
            same = False
        return "bismark-cov" if same else "methyldackel"
    if ncol == 4:
        return "bedgraph"
    raise InputFormatError(
        f"cannot tell the format from {ncol} columns in line '{data[0][:60]}'; "
        f"give --format (one of {', '.join(FORMATS)})", path)


# column layout per format: (names, required numeric columns)
_LAYOUT = {
    "bismark-cov": ["chrom", "start", "end", "percent", "count_m", "count_u"],
    "bismark-cpg-report": ["chrom", "start", "strand", "count_m", "count_u", "context", "trinuc"],
    "methyldackel": ["chrom", "start", "end", "percent", "count_m", "count_u"],
    "bedgraph": ["chrom", "start", "end", "percent"],
}


def _first_bad_row(values, ok_mask):
    bad = np.flatnonzero(~ok_mask)
    return int(bad[0]) if len(bad) else None


def _read_table(path, fmt):
    """Read the data lines into a DataFrame of strings/numbers and the number of skipped leading lines."""
    lines = _head_lines(path, 5)
    skip = 0
    while skip < len(lines) and _is_header(lines[skip]):
        skip += 1
    header_names = None
    if fmt == "tsv":
        header_names = [c.strip().lower() for c in lines[0].lstrip("#").split("\t")]
        skip = 1
    fh = open_text(path)
    try:
        if fmt == "tsv":
            names = header_names
        elif fmt == "bedmethyl":
            names = ["chrom", "start", "end", "name", "score", "strand", "tstart", "tend", "rgb", "coverage",
                     "percent"]
        else:
            names = _LAYOUT[fmt]
        ncol = len(names)
        try:
            df = pd.read_csv(fh, sep="\t", header=None, skiprows=skip, dtype={0: str}, engine="c",
                             usecols=range(ncol) if fmt == "bedmethyl" else None,
                             names=None if fmt == "bedmethyl" else names, na_filter=True,
                             skip_blank_lines=True, low_memory=False)
        except pd.errors.ParserError as exc:
            m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
            if m:
                raise InputFormatError(
                    f"{m[3]} columns where {fmt} has {m[1]}; check --format or fix the file",
                    path, int(m[2]) + skip) from None
            raise InputFormatError(f"cannot parse as {fmt} ({exc})", path) from None
        except pd.errors.EmptyDataError:
            raise InputFormatError("the file has no calls", path) from None
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise InputFormatError(f"the gzip stream is truncated or corrupt ({exc}); re-compress the file",
                                   path) from None
    finally:
        fh.close()
    if fmt == "bedmethyl":
        df.columns = names
    if len(df) == 0:
        raise InputFormatError("the file has no calls", path)
    return df, skip


def _numeric(df, col, path, skip, fmt, integer=False, minimum=None, maximum=None):
    values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64)
    ok = np.isfinite(values)
    row = _first_bad_row(values, ok)
    if row is not None:
        raw = df[col].iloc[row]
        what = "missing" if pd.isna(raw) else f"'{raw}' is not a number"
        raise InputFormatError(f"column {col} ({fmt}): {what}; fix the line or check --format", path, row + skip + 1)
    if minimum is not None:
        row = _first_bad_row(values, values >= minimum)
        if row is not None:
            raise InputFormatError(f"column {col} is {values[row]:g}, below {minimum}; counts and positions "
                                   "cannot be negative", path, row + skip + 1)
    if maximum is not None:
        row = _first_bad_row(values, values <= maximum)
        if row is not None:
            raise InputFormatError(f"column {col} is {values[row]:g}, above {maximum}; a percentage is 0..100 "
                                   "(use --format tsv with a level column for fractions)", path, row + skip + 1)
    return values


def _strand(df, path, skip):
    text = df["strand"].astype(str)
    codes = np.select([text == "+", text == "-", text == "."], [1, -1, 0], 9).astype(np.int8)
    bad = np.flatnonzero(codes == 9)
    if len(bad):
        raise InputFormatError(f"strand '{text.iloc[bad[0]]}' is not +, - or .", path, int(bad[0]) + skip + 1)
    return codes


def read_calls(path, fmt=None):
    """Read a methylation calls file.

    Parameters
    ----------
    path : str
        File (``.gz`` read transparently) or ``-`` for stdin (then *fmt* is required).
    fmt : str, optional
        One of :data:`FORMATS`; auto-detected when None.

    Returns
    -------
    Calls
    """
    check_readable(path, "calls file")
    if fmt is None:
        if path == "-":
            raise InputFormatError("give --format when reading calls from stdin", path)
        fmt = detect_format(path)
        log.info("%s: detected format %s", path, fmt)
    if fmt not in FORMATS:
        raise InputFormatError(f"unknown format {fmt}; use one of {', '.join(FORMATS)}", path)
    df, skip = _read_table(path, fmt)
    chrom_index, chrom_names = pd.factorize(df["chrom"], use_na_sentinel=True)
    bad = np.flatnonzero(chrom_index < 0)
    if len(bad):
        raise InputFormatError("empty chromosome name", path, int(bad[0]) + skip + 1)
    start = _numeric(df, "start", path, skip, fmt, minimum=0)
    n = len(df)
    strand = np.zeros(n, dtype=np.int8)
    nan = np.full(n, np.nan)
    has_counts = True
    if fmt in ("bismark-cov", "bismark-cpg-report"):
        pos = start.astype(np.int64) - 1
        if (pos < 0).any():
            row = int(np.flatnonzero(pos < 0)[0])
            raise InputFormatError(f"position 0 in a 1-based format ({fmt}); the file is probably 0-based: "
                                   "check --format", path, row + skip + 1)
        m = _numeric(df, "count_m", path, skip, fmt, minimum=0)
        u = _numeric(df, "count_u", path, skip, fmt, minimum=0)
        if fmt == "bismark-cov":
            _numeric(df, "percent", path, skip, fmt, minimum=0, maximum=100)
        else:
            strand = _strand(df, path, skip)
    elif fmt == "methyldackel":
        pos = start.astype(np.int64)
        _numeric(df, "percent", path, skip, fmt, minimum=0, maximum=100)
        m = _numeric(df, "count_m", path, skip, fmt, minimum=0)
        u = _numeric(df, "count_u", path, skip, fmt, minimum=0)
    elif fmt == "bedmethyl":
        pos = start.astype(np.int64)
        cov = _numeric(df, "coverage", path, skip, fmt, minimum=0)
        pct = _numeric(df, "percent", path, skip, fmt, minimum=0, maximum=100)
        m = np.rint(cov * pct / 100.0)
        u = cov - m
        strand = _strand(df, path, skip)
    elif fmt == "bedgraph":
        pos = start.astype(np.int64)
        level = _numeric(df, "percent", path, skip, fmt, minimum=0, maximum=100) / 100.0
        m, u, has_counts = nan, nan.copy(), False
    else:  # tsv
        cols = set(df.columns)
        pos = start.astype(np.int64)
        if "count_m" in cols and "count_u" in cols:
            m = _numeric(df, "count_m", path, skip, fmt, minimum=0)
            u = _numeric(df, "count_u", path, skip, fmt, minimum=0)
        elif "level" in cols:
            level = _numeric(df, "level", path, skip, fmt, minimum=0, maximum=1)
            m, u, has_counts = nan, nan.copy(), False
        else:
            raise InputFormatError("a TSV needs a 'level' column (0..1) or 'count_m' and 'count_u' columns",
                                   path, 1)
        if "strand" in cols:
            strand = _strand(df, path, skip)
    if has_counts:
        with np.errstate(invalid="ignore", divide="ignore"):
            level = m / (m + u)
    return Calls(chrom_index=chrom_index.astype(np.int32), chrom_names=[str(c) for c in chrom_names], pos=pos, strand=strand, count_m=m, count_u=u, level=level, format=fmt,
                 has_counts=has_counts)
