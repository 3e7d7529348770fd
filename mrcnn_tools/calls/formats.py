"""The methylation-call formats: one table of producers, and detection from the content.

Each :class:`Producer` names the tool that writes a format, its documented columns, its coordinate base and
what "coverage" means in it; the README's format table is this table. Detection looks at the content, never at
the file name: quotes, CRLF line ends, a UTF-8 byte order mark, header and ``track`` lines and trailing tabs are
tolerated, and fields may be separated by tabs or spaces (older modkit releases separate the columns after the
10th by spaces).
"""

import csv
import gzip
import re
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mrcnn_tools.calls.source import Source, column_header, fields, is_comment, is_int, is_num, leading_headers
from mrcnn_tools.errors import InputFormatError

__all__ = [
    "Producer",
    "PRODUCERS",
    "PER_READ",
    "AGGREGATE",
    "BY_NAME",
    "ALTERNATIVE",
    "FORMATS",
    "LEVEL_SCALES",
    "Source",
    "detect",
    "detect_format",
    "check_forced",
    "header_names",
    "read_table",
    "read_chunks",
    "CHUNK_ROWS",
]


@dataclass(frozen=True)
class Producer:
    """One calls format: who writes it, its columns, coordinates and the meaning of coverage."""

    name: str
    tool: str
    columns: str
    coords: str
    coverage: str


PRODUCERS = (
    Producer(
        "bismark-cov",
        "Bismark `bismark_methylation_extractor`/`bismark2bedGraph` `.cov`",
        "chrom, start, end (= start), percent, count_m, count_u",
        "1-based",
        "count_m + count_u",
    ),
    Producer(
        "bismark-merged-cov",
        "Bismark `coverage2cytosine --merge_CpG` `.merged_CpG_evidence.cov`",
        "chrom, start (C), end (G, = start + 1), percent, count_m, count_u; strands already merged",
        "1-based",
        "count_m + count_u (both strands)",
    ),
    Producer(
        "bismark-cpg-report",
        "Bismark `coverage2cytosine` CpG report, `--CX` report (CG rows kept), "
        "`--ffs` report (10 columns); MethylDackel `--cytosine_report`",
        "chrom, pos, strand, count_m, count_u, context (CG/CHG/CHH), trinucleotide[, 3 flanking sequences]",
        "1-based",
        "count_m + count_u",
    ),
    Producer(
        "bismark-cpg-report-zero-based",
        "Bismark `coverage2cytosine --zero_based` CpG/CX report",
        "as bismark-cpg-report",
        "0-based",
        "count_m + count_u",
    ),
    Producer(
        "methyldackel",
        "MethylDackel `extract` bedGraph (with or without `--mergeContext`)",
        "`track` line, then chrom, start, end, percent, count_m, count_u",
        "0-based",
        "count_m + count_u",
    ),
    Producer(
        "methylkit",
        "methylKit text (`read`), MethylDackel `--methylKit`",
        "header chrBase, chr, base, strand (F/R), coverage, freqC (percent), freqT",
        "1-based",
        "coverage column; level = freqC / 100",
    ),
    Producer(
        "bedmethyl",
        "ENCODE bedMethyl (BED9+2)",
        "chrom, start, end, name, score, strand, thickStart, thickEnd, rgb, coverage, percent",
        "0-based",
        "column 10 (reads); level = percent / 100",
    ),
    Producer(
        "modkit",
        "modkit `pileup` bedMethyl (18 columns; after the 10th tabs or spaces; optional header)",
        "chrom, start, end, mod code (m, h, C or m,CG,0), score, strand (+ - .), thickStart, thickEnd, rgb, "
        "Nvalid_cov, percent, Nmod, Ncanonical, Nother_mod, Ndelete, Nfail, Ndiff, Nnocall",
        "0-based",
        "Nvalid_cov of the chosen code (`--mod-code`, default m); level = Nmod / Nvalid_cov",
    ),
    Producer(
        "modbam2bed",
        "epi2me modbam2bed `-e` extended bedMethyl (14 columns; 16 from release 0.9)",
        "BED9, read depth, percent, Ncanonical, Nmod, Nfiltered[, Nnocall, Naltmod]",
        "0-based",
        "Ncanonical + Nmod (column 10 counts filtered, substituted and deleted reads too); "
        "level = Nmod / (Ncanonical + Nmod)",
    ),
    Producer(
        "cgmap",
        "BSseeker2 / CGmapTools CGmap",
        "chrom, base (C +, G -), pos, context (CG/CHG/CHH; CG kept), dinucleotide, level, count_m, count_total",
        "1-based",
        "count_total (C + T reads)",
    ),
    Producer(
        "allc",
        "methylpy allc",
        "chrom, pos, strand, context (CGN kept), count_m, coverage, significant[, matches, mismatches]",
        "1-based",
        "coverage column",
    ),
    Producer(
        "biscuit",
        "BISCUIT `vcf2bed` / `mergecg` bed (beta + coverage; with `-e` the context columns)",
        "chrom, start, end[, ref base, context, ...], beta (0..1), coverage",
        "0-based",
        "coverage column; level = beta",
    ),
    Producer(
        "counts",
        "count tables of methrix/bsseq exports",
        "chrom, pos, M, U (with or without header; a header naming the 4th column Cov: total reads; without "
        "a header, some row must have M < U, else it could be dss: give --calls-format)",
        "1-based",
        "M + U (or Cov)",
    ),
    Producer(
        "dss",
        "DSS / bsseq input tables (`DSS::makeBSseqData`, `DMLtest`)",
        "header chr, pos, N (total reads), X (methylated reads); without the header only with "
        "`--calls-format dss` (chrom, pos, 2 counts with column 3 >= column 4 on every row fits dss and counts)",
        "1-based",
        "N; level = X / N",
    ),
    Producer(
        "nanopolish",
        "nanopolish / f5c `calculate_methylation_frequency.py` (with or without `--split-groups`)",
        "header chromosome, start, end, num_motifs_in_group, called_sites, called_sites_methylated, "
        "methylated_frequency, group_sequence; a group of several CpGs gives each of its CpGs the group's level",
        "0-based (the C of each CpG, strands merged)",
        "called_sites / num_motifs_in_group (reads); level = called_sites_methylated / called_sites",
    ),
    Producer(
        "bedgraph",
        "bedGraph of levels",
        "chrom, start, end, level (percent or fraction, decided from the whole column; `--level-scale`)",
        "0-based",
        "none: a level only, `--min-coverage` does not apply",
    ),
    Producer(
        "tsv",
        "any table with a header",
        "header with `chrom`, `start` (0-based) and `level` (0..1) or `count_m` + `count_u` (+ `strand`)",
        "0-based",
        "count_m + count_u",
    ),
)
BY_NAME = {p.name: p for p in PRODUCERS}
# a detected format whose reading fails the reference's base check is tried as this one: a headerless 1-bp
# 6-column file is Bismark's merged-CpG .cov (1-based) or a MethylDackel/Bismark --zero_based file without its
# track line (0-based), and a cytosine report may come from coverage2cytosine --zero_based; only the reference
# can tell
ALTERNATIVE = {"bismark-merged-cov": "methyldackel", "bismark-cpg-report": "bismark-cpg-report-zero-based"}
FORMATS = tuple(BY_NAME)
LEVEL_SCALES = ("percent", "fraction")

