"""Which producer wrote a calls file, from its content (never its name), and a forced --calls-format checked
against the content."""

import re

from mrcnn_tools.calls.formats import AGGREGATE, BY_NAME, FORMATS, PER_READ
from mrcnn_tools.calls.source import Source, column_header, fields, is_comment, is_int, is_num, leading_headers
from mrcnn_tools.errors import InputFormatError

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
