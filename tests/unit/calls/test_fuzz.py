"""Property-based tests of the calls readers and detection (issue 23), with Hypothesis.

Random rows of every format, written with random separators, quotes, line ends, byte order marks, headers, gzip
and chunk sizes; then truncated, mutated, filled with huge numbers and bytes that are not UTF-8. The properties:
reading never raises anything but a one-line :class:`MrcnnError` (no traceback), and a file that is read gives, row
by row, what an independent reading of the producer's documented columns gives (this module's own small parser,
which shares no code with the readers).

The fast tier runs a small, derandomized budget (a few seconds); the ``slow`` tests run many more examples
(``make test-slow``).
"""

import gzip
import math
import os
import re
import tempfile
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from mrcnn_tools.calls import tables
from mrcnn_tools.calls.readers import read_calls
from mrcnn_tools.errors import MrcnnError

# Hypothesis keeps caches in a .hypothesis folder of the working directory: not in the checkout
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "mrcnn-tools-hypothesis"))
FAST = settings(
    max_examples=8,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SLOW = settings(FAST, max_examples=500)

CHROMS = ["chr1", "chrX", "2", "scaffold_12", "chrUn_KI270302v1", "chrM"]
MODKIT_HEADER = (
    "chrom chromStart chromEnd name score strand thickStart thickEnd color valid_coverage percent_modified "
    "count_modified count_canonical count_other_mod count_delete count_fail count_diff count_nocall"
).split()
NANOPOLISH_HEADER = (
    "chromosome start end num_motifs_in_group called_sites called_sites_methylated methylated_frequency group_sequence"
).split()


# --- rows of each format, with what its producer's documentation says they mean ----------------------------------
# each row: (fields as written, expectation) where the expectation is (chrom, pos0, strand, m, u, level) or None
# for a row the reader must drop (another context)


@st.composite
def rows_of(draw, fmt):
    n = draw(st.integers(1, 25))
    out = []
    for _ in range(n):
        chrom = draw(st.sampled_from(CHROMS))
        p = draw(st.integers(1, 3_000_000_000))  # 1-based; beyond 2**31 on purpose
        m = draw(st.integers(0, 500))
        u = draw(st.integers(0, 500))
        cov = m + u
        strand = draw(st.sampled_from("+-"))
        sgn = 1 if strand == "+" else -1
        pct = 100 * m / cov if cov else 0.0
        if fmt == "bismark-cov":
            row = [chrom, p, p, f"{pct:g}", m, u]
            exp = (chrom, p - 1, 0, m, u, None)
        elif fmt == "bismark-cpg-report":
            ctx = draw(st.sampled_from(["CG", "CG", "CG", "CHG", "CHH"]))
            row = [chrom, p, strand, m, u, ctx, ctx + "A" if ctx == "CG" else "CAG"]
            exp = (chrom, p - 1, sgn, m, u, None) if ctx == "CG" else None
        elif fmt == "methyldackel":
            row = [chrom, p - 1, p, round(pct), m, u]
            exp = (chrom, p - 1, 0, m, u, None)
        elif fmt == "methylkit":
            freq = draw(st.integers(0, 10000)) / 100
            cov = max(cov, 1)
            row = [f"{chrom}.{p}", chrom, p, "F" if strand == "+" else "R", cov, f"{freq:.2f}", f"{100 - freq:.2f}"]
            exp = (chrom, p - 1, sgn, cov * freq / 100, cov - cov * freq / 100, None)
        elif fmt == "bedmethyl":
            row = [chrom, p - 1, p, ".", min(cov, 1000), strand, p - 1, p, "0,0,0", cov, f"{pct:.2f}"]
            mm = cov * float(f"{pct:.2f}") / 100
            exp = (chrom, p - 1, sgn, mm, cov - mm, None)
        elif fmt == "modkit":
            other = draw(st.integers(0, 5))
            valid = m + u + other
            rest = [f"{100 * m / valid if valid else 0:.2f}", m, u, other, 0, 0, 0, 0]
            row = [chrom, p - 1, p, "m", valid, strand, p - 1, p, "255,0,0", valid, *rest]
            exp = (chrom, p - 1, sgn, m, valid - m, None)
        elif fmt == "modbam2bed":
            filt = draw(st.integers(0, 5))
            row = [
                chrom,
                p - 1,
                p,
                "5mC",
                min(cov, 1000),
                strand,
                p - 1,
                p,
                "0,0,0",
                cov + filt,
                f"{pct:.2f}",
                u,
                m,
                filt,
            ]
            exp = (chrom, p - 1, sgn, m, u, None)
        elif fmt == "cgmap":
            ctx = draw(st.sampled_from(["CG", "CG", "CHG"]))
            row = [chrom, "C" if strand == "+" else "G", p, ctx, ctx[:2], f"{m / cov if cov else 0:.2f}", m, cov]
            exp = (chrom, p - 1, sgn, m, u, None) if ctx == "CG" else None
        elif fmt == "allc":
            ctx = draw(st.sampled_from(["CGA", "CGT", "CAG"]))
            row = [chrom, p, strand, ctx, m, cov, 1]
            exp = (chrom, p - 1, sgn, m, u, None) if ctx.startswith("CG") else None
        elif fmt == "biscuit":
            cov = max(cov, 1)
            beta = draw(st.integers(0, 1000)) / 1000
            row = [chrom, p - 1, p, f"{beta:.3f}", cov]
            exp = (chrom, p - 1, 0, beta * cov, cov - beta * cov, None)
        elif fmt == "counts":
            row = [chrom, p, m, u]
            exp = (chrom, p - 1, 0, m, u, None)
        elif fmt == "dss":
            row = [chrom, p, cov, m]
            exp = (chrom, p - 1, 0, m, u, None)
        elif fmt == "nanopolish":
            k = draw(st.sampled_from([1, 1, 2, 3]))
            reads, meth = draw(st.integers(1, 40)), draw(st.integers(0, 40))
            meth = min(meth, reads)
            seq = "ATTTA" + "CGT" * k + "TTA"  # CpGs 3 apart, none in the flanks
            end = p - 1 + 3 * (k - 1)
            row = [chrom, p - 1, end, k, reads * k, meth * k, f"{meth / reads:.3f}", seq if k > 1 else seq]
            exp = [(chrom, p - 1 + 3 * i, 0, meth, reads - meth, None) for i in range(k)]
            out.append((row, exp))
            continue
        elif fmt == "bedgraph":
            level = draw(st.integers(0, 999)) / 1000  # a fraction: no value above 1
            row = [chrom, p - 1, p, f"{level:.3f}"]
            exp = (chrom, p - 1, 0, None, None, level)
        else:  # tsv
            row = [chrom, p - 1, m, u]
            exp = (chrom, p - 1, 0, m, u, None)
        out.append((row, [exp] if exp else []))
    return out


HEADERS = {
    "methylkit": "chrBase chr base strand coverage freqC freqT".split(),
    "counts": "chr pos M U".split(),
    "dss": "chr pos N X".split(),
    "nanopolish": NANOPOLISH_HEADER,
    "tsv": "chrom start count_m count_u".split(),
}
FMTS = [
    "bismark-cov",
    "bismark-cpg-report",
    "methyldackel",
    "methylkit",
    "bedmethyl",
    "modkit",
    "modbam2bed",
    "cgmap",
    "allc",
    "biscuit",
    "counts",
    "dss",
    "nanopolish",
    "bedgraph",
    "tsv",
]


@st.composite
def calls_files(draw, fmt=None):
    """(fmt, bytes of a file, expectations in file order, number of leading lines)."""
    fmt = fmt or draw(st.sampled_from(FMTS))
    rows = draw(rows_of(fmt))
    sep = draw(st.sampled_from(["\t", " ", "  ", " \t"]))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    quote = draw(st.booleans())
    trailing = draw(st.booleans()) and sep == "\t"
    lines = []
    if fmt == "methyldackel" or (fmt == "bedgraph" and draw(st.booleans())):
        lines.append('track type="bedGraph" description="CpG methylation levels"')
    if fmt in HEADERS:
        lines.append(sep.join(HEADERS[fmt]))
    elif fmt == "modkit" and draw(st.booleans()):
        lines.append(sep.join(MODKIT_HEADER))
    for row, _ in rows:
        f = [str(x) for x in row]
        if quote:
            f[0] = f'"{f[0]}"'
        lines.append(sep.join(f) + ("\t" if trailing else ""))
    text = eol.join(lines) + (eol if draw(st.booleans()) else "")
    data = (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + text.encode()
    if draw(st.booleans()):
        data = gzip.compress(data, 1)
    expect = [e for _, es in rows for e in es]
    return fmt, data, expect


# --- the independent reading: the producers' documented columns, parsed here -------------------------------------

NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")  # plain ASCII decimals, as a C parser reads them
C_MODS = {"m", "h", "f", "c", "C"}
CHEBI = {"27551": "m", "76792": "h", "76794": "f", "76793": "c"}


class Refuse(Exception):
    """The file must be refused."""


def num(text, lo=0.0, hi=None):
    if not NUMBER.fullmatch(text):
        raise Refuse(text)
    v = float(text)
    if not math.isfinite(v) or v < lo or (hi is not None and v > hi):
        raise Refuse(text)
    return v


def pos_of(text, one_based):
    v = num(text, 1.0 if one_based else 0.0, 2.0**40)
    if v != int(v):
        raise Refuse(text)
    return int(v) - (1 if one_based else 0)


def strand_of(text, plus=("+",), minus=("-",), unknown=(".",)):
    if text in plus:
        return 1
    if text in minus:
        return -1
    if text in unknown:
        return 0
    raise Refuse(text)


def floatable(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def split_lines(data):
    """(header fields or None, data rows as field lists), as documented: UTF-8 (bad bytes replaced), a byte order
    mark, CRLF, track/#/blank lines, leading header lines (2nd and 3rd fields not numbers), whitespace-separated
    fields with their quotes removed."""
    text = plain(data).decode("utf-8", "replace").lstrip("\ufeff")
    lines = text.replace("\r\n", "\n").split("\n")
    header, k = None, 0
    while k < len(lines):
        ln = lines[k]
        f = [x.strip("\"'") for x in ln.split()]
        comment = not ln.strip() or ln.lstrip().startswith(("track", "browser", "#"))
        if comment or (len(f) >= 2 and not floatable(f[1]) and not floatable(f[2] if len(f) > 2 else "x")):
            blank_or_track = not ln.strip() or ln.lstrip().startswith(("track", "browser"))
            header = None if blank_or_track else [x.lower().lstrip("#") for x in f]  # the last leading line's
            k += 1
            continue
        if header is not None and lines[k - 1].lstrip().startswith("#") and len(header) != len(ln.split()):
            header = None  # a '#' line names the columns only when it has as many fields as the data
        break
    rows, head = [], 0
    for i, ln in enumerate(lines[k:], k):
        if not ln.strip():
            continue
        f = [x.strip("\"'") for x in ln.split()]
        if f[0].startswith(("#", "track", "browser")):
            continue
        rows.append(f)
        head += i < 50  # the lines whose widths decide the table's (the first 50)
    return header, rows, head


NEEDS = {  # the columns each format reads (at least)
    "bismark-cov": 6,
    "bismark-merged-cov": 6,
    "bismark-cpg-report": 6,
    "bismark-cpg-report-zero-based": 6,
    "methyldackel": 6,
    "methylkit": 6,
    "bedmethyl": 11,
    "modkit": 12,
    "modbam2bed": 13,
    "cgmap": 8,
    "allc": 6,
    "biscuit": 5,
    "counts": 4,
    "dss": 4,
    "nanopolish": 7,
    "bedgraph": 4,
    "tsv": 2,
}


def reference(fmt, data):
    """What the producer's documentation says *data* holds, read as *fmt*: [(chrom, pos0, strand, m, u, level)],
    or :class:`Refuse`."""
    header, rows, head = split_lines(data)
    if not rows:
        raise Refuse("no calls")
    widths = [len(r) for r in rows[: max(head, 1)]]  # the usual width of the first lines, not below the first's
    usual = max(set(widths), key=lambda w: (widths.count(w), w))
    width = len(header) if fmt == "tsv" else max(NEEDS[fmt], usual, widths[0])
    out, codes = [], []
    for r in rows:
        if len(r) > width:
            raise Refuse("too many fields")
        r = r + [""] * (width - len(r))  # missing trailing fields: refused where read
        c = r[1] if fmt == "methylkit" else r[0]
        if c == "":
            raise Refuse("empty chromosome name")
        if fmt in ("bismark-cov", "bismark-merged-cov"):
            p = pos_of(r[1], True)
            if fmt == "bismark-merged-cov" and pos_of(r[2], True) != p + 1:
                raise Refuse("end")
            num(r[3], 0, 100)
            out.append((c, p, 0, num(r[4]), num(r[5]), None))
        elif fmt in ("bismark-cpg-report", "bismark-cpg-report-zero-based"):
            p, s = pos_of(r[1], fmt == "bismark-cpg-report"), strand_of(r[2], unknown=())
            m, u = num(r[3]), num(r[4])
            if r[5] not in ("CG", "CpG", "CHG", "CHH", "CHN", "CNN"):
                raise Refuse("context")
            if r[5] in ("CG", "CpG"):
                out.append((c, p, s, m, u, None))
        elif fmt == "methyldackel":
            p = pos_of(r[1], False)
            if pos_of(r[2], False) <= p:
                raise Refuse("end")
            num(r[3], 0, 100)
            out.append((c, p, 0, num(r[4]), num(r[5]), None))
        elif fmt == "methylkit":
            p = pos_of(r[2], True)
            s = strand_of(r[3], ("F", "+"), ("R", "-"), ())
            cov, freq = num(r[4]), num(r[5], 0, 100)
            out.append((r[1], p, s, cov * freq / 100, cov - cov * freq / 100, None))
            codes.append(None)
        elif fmt == "bedmethyl":
            p, s = pos_of(r[1], False), strand_of(r[5])
            cov, pct = num(r[9]), num(r[10], 0, 100)
            out.append((c, p, s, cov * pct / 100, cov - cov * pct / 100, None))
            codes.append(r[3])
        elif fmt == "modkit":
            p, s = pos_of(r[1], False), strand_of(r[5])
            valid, m = num(r[9]), num(r[11])
            if m > valid:
                raise Refuse("Nmod")
            out.append((c, p, s, m, valid - m, None))
            code = r[3].split(",")[0]
            codes.append(CHEBI.get(code, code))
        elif fmt == "modbam2bed":
            p, s = pos_of(r[1], False), strand_of(r[5])
            out.append((c, p, s, num(r[12]), num(r[11]), None))
        elif fmt == "cgmap":
            p, s = pos_of(r[2], True), strand_of(r[1], ("C",), ("G",), ())
            m, total = num(r[6]), num(r[7])
            if total < m or r[3] not in ("CG", "CHG", "CHH"):
                raise Refuse("total or context")
            if r[3] == "CG":
                out.append((c, p, s, m, total - m, None))
        elif fmt == "allc":
            p, s = pos_of(r[1], True), strand_of(r[2])
            m, cov = num(r[4]), num(r[5])
            if cov < m or not re.fullmatch(r"C[ACGTN]{1,2}", r[3]):
                raise Refuse("cov or context")
            if r[3].startswith("CG"):
                out.append((c, p, s, m, cov - m, None))
        elif fmt == "biscuit":
            p = pos_of(r[1], False)
            if pos_of(r[2], False) <= p:
                raise Refuse("end")
            cov = num(r[-1])
            if r[-2] != ".":
                beta = num(r[-2], 0, 1)
                out.append((c, p, 0, beta * cov, cov - beta * cov, None))
            elif not NUMBER.fullmatch(r[-1]):
                raise Refuse("cov")
        elif fmt in ("counts", "dss"):
            p = pos_of(r[1], True)
            a, b = num(r[2]), num(r[3])
            if fmt == "dss":
                if b > a:
                    raise Refuse("X > N")
                out.append((c, p, 0, b, a - b, None))
            elif header and header[3:4] in (["cov"], ["coverage"], ["total"]):
                if a > b:
                    raise Refuse("M > Cov")
                out.append((c, p, 0, a, b - a, None))
            else:
                out.append((c, p, 0, a, b, None))
        elif fmt == "nanopolish":
            p = pos_of(r[1], False)
            end, k = pos_of(r[2], False), num(r[3], 1)
            called, meth, freq = num(r[4]), num(r[5]), num(r[6], 0, 1)
            if end < p or meth > called or called % k or meth % k or (called and abs(freq - meth / called) > 0.0006):
                raise Refuse("group")
            at = [i for i in range(len(r[7]) - 1) if r[7][i : i + 2].upper() == "CG"] if k > 1 else [0]
            if len(at) != k or p + at[-1] - at[0] != end:
                raise Refuse("sequence")
            out += [(c, p + a - at[0], 0, meth / k, (called - meth) / k, None) for a in at]
        elif fmt == "bedgraph":
            p = pos_of(r[1], False)
            if pos_of(r[2], False) <= p:
                raise Refuse("end")
            out.append((c, p, 0, None, None, num(r[3], 0, 100)))
        else:  # tsv: chrom, start, count_m, count_u by name
            col = {h: i for i, h in enumerate(header)}
            p = pos_of(r[col["start"]], False)
            m, u = num(r[col["count_m"]]), num(r[col["count_u"]])
            out.append((r[col["chrom"]], p, 0, m, u, None))
    if fmt == "bedgraph" and out and max(e[5] for e in out) > 1:
        out = [(*e[:5], e[5] / 100) for e in out]
    if fmt == "counts" and not header and all(e[3] >= e[4] for e in out):
        raise Refuse("dss or counts")
    if fmt == "modkit":
        seen = set(codes)
        chosen = "m" if "m" in seen else "C" if "C" in seen else None
        if chosen is None:
            cyt = seen & C_MODS
            if len(cyt) != 1:
                raise Refuse("codes")
            chosen = cyt.pop()
        out = [e for e, k in zip(out, codes) if k == chosen]
    if fmt == "bedmethyl":
        modkit_like = {k for k in codes if re.fullmatch(r"([A-Za-z]|\d{4,6})(,[ACGTNRYSWKMBDHV]+,\d+)?", k)}
        if len(modkit_like) > 1:
            raise Refuse("modkit codes")
    return out  # maybe empty: every row of another context (the encode then says no site is left)


def read(data, fmt=None, chunk=None):
    """read_calls on *data* written to a file; the Calls, or the MrcnnError (anything else fails the test)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "calls.txt")
        with open(path, "wb") as fh:
            fh.write(data)
        with mock.patch.object(tables, "CHUNK_ROWS", chunk or tables.CHUNK_ROWS):
            try:
                return read_calls(path, fmt)
            except MrcnnError as exc:
                assert "\n" not in str(exc)  # one line
                return exc


def plain(data):
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def assert_matches(calls, expect):
    """The Calls row by row against an independent reading."""
    names = [calls.chrom_names[k] for k in calls.chrom_index]
    assert names == [e[0] for e in expect]
    assert calls.pos.tolist() == [e[1] for e in expect]
    assert calls.strand.tolist() == [e[2] for e in expect]
    if calls.has_counts:
        np.testing.assert_allclose(calls.count_m, [e[3] for e in expect], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(calls.count_u, [e[4] for e in expect], rtol=1e-6, atol=1e-6)
    else:
        np.testing.assert_allclose(calls.level, [e[5] for e in expect], rtol=1e-9, atol=1e-9)


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x[:3] == y[:3]
        for v, w in zip(x[3:], y[3:]):
            assert (v is None and w is None) or v == pytest.approx(w, rel=1e-6, abs=1e-6), (x, y)


def check_against_reference(data, chunk=None, fmt=None):
    """Read *data* (detected, or *fmt* forced): a refusal is one line; a reading is the independent reading of the
    format it was read as, and a file that reading refuses must not be read. Returns the Calls or the error."""
    got = read(data, fmt, chunk)
    if isinstance(got, MrcnnError):
        return got
    try:
        expect = reference(got.format, data)
    except Refuse as why:
        raise AssertionError(f"read as {got.format} although its documented reading refuses it ({why})") from None
    assert_matches(got, expect)
    return got


# --- properties ----------------------------------------------------------------------------------------------


def check_valid_file(case, chunk):
    fmt, data, expect = case
    try:  # the two independent readings (from the rows drawn, from the text written) agree
        assert_same(reference(fmt, data), expect)
    except Refuse as why:
        assert not expect or str(why) == "dss or counts", why
    got = check_against_reference(data, chunk)
    if isinstance(got, MrcnnError):
        # refused: only where the content alone cannot tell (headerless look-alikes) or nothing is left
        assert not expect or "dss or counts" in str(got), (fmt, str(got))
        return
    assert got.format == fmt, (fmt, got.format)
    assert_matches(got, expect)
    forced = check_against_reference(data, chunk, fmt)  # the same format forced: the same reading
    assert not isinstance(forced, MrcnnError), str(forced)


@FAST
@given(calls_files(), st.integers(1, 7))
def test_every_format_read_as_documented(case, chunk):
    check_valid_file(case, chunk)


@pytest.mark.slow
@SLOW
@given(calls_files(), st.integers(1, 50))
def test_every_format_read_as_documented_long(case, chunk):
    check_valid_file(case, chunk)


def check_truncated(case, cut):
    """Cut at any byte (plain or gzip): never a traceback, never a reading other than the documented one."""
    _, data, _ = case
    text = plain(data)
    head = text[: min(cut, len(text))]
    check_against_reference(head)
    got = read(gzip.compress(text, 1)[: max(cut, 20)])  # a truncated gzip member: refused, or the whole file
    assert isinstance(got, MrcnnError) or cut >= len(gzip.compress(text, 1))


@FAST
@given(calls_files(), st.integers(0, 4000))
def test_truncation(case, cut):
    check_truncated(case, cut)


@pytest.mark.slow
@SLOW
@given(calls_files(), st.integers(0, 4000))
def test_truncation_long(case, cut):
    check_truncated(case, cut)


HOSTILE = st.sampled_from(
    [
        "1e400",
        "-1",
        "nan",
        "inf",
        "-inf",
        "NA",
        "",
        "1.5",
        "99999999999999999999999",
        "0x1F",
        "1_000",
        "\u0661\u0662",  # Arabic-Indic digits: float() takes them, a table parser does not
        '"',
        "\u00e9",
        "\x00",
        "chr1",
        "+",
        "CG",
        "m",
        "h",
        "1e-300",
        "9" * 400,
        "x" * 2000,
        "4294967297",
        "1e15",
        "2.",
        ".5",
    ]
)
LINES = st.sampled_from(
    [
        "",
        "   ",
        "# a comment",
        "track name=x",
        "browser position chr1",
        "chrom\tstart\tend",
        "\t",
        "DUPLICATE",
        "DELETE",
    ]
)


def check_mutated(case, row, col, value, sep):
    """A field replaced by a hostile value: never a traceback, never a reading other than the documented one."""
    _, data, _ = case
    lines = plain(data).decode("utf-8").lstrip("\ufeff").split("\n")
    i = row % len(lines)
    f = lines[i].split()
    if not f:
        return
    f[col % len(f)] = value
    lines[i] = sep.join(f)
    check_against_reference("\n".join(lines).encode("utf-8", "surrogatepass"))


@FAST
@given(calls_files(), st.integers(0, 100), st.integers(0, 20), HOSTILE, st.sampled_from(["\t", " "]))
def test_hostile_values(case, row, col, value, sep):
    check_mutated(case, row, col, value, sep)


def check_lines(case, row, line):
    """A line inserted (blank, comment, track, a header in the middle), duplicated or deleted: never a traceback,
    never a reading other than the documented one."""
    _, data, _ = case
    lines = plain(data).decode("utf-8").lstrip("\ufeff").split("\n")
    i = row % len(lines)
    if line == "DUPLICATE":
        lines.insert(i, lines[i])
    elif line == "DELETE":
        del lines[i]
    else:
        lines.insert(i, line)
    check_against_reference("\n".join(lines).encode())


@FAST
@given(calls_files(), st.integers(0, 100), LINES)
def test_lines_inserted_or_lost(case, row, line):
    check_lines(case, row, line)


@pytest.mark.slow
@SLOW
@given(calls_files(), st.integers(0, 100), LINES)
def test_lines_inserted_or_lost_long(case, row, line):
    check_lines(case, row, line)


@pytest.mark.slow
@SLOW
@given(calls_files(), st.integers(0, 100), st.integers(0, 20), HOSTILE, st.sampled_from(["\t", " "]))
def test_hostile_values_long(case, row, col, value, sep):
    check_mutated(case, row, col, value, sep)


@FAST
@given(st.binary(max_size=400), st.booleans())
def test_random_bytes_never_a_traceback(data, gz):
    check_against_reference(gzip.compress(data) if gz else data)


@pytest.mark.slow
@SLOW
@given(st.binary(max_size=2000), st.booleans())
def test_random_bytes_never_a_traceback_long(data, gz):
    check_against_reference(gzip.compress(data) if gz else data)


@FAST
@given(calls_files(), st.sampled_from(["latin-1", "utf-16", "cp1252"]))
def test_other_encodings(case, encoding):
    # a file re-encoded with a non-ASCII chromosome name: read as UTF-8 (the byte replaced) or refused (UTF-16)
    _, data, _ = case
    text = plain(data).decode("utf-8").lstrip("\ufeff").replace("chrX", "chr\u00c9")
    check_against_reference(text.encode(encoding, "replace"))