# per-read files carry one call per read and site, no per-site level: recognised (by their header names, or a
# read ID in a column) only to be refused with the step that aggregates them
PER_READ = (
    ("nanopolish/f5c call-methylation", {"read_name", "log_lik_ratio"}),
    ("megalodon per-read text", {"read_id", "can_log_prob"}),
    ("modkit extract", {"read_id", "forward_read_position"}),
    ("modkit extract", {"read_id", "ref_position", "call_code"}),
    ("DeepSignal call_mods", {"readname", "prob_1"}),
)
AGGREGATE = "aggregate them first (modkit pileup / calculate_methylation_frequency.py)"
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
# header names of count tables: chrom, pos, M, U (or M, Cov); DSS names N (total) and X (methylated)
_COUNT_NAMES = ("pos", "position", "m", "u", "cov", "coverage", "meth", "unmeth", "total")


_CONTEXTS = {"CG", "CHG", "CHH", "CpG", "CHN", "CNN"}


def _by_header(names, n):
    """The format that the header *names* (lower case) of an *n*-column table name, or None."""
    names = set(names)
    if {"chrbase", "freqc"} <= names:
        return "methylkit"
    if {"valid_coverage", "count_modified"} <= names or "percent_modified" in names:
        return "modkit"
    if "chrom" in names and "start" in names and ("level" in names or {"count_m", "count_u"} <= names):
        return "tsv"
    if {"mc_class", "mc_count"} <= names:
        return "allc"
    if {"called_sites", "called_sites_methylated"} <= names:
        return "nanopolish"
    if n == 4 and {"n", "x"} <= names:
        return "dss"
    if n == 4 and names & set(_COUNT_NAMES):
        # the header says counts: a value that is not a count is the reader's error, with its line
        return "counts"
    return None


