"""A calls table read in chunks of rows (bounded memory), format by format: the columns each reader needs, NA
spellings, parse errors said with their line."""

import csv
import gzip
import re
import zlib

import numpy as np
import pandas as pd

from mrcnn_tools.calls.source import column_header, fields, is_comment, leading_headers
from mrcnn_tools.errors import InputFormatError

# columns each reader needs at least
_NCOLS = {
    "bismark-cov": 6,
    "bismark-merged-cov": 6,
    "bismark-cpg-report": 6,
    "bismark-cpg-report-zero-based": 6,
    "methyldackel": 6,
    "methylkit": 6,
    "dss": 4,
    "nanopolish": 8,
    "bedmethyl": 11,
    "modkit": 13,
    "modbam2bed": 13,
    "cgmap": 8,
    "allc": 6,
    "counts": 4,
    "bedgraph": 4,
}


# the columns the wide bedMethyl readers use: name and colour strings would cost ~100 bytes a row
_USECOLS = {"modkit": [0, 1, 3, 5, 9, 11], "modbam2bed": [0, 1, 5, 11, 12], "bedmethyl": [0, 1, 3, 5, 9, 10]}


# pandas' default missing-value spellings, applied to the value columns only
_NA = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA"]
_NA += ["NULL", "NaN", "None", "n/a", "nan", "null"]
# rows parsed at a time: a chunk's strings (the chromosome column is Python objects) cost ~100 bytes a row
# while it is converted, so the table of a whole genome is never held as a DataFrame
CHUNK_ROWS = 1 << 19


def read_table(source, fmt):
    """The data lines as a DataFrame with integer column labels, and the number of leading lines skipped."""
    skip, chunks = read_chunks(source, fmt)
    return pd.concat(list(chunks)), skip


def read_chunks(source, fmt, chunksize=None):
    """The data lines as DataFrames of at most *chunksize* rows, and the number of leading lines skipped.

    Returns ``(skip, chunks)``, *chunks* an iterator. Row labels count the data lines from 0 across chunks, so
    ``label + skip + 1`` is a row's line in the file. Raises :class:`InputFormatError` (while iterating, for a
    bad line after the first chunk) as :func:`read_table`; the file is closed when the iterator ends.
    """
    lines = source.head(50)
    skip = leading_headers(lines)
    header = None
    if fmt == "tsv":
        if not skip:
            raise InputFormatError(
                "a TSV needs a header line naming the columns (chrom, start, level or count_m and count_u)",
                source.path,
                1,
            )
        header = [h.lower().lstrip("#") for h in column_header(lines, skip)]
        if not header:
            raise InputFormatError(
                "a TSV needs a header line naming the columns (chrom, start, level or count_m and count_u)",
                source.path,
                1,
            )
    if header:
        ncol = len(header)
    else:
        # the usual width of the first lines: optional trailing columns (Bismark --ffs) may be empty on some
        # lines, and a line with more columns than the others is an error
        widths = [len(fields(ln)) for ln in lines[skip:] if ln.strip() and not is_comment(ln)]
        ncol = max(set(widths), key=lambda w: (widths.count(w), w)) if widths else _NCOLS.get(fmt, 1)
        # never fewer than the first data line: pandas would take its extra field for a row index
        ncol = max([ncol, *widths[:1]])
    ncol = max(ncol, _NCOLS.get(fmt, 1))
    fh = source.stream()  # every line's length checked as it passes: a line over MAX_LINE is never held
    try:
        with _parse_errors(source, fmt):
            # whitespace-separated: tabs or spaces (older modkit), trailing tabs ignored; CRLF handled by the C
            # parser; quotes are characters (an unbalanced one must not join lines), removed where values are read
            # (Columns); blank lines kept as empty rows, so that a row's label + skip + 1 is its line
            reader = pd.read_csv(
                fh,
                sep=r"\s+",
                header=None,
                index_col=False,
                skiprows=skip,
                names=range(ncol),
                dtype={0: str},
                usecols=_USECOLS.get(fmt),
                chunksize=chunksize or CHUNK_ROWS,
                engine="c",
                na_filter=True,
                # NA, nan, ... are missing values in the value columns only: a chromosome may be named NA
                keep_default_na=False,
                na_values={c: _NA for c in range(1, ncol)},
                skip_blank_lines=False,
                low_memory=False,
                quoting=csv.QUOTE_NONE,
                encoding="utf-8",
                encoding_errors="replace",
            )
    except BaseException:
        fh.close()
        raise
    return skip, _chunks(reader, fh, source, fmt, header, ncol)


def _chunks(reader, fh, source, fmt, header, ncol):
    rows = 0
    try:
        while True:
            with _parse_errors(source, fmt):
                try:
                    df = next(reader)
                except StopIteration:
                    break
            if header:
                df.columns = header[:ncol]
            blank = (df.iloc[:, 0] == "").to_numpy()  # a blank line: no first field (whitespace-separated)
            if blank.any():
                df = df[~blank]
            # lines starting with '#' or 'track' inside the data (e.g. concatenated files) are not calls
            # on the distinct first fields only (chromosome names: few), not on every line
            ix, uniq = pd.factorize(df.iloc[:, 0], use_na_sentinel=False)
            bad = [i for i, u in enumerate(uniq) if str(u).startswith(("#", "track", "browser"))]
            if bad:
                df = df[~np.isin(ix, bad)]
            if len(df):
                rows += len(df)
                yield df
    finally:
        reader.close()
        fh.close()
    if not rows:
        raise InputFormatError("the file has no calls", source.path)


class _parse_errors:
    """Parser errors as :class:`InputFormatError` naming the line."""

    def __init__(self, source, fmt):
        self.source, self.fmt = source, fmt

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        source, fmt = self.source, self.fmt
        if kind is None:
            return False
        if issubclass(kind, pd.errors.ParserError):
            m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
            if m:
                raise InputFormatError(
                    f"{m[3]} columns where {fmt} has {m[1]}; check --calls-format or fix the file",
                    source.path,
                    int(m[2]),
                ) from None
            raise InputFormatError(f"cannot parse as {fmt} ({exc})", source.path) from None
        if issubclass(kind, pd.errors.EmptyDataError):
            raise InputFormatError("the file has no calls", source.path) from None
        if issubclass(kind, (EOFError, gzip.BadGzipFile, zlib.error)):
            raise InputFormatError(
                f"the gzip stream is truncated or corrupt ({exc}); re-compress the file", source.path
            ) from None
        return False
