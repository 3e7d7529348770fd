"""The predictions file, both ways: TSV (docs/FORMATS.md §5), bedGraph and bigWig written by mrcnn-predict,
TSV read by mrcnn-eval. The one home of its columns, their order, the header and the number format.

TSV: a header line ``#chrom start end strand prediction [y_true coverage cgi]``, then one row per site:
0-based ``start``, ``end = start + 1``, ``strand`` ``+``/``-``/``.``, levels rounded to :data:`DECIMALS`
decimals and written in NumPy's shortest form, a missing label as ``NA``. A dataset of several samples gives
the long table ``#chrom start end strand sample prediction y_true coverage [cgi]``: one row per (site, sample).
bedGraph: ``chrom start end prediction`` without header. bigWig: the bedGraph's values (pybigtools); several
samples: one of each per sample in a directory (:class:`SampleTracks`).
"""

import os
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pybigtools

from mrcnn_tools.errors import InputFormatError, UsageError
from mrcnn_tools.io import atomic_path, check_readable, open_text

DECIMALS = 6
OUTPUT_FORMATS = ("tsv", "bedgraph")
COLUMNS = ("chrom", "start", "end", "strand", "prediction")
SAMPLE = "sample"  # several samples: after strand, before prediction
EXTRA_COLUMNS = ("y_true", "coverage", "cgi")  # in this order, when the data has them
REQUIRED = ("chrom", "start", "prediction", "y_true")  # what mrcnn-eval needs
NUMERIC = ("start", "prediction", "y_true", "coverage", "cgi")


def columns(extra_cols=(), samples=False):
    """The TSV columns, in order, for the extra columns *extra_cols* (and the ``sample`` column)."""
    base = (*COLUMNS[:4], SAMPLE, COLUMNS[4]) if samples else COLUMNS
    return [*base, *[c for c in EXTRA_COLUMNS if c in extra_cols]]


def header(extra_cols, samples=False):
    """The TSV header line (with its newline) for the extra columns *extra_cols* (and the ``sample`` column)."""
    return "#" + "\t".join(columns(extra_cols, samples)) + "\n"


def _frame(fmt, extra, chrom, pos, strand, pred, y=None, coverage=None, cgi=None, sample=None):

    start = np.asarray(pos, np.int64)
    cols = {"chrom": np.broadcast_to(np.asarray(chrom), start.shape), "start": start, "end": start + 1}
    if fmt == "tsv":
        cols["strand"] = strand
        if sample is not None:
            cols[SAMPLE] = sample
    # rounded float64 is written by NumPy's shortest repr, in C; a float_format would format in Python
    cols["prediction"] = np.round(np.asarray(pred, np.float64), DECIMALS)
    if fmt == "tsv":
        for name, values in (("y_true", y), ("coverage", coverage), ("cgi", cgi)):
            if name in extra:
                cols[name] = np.round(np.asarray(values, np.float64), DECIMALS) if name == "y_true" else values
    return pd.DataFrame(cols)


class PredictionWriter:
    """Writes prediction rows chunk by chunk (vectorised) to a text file, and a bedGraph copy for a bigWig.

    Rows are formatted and written by a background thread while the model predicts the next chunk
    (TensorFlow releases the GIL); the order of rows is kept.

    Parameters
    ----------
    fh : text file
        Open output (a file, stdout).
    fmt : {'tsv', 'bedgraph'}
    extra_cols : sequence of str
        Extra TSV columns of :data:`EXTRA_COLUMNS` to write.
    bigwig_fh : text file, optional
        Receives ``chrom start end prediction`` rows, to become a bigWig with :func:`write_bigwig`.
    samples : sequence of str, optional
        The names of several samples: the TSV's ``sample`` column.
    tracks : SampleTracks, optional
        Also receives each sample's rows, for its own bedGraph and bigWig.
    """

    def __init__(self, fh, fmt, extra_cols=(), bigwig_fh=None, samples=None, tracks=None):
        self.fh, self.fmt, self.extra, self.bw = fh, fmt, tuple(extra_cols), bigwig_fh
        self.samples = None if samples is None else np.asarray(samples, str)
        self.tracks = tracks
        self.rows = 0
        self._pool = ThreadPoolExecutor(1)
        self._pending = None
        if fmt == "tsv" and fh is not None:
            fh.write(header(self.extra, samples is not None))

    def write(self, chrom, pos, strand, pred, y=None, coverage=None, cgi=None, sample=None):
        """Queue one chunk: *chrom* str or str (k,), *pos* int (k,) 0-based, *strand* str (k,) ('+', '-',
        '.'), *pred* float (k,), and for the extra columns *y* float (k,) (NaN = NA), *coverage*, *cgi* int (k,);
        with several samples *sample* int (k,), each row's sample (an index into *samples*).
        """
        self.flush()
        self.rows += len(pos)
        self._pending = self._pool.submit(self._write, chrom, pos, strand, pred, y, coverage, cgi, sample)

    def flush(self):
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()  # re-raises an error of the writer thread here

    def close(self):
        self.flush()
        self._pool.shutdown()

    def _write(self, chrom, pos, strand, pred, y, coverage, cgi, sample):
        if len(pos) == 0:
            return
        if self.tracks is not None:
            self.tracks.write(chrom, pos, pred, sample)
        if self.fh is None:
            return
        names = None if sample is None or self.samples is None else self.samples[sample]
        frame = _frame(self.fmt, self.extra, chrom, pos, strand, pred, y, coverage, cgi, names)
        frame.to_csv(self.fh, sep="\t", header=False, index=False, na_rep="NA")
        if self.bw is not None:
            # a bigWig has no missing value: a site without a prediction (the neighbour baseline) is left out
            frame[["chrom", "start", "end", "prediction"]].dropna().to_csv(self.bw, sep="\t", header=False, index=False)