def _classify(rows, has_track, header):
    """The format that fits every one of *rows* (lists of fields), or None; and the formats it resembles."""
    names = [h.lower().lstrip("#") for h in header]
    n = len(rows[0])
    named = _by_header(names, n)
    if named:
        return named, []

    def every(pred):
        try:
            return all(pred(r) for r in rows)
        except (IndexError, ValueError):
            return False

    resembles = []
    if n >= 17:
        resembles.append("modkit")
        if every(
            lambda r: (
                len(r) >= 18
                and all(is_int(x) for x in (r[1], r[2], r[9], r[11], r[12], r[13]))
                and int(r[9]) == int(r[11]) + int(r[12]) + int(r[13])
            )
        ):
            return "modkit", resembles
    if 14 <= n <= 16:  # releases from 0.9 add N no-call and N alternative-mod
        resembles.append("modbam2bed")
        if every(
            lambda r: (
                all(is_int(x) for x in (r[1], r[2], r[9], r[11], r[12], r[13]))
                and int(r[9]) >= int(r[11]) + int(r[12]) + int(r[13])
            )
        ):
            return "modbam2bed", resembles
    if n == 11:
        resembles.append("bedmethyl")
        if every(lambda r: is_int(r[1]) and is_int(r[9]) and 0 <= float(r[10]) <= 100):
            return "bedmethyl", resembles
    if 7 <= n <= 10 and rows[0][2] in "+-" and rows[0][5] in _CONTEXTS:
        resembles.append("bismark-cpg-report")
        if every(lambda r: is_int(r[1]) and r[2] in ("+", "-") and is_int(r[3]) and is_int(r[4])):
            return "bismark-cpg-report", resembles
    if 7 <= n <= 9 and rows[0][2] in ("+", "-", "."):
        resembles.append("allc")
        if every(lambda r: is_int(r[1]) and r[3][:1] == "C" and is_int(r[4]) and is_int(r[5])):
            return "allc", resembles
    if n == 8 and is_int(rows[0][1]) and is_int(rows[0][3]):
        resembles.append("nanopolish")
        if every(
            lambda r: (
                all(is_int(x) for x in r[1:6]) and 0 <= float(r[6]) <= 1 and (r[7] == "split-group" or r[7].isalpha())
            )
        ):
            return "nanopolish", resembles
    if n == 8 and rows[0][1] in ("C", "G"):
        resembles.append("cgmap")
        if every(lambda r: r[1] in ("C", "G") and is_int(r[2]) and is_int(r[6]) and is_int(r[7])):
            return "cgmap", resembles
    if n == 7 and rows[0][3] in ("F", "R", "+", "-"):
        resembles.append("methylkit")
        if every(lambda r: is_int(r[2]) and r[3] in ("F", "R", "+", "-") and is_int(r[4])):
            return "methylkit", resembles
    if n == 6:
        resembles += ["bismark-cov", "bismark-merged-cov", "methyldackel"]
        if not every(lambda r: is_int(r[1]) and is_int(r[2]) and is_num(r[3]) and is_num(r[4]) and is_num(r[5])):
            return None, resembles
        if has_track:
            return "methyldackel", resembles
        if every(lambda r: int(r[1]) == int(r[2])):
            return "bismark-cov", resembles
        if every(lambda r: int(r[2]) - int(r[1]) == 1):
            # MethylDackel always writes a track line: a headerless 1-bp 6-column file is Bismark's merged .cov
            return "bismark-merged-cov", resembles
        if every(lambda r: int(r[2]) > int(r[1])):
            return "methyldackel", resembles
    if n in (5, 9) and (rows[0][-2] == "." or is_num(rows[0][-2])) and is_int(rows[0][-1]):
        resembles.append("biscuit")
        if every(
            lambda r: is_int(r[1]) and is_int(r[2]) and (r[-2] == "." or 0 <= float(r[-2]) <= 1) and is_int(r[-1])
        ):
            return "biscuit", resembles
    if n == 4:
        resembles += ["bedgraph", "counts"]
        counts = every(lambda r: is_int(r[1]) and is_int(r[2]) and is_int(r[3]))
        if has_track or every(lambda r: int(r[2]) > int(r[1])):
            return "bedgraph", resembles
        # chrom, pos, M, U: the third column is a read count, mostly far below the position
        if counts and 2 * sum(int(r[2]) < int(r[1]) for r in rows) > len(rows):
            return "counts", resembles
        return "bedgraph", resembles  # end <= start is then refused with its line number
    return None, resembles


def header_names(source):
    """The lower-case column names of the header line above the data, or [] when there is none."""
    lines = source.head(50)
    skip = leading_headers(lines)
    return [h.lower().lstrip("#") for h in column_header(lines, skip)]


def per_read_tool(names, rows):
    """The per-read producer whose file has header *names* (lower case) or data *rows* (lists of fields), or None:
    a header of :data:`PER_READ`, or a read ID (a UUID, as nanopore reads are named) in a field of the first rows.
    """
    for tool, signature in PER_READ:
        if signature <= set(names):
            return tool
    for r in rows[:5]:
        for k, f in enumerate(r):
            if _UUID.fullmatch(f):
                return f"a read ID in column {k + 1}"
    return None