class SampleTracks:
    """One bedGraph and one bigWig per sample in a directory: ``DIR/SAMPLE.bedGraph`` and ``DIR/SAMPLE.bw``.

    Rows are kept in temporary bedGraphs until :meth:`close` writes the files (each atomically).

    Parameters
    ----------
    out_dir : str
    names : sequence of str
        The samples, each the stem of its files.
    stack : contextlib.ExitStack
        Owns the temporary files.

    Raises
    ------
    UsageError
        A sample name that cannot name a file.
    """

    def __init__(self, out_dir, names, stack):
        bad = [n for n in names if not n or os.sep in n or n in (".", "..") or "\0" in n]
        if bad:
            raise UsageError(
                f"sample name '{bad[0]}' cannot name a file in --out-dir {out_dir}; rename the samples "
                "(mrcnn-encode --sample-names)"
            )
        self.out_dir, self.names = out_dir, list(names)
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        self._paths = [os.path.join(tmp, f"{i}.bedGraph") for i in range(len(self.names))]
        self._fhs = [stack.enter_context(open(p, "w")) for p in self._paths]
        self.files = []

    def write(self, chrom, pos, pred, sample):
        """Rows *chrom* str (k,), *pos* int (k,), *pred* float (k,) of the samples *sample* int (k,) (sorted
        by chromosome and position within each sample); a row without a prediction (NaN) is left out."""
        start = np.asarray(pos, np.int64)
        frame = pd.DataFrame(
            {
                "chrom": np.broadcast_to(np.asarray(chrom), start.shape),
                "start": start,
                "end": start + 1,
                "prediction": np.round(np.asarray(pred, np.float64), DECIMALS),
            }
        )
        sample = np.zeros(len(start), np.int64) if sample is None else np.asarray(sample)
        for s in np.unique(sample):
            frame[sample == s].dropna().to_csv(self._fhs[s], sep="\t", header=False, index=False)

    def close(self, sizes):
        """Write every sample's bedGraph and bigWig (chromosome sizes *sizes*: name -> length)."""
        for name, fh, tmp in zip(self.names, self._fhs, self._paths):
            fh.close()
            bedgraph = os.path.join(self.out_dir, f"{name}.bedGraph")
            with atomic_path(bedgraph) as part:
                shutil.copyfile(tmp, part)
            bw = os.path.join(self.out_dir, f"{name}.bw")
            write_bigwig(tmp, bw, sizes)
            self.files += [bedgraph, bw]


def write_bigwig(bedgraph_path, bigwig_path, sizes):
    """Convert a bedGraph (sorted within each chromosome) to a bigWig, atomically.

    Parameters
    ----------
    bedgraph_path, bigwig_path : str
    sizes : dict of str -> int
        Chromosome lengths, for the bigWig header.
    """

    def records():
        with open(bedgraph_path) as fh:
            for line in fh:
                c, s, e, v = line.split("\t")
                yield c, int(s), int(e), float(v)

    with atomic_path(bigwig_path, suffix=".bw") as tmp:
        os.remove(tmp)  # pybigtools creates the file itself
        pybigtools.open(tmp, "w").write(sizes, records())


def read_predictions(path):
    """Read a predictions TSV.

    Parameters
    ----------
    path : str
        File (plain or gzip) or ``-`` for stdin.

    Returns
    -------
    pandas.DataFrame
        The file's columns: ``chrom`` str, ``start`` and the other numeric columns as numbers (NA = NaN).

    Raises
    ------
    InputFormatError
        Empty file, a required column missing (:data:`REQUIRED`), a row that does not parse or a value that
        is not a number (with its line number).
    """

    check_readable(path, "predictions file")
    fh = open_text(path)
    try:
        first = fh.readline()
        if not first.strip():
            raise InputFormatError("the file is empty; give the output of mrcnn-predict", path)
        cols = [c.strip() for c in first.lstrip("#").rstrip("\n").split("\t")]
        missing = [c for c in REQUIRED if c not in cols]
        if missing:
            hint = (
                " (predictions made without labels: predict on a dataset encoded with --calls)"
                if "y_true" in missing and "prediction" in cols
                else ""
            )
            raise InputFormatError(f"column(s) {', '.join(missing)} missing from the header{hint}", path, 1)
        try:
            df = pd.read_csv(
                fh,
                sep="\t",
                header=None,
                names=cols,
                dtype={"chrom": str, SAMPLE: str},
                na_values={c: ["NA"] for c in cols if c not in ("chrom", SAMPLE)},  # a sample may be named NA
                keep_default_na=False,
            )
        except pd.errors.ParserError as exc:
            raise InputFormatError(f"cannot parse: {exc}", path) from None
        except pd.errors.EmptyDataError:
            df = pd.DataFrame(columns=cols)
    finally:
        if fh is not sys.stdin:
            fh.close()
    for c in NUMERIC:
        if c in df:
            values = pd.to_numeric(df[c], errors="coerce")
            bad = np.flatnonzero(values.isna().to_numpy() & df[c].notna().to_numpy())
            if len(bad):
                raise InputFormatError(f"column {c}: '{df[c].iloc[bad[0]]}' is not a number", path, int(bad[0]) + 2)
            df[c] = values
    return df