def detect(source):
    """The format of a :class:`Source` (one of :data:`FORMATS`), or an error that shows the first data line that
    does not fit (per-read files are refused by name)."""
    lines = source.head()
    if not any(ln.strip() for ln in lines):
        raise InputFormatError("the file is empty; give a file with methylation calls", source.path)
    skip = leading_headers(lines)
    header = column_header(lines, skip)
    names = [h.lower().lstrip("#") for h in header]
    has_track = any(ln.lstrip().startswith("track") for ln in lines[:skip])
    # (line number, fields) of the data lines
    data = [(i + 1, fields(ln)) for i, ln in enumerate(lines) if i >= skip and ln.strip() and not is_comment(ln)]
    first = [fields(ln) for ln in lines if ln.strip() and not is_comment(ln)]
    # the header names, or the first line's (a per-read file can look all header: megalodon's rows)
    tool = per_read_tool(names, []) or per_read_tool([f.lower().lstrip("#") for f in first[0]] if first else [], [])
    if tool is None and not data:
        tool = per_read_tool([], first)
    if tool:
        raise InputFormatError(f"per-read calls ({tool}): {AGGREGATE}", source.path)
    if not data:
        raise InputFormatError("the file has a header but no calls", source.path)
    n = len(data[0][1])
    numbered = [(i, r) for i, r in data if len(r) == n] if n < 7 else data
    rows = [r for _, r in numbered[:100]]
    fmt, resembles = _classify(rows, has_track, header)
    if fmt is None:
        tool = per_read_tool([], [r for _, r in data])
        if tool:
            raise InputFormatError(f"per-read calls ({tool}): {AGGREGATE}", source.path)
        first, lineno, text = _first_misfit(numbered[:100], has_track, header), data[0][0], lines[data[0][0] - 1]
        if first is not None:
            # the first lines are one format, a later one breaks it: that line is the one to show
            fits, lineno = first
            text = lines[lineno - 1]
            like = f"the lines above it read as {fits}, this one does not fit"
        elif resembles:
            like = f"it resembles {', '.join(resembles)} but its values do not fit"
        else:
            like = "no known format has that many columns"
        raise InputFormatError(
            f"cannot tell the format of the data line '{text[:100]}' ({len(fields(text))} columns): {like}; "
            f"fix the line or give --calls-format (one of {', '.join(FORMATS)}; see mrcnn-encode --help)",
            source.path,
            lineno,
        )
    return fmt


def _first_misfit(numbered, has_track, header):
    """(format, line) when the first rows of *numbered* ((line, fields) pairs) fit a format and adding a later
    row makes them fit none: that row's line; else None."""
    rows = [r for _, r in numbered]
    fits = _classify(rows[:1], has_track, header)[0]
    if fits is None:
        return None
    for k in range(2, len(rows) + 1):
        now = _classify(rows[:k], has_track, header)[0]
        if now is None:
            return fits, numbered[k - 1][0]
        fits = now
    return None


# formats the content alone cannot always tell apart (the reference, the user or the whole file decides):
# forcing one of a group where another was detected is obeyed, unless a header names the columns
_LOOK_ALIKE = (
    {"bismark-cov", "bismark-merged-cov", "methyldackel"},
    {"bismark-cpg-report", "bismark-cpg-report-zero-based"},
    {"counts", "dss", "bedgraph"},
)


def check_forced(source, fmt):
    """Refuse a forced format *fmt* that the content contradicts: per-read calls, another format named by the
    header, or another format detected that the content tells apart from *fmt*. Content that fits no known
    format is left to the reader of *fmt*, which checks its columns line by line."""
    try:
        detected = detect(source)
    except InputFormatError as exc:
        if "per-read calls" in str(exc):
            raise
        return
    if detected == fmt:
        return
    named = _by_header(header_names(source), len(fields(_first_data_line(source))))
    if named is None and any({fmt, detected} <= group for group in _LOOK_ALIKE):
        return
    why = f"its header names the columns of {named}" if named else f"its content is {detected}"
    tool = BY_NAME[detected].tool.split(" (")[0]
    raise InputFormatError(
        f"--calls-format {fmt} does not fit the file: {why} ({tool}); give --calls-format {detected}, or leave "
        "--calls-format out to have the format detected",
        source.path,
    )


def _first_data_line(source):
    lines = source.head(50)
    skip = leading_headers(lines)
    return next((ln for ln in lines[skip:] if ln.strip() and not is_comment(ln)), "")


def detect_format(path):
    """Guess the format of a calls file from its content.

    Returns
    -------
    str, one of :data:`FORMATS`
    """
    return detect(Source(path))


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
