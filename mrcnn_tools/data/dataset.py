"""The dataset NPZ (docs/FORMATS.md §3): windows as uint8 codes, labels and coordinates."""

import json
import os
import zipfile
from dataclasses import dataclass, field

import numpy as np

from mrcnn_tools import __version__
from mrcnn_tools.data.schema import (
    ARRAYS,
    CONTEXT_ARRAYS,
    CONTEXT_DTYPES,
    SAMPLES,
    SCHEMA,
    check_context,
    check_samples,
)
from mrcnn_tools.encoding import ENCODING_NAME
from mrcnn_tools.errors import DatasetError
from mrcnn_tools.genome.codes import check_dataset_genome, chrom_runs
from mrcnn_tools.io import check_readable, require_regular_file, save_npz


@dataclass
class Dataset:
    """Windows and labels of CpG sites.

    Attributes
    ----------
    seq : uint8 (N, W) base codes (T=0, C=1, G=2, A=3, N=4)
    y : float32 (N,) methylation level 0..1, NaN = no label; (N, S) with several samples, NaN = not observed
    coverage : int32 (N,) reads (methylated + unmethylated), 0 when unknown; (N, S) with several samples,
        0 = not observed
    chrom : str (N,)
    pos : int64 (N,) 0-based position of the site's C on the + strand ('-' sites: the G)
    strand : str (N,) '+', '-' or '.' (strands merged; window read on +)
    cgi : int8 (N,) 1 CpG island, 0 not, -1 unknown
    meta : dict (genome, genome_checksum, flank, encoding, inputs, version, ``context`` K, ...)
    context_level : float32 (N, 2K) or None, levels of the K observed neighbours on each side (NaN = missing)
    context_dist : int32 (N, 2K) or None, neighbour position minus site position (0 = missing)
    context_coverage : int32 (N, 2K) or None, neighbour reads (0 = missing or unknown)
        With several samples the three context arrays are (N, S, 2K): each sample's own neighbours.
    samples : str (S,) or None, the sample names of a multi-sample dataset (None: one sample, 1-D ``y``)
    """

    seq: np.ndarray
    y: np.ndarray
    coverage: np.ndarray
    chrom: np.ndarray
    pos: np.ndarray
    strand: np.ndarray
    cgi: np.ndarray
    meta: dict = field(default_factory=dict)
    context_level: np.ndarray = None
    context_dist: np.ndarray = None
    context_coverage: np.ndarray = None
    samples: np.ndarray = None
    genome_codes = None  # GenomeCodes the windows of a sites-only dataset are cut from (use_genome)
    _sites = None
    _chrom_codes = None

    def __len__(self):
        return len(self.y)

    @property
    def flank(self):
        return int(self.meta.get("flank", self.seq.shape[1] // 2))

    @property
    def context_k(self):
        """Observed neighbours on each side (``--context K``), or None for a dataset without context."""
        return None if self.context_dist is None else int(self.context_dist.shape[-1]) // 2

    @property
    def n_samples(self):
        """S, the number of samples (1 for a one-sample dataset, whose ``y`` is 1-D)."""
        return 1 if self.samples is None else len(self.samples)

    @property
    def sample_names(self):
        """The sample names as a list of str; for one sample ``[meta['sample']]`` or ``['sample']``."""
        if self.samples is None:
            return [str(self.meta.get("sample", "sample"))]
        return [str(s) for s in self.samples]

    def context(self, index=None):
        """{name: array (n, 2K)} of the context arrays, of the rows *index* (all when None)."""
        return {k: (getattr(self, k) if index is None else getattr(self, k)[index]) for k in CONTEXT_ARRAYS}

    @property
    def has_windows(self):
        """False for a sites-only dataset (``mrcnn-encode --no-windows``): windows come from the genome."""
        return self.seq.shape[1] > 0 or (len(self) == 0 and self.meta.get("windows", True) is not False)

    @property
    def window(self):
        """Window width the sites are read with: stored, or ``2*flank`` for a sites-only dataset."""
        return int(self.seq.shape[1]) if self.has_windows else 2 * self.flank

    def subset(self, index):
        """A new Dataset with the rows selected by a boolean mask or an index array (copied)."""
        arrays = {k: getattr(self, k)[index] for k in _present(self)}
        out = Dataset(**arrays, meta=dict(self.meta), samples=self.samples)
        out.genome_codes = getattr(self, "genome_codes", None)
        return out

    def rows(self, index):
        """The rows *index* (an index array or boolean mask) as a :class:`Rows` view: nothing is copied."""
        return Rows(self, _as_index(index, len(self)))

    def use_genome(self, codes, source="dataset", fasta=None):
        """Cut this dataset's windows from *codes* (a :class:`~mrcnn_tools.genome.codes.GenomeCodes`).

        Raises
        ------
        GenomeMismatchError
            When the dataset was encoded on another genome.
        """

        check_dataset_genome(self.meta, codes.checksum, source, fasta or codes.fasta)
        self.genome_codes = codes
        self._sites = None
        return self

    def site_windows(self):
        """Compact per-site offsets into the genome codes (made once, shared by the views of this dataset)."""
        if getattr(self, "_sites", None) is None:
            codes = getattr(self, "genome_codes", None)
            if codes is None:
                raise DatasetError(
                    f"{self.meta.get('source', 'dataset')}: the dataset holds sites only (mrcnn-encode --no-windows); "
                    "give --genome FASTA, the genome it was encoded with, to cut the windows"
                )
            self._sites = codes.sites(self.chrom, self.pos, self.strand, self.meta.get("source", "dataset"))
        return self._sites

    def chrom_codes(self):
        """(names, int16 code per site): the chromosomes as small integers, made once.

        From the genome offsets when they are made (:meth:`site_windows`), else from the names in one pass.
        """
        if self._sites is not None:
            return self._sites.names, self._sites.chrom_id
        if getattr(self, "_chrom_codes", None) is None:
            self._chrom_codes = chrom_runs(self.chrom)
        return self._chrom_codes

    def drop_site_details(self):
        """Free what training does not read from a sites-only dataset: chromosome names, strands, coverage, islands.

        The offsets of the sites into the genome codes (:meth:`site_windows`) are made first and stand in
        for the chromosome names; at genome scale the names alone are 20 bytes a site. Datasets with stored
        windows are left as they are.
        """
        if not self.has_windows:
            self.site_windows()
            self.chrom = self.strand = self.coverage = self.cgi = None
            self._chrom_codes = None
        return self

    def window_source(self):
        """(source, rows): ``source[rows]`` gives stored windows; for sites-only data a
        :class:`~mrcnn_tools.genome.codes.SiteWindows` whose ``take(rows, flank)`` cuts them."""
        return (self.seq if self.has_windows else self.site_windows()), None

    def windows(self, index=None):
        """uint8 (n, W) windows of the rows *index* (all when None): stored ones, or cut from the genome."""
        return take_windows(*self.window_source(), self.flank, index)

    @classmethod
    def empty(cls, flank, meta=None):
        return cls(
            seq=np.empty((0, 2 * flank), np.uint8),
            y=np.empty(0, np.float32),
            coverage=np.empty(0, np.int32),
            chrom=np.empty(0, "<U1"),
            pos=np.empty(0, np.int64),
            strand=np.empty(0, "<U1"),
            cgi=np.empty(0, np.int8),
            meta=dict(meta or {}, flank=flank),
        )

    @classmethod
    def concatenate(cls, parts, meta=None):
        parts = list(parts)
        if not parts:
            raise DatasetError("no dataset to concatenate")
        if any(p.context_k != parts[0].context_k for p in parts):
            raise DatasetError("datasets joined must all have the same --context (or none)")
        if any(p.sample_names != parts[0].sample_names for p in parts):
            raise DatasetError("datasets joined must all have the same samples, in the same order")
        keys = _present(parts[0])
        arrays = {k: np.concatenate([getattr(p, k) for p in parts]) for k in keys}
        return cls(**arrays, meta=dict(meta if meta is not None else parts[0].meta), samples=parts[0].samples)

    def arrays(self):
        context = {k: getattr(self, k).astype(CONTEXT_DTYPES[k], copy=False) for k in _present(self)[len(ARRAYS) :]}
        if self.samples is not None:
            context[SAMPLES] = np.asarray(self.samples).astype(str)
        return {
            **context,
            "schema": np.array(SCHEMA),
            "seq": np.ascontiguousarray(self.seq, dtype=np.uint8),
            # copy=False: arrays of the right type are written as they are, not copied (genome-scale datasets)
            "y": self.y.astype(np.float32, copy=False),
            "coverage": self.coverage.astype(np.int32, copy=False),
            "chrom": self.chrom.astype(str, copy=False),
            "pos": self.pos.astype(np.int64, copy=False),
            "strand": self.strand.astype(str, copy=False),
            "cgi": self.cgi.astype(np.int8, copy=False),
            "meta": np.array(json.dumps(self.meta, sort_keys=True)),
        }

    def save(self, path):
        """Write one compressed NPZ atomically."""
        return save_npz(path, self.arrays())

    def save_shards(self, prefix, shard_size):
        """Write ``PREFIX.000.npz``, ``PREFIX.001.npz``, ... of at most *shard_size* sites each."""
        paths = []
        n = len(self)
        nshards = max(1, -(-n // shard_size))
        for i in range(nshards):
            part = self.subset(slice(i * shard_size, (i + 1) * shard_size))
            part.meta = dict(self.meta, shard=i, shards=nshards)
            paths.append(part.save(f"{prefix}.{i:03d}.npz"))
        return paths


def _present(data):
    """Names of the arrays *data* holds: ARRAYS, and CONTEXT_ARRAYS when it has a context."""
    return ARRAYS + (CONTEXT_ARRAYS if data.context_dist is not None else ())


def _as_index(index, n):
    index = np.asarray(index)
    if index.dtype == bool:
        index = np.flatnonzero(index)
    # int32 halves the bytes of an index when the dataset is below 2**31 sites
    return index.astype(np.int32 if n < 2**31 else np.int64, copy=False)


def take_windows(source, rows, flank, index=None):
    """Windows of the rows ``rows[index]`` of a window source (see :meth:`Dataset.window_source`)."""
    if index is not None:
        index = np.asarray(index)
        rows = index if rows is None else rows[index]
    if isinstance(source, np.ndarray):
        return source if rows is None else source[rows]
    return source.take(rows, flank)


class Rows:
    """Some rows of a :class:`Dataset`, held as an index array: the validation split costs 4 bytes a site.

    Arrays (``y``, ``chrom``, ``pos``, ...) are gathered when asked for; ``windows()`` gathers or cuts the
    windows of some rows only. A training pipeline reads batches through :meth:`window_source`.
    """

    def __init__(self, base, index):
        self.base, self.index = base, index

    def __len__(self):
        return len(self.index)

    def __getattr__(self, name):
        if name in ARRAYS or name in CONTEXT_ARRAYS:
            return getattr(self.base, name)[self.index]
        raise AttributeError(name)

    @property
    def meta(self):
        return self.base.meta

    samples = property(lambda self: self.base.samples)
    n_samples = property(lambda self: self.base.n_samples)
    sample_names = property(lambda self: self.base.sample_names)

    flank = property(lambda self: self.base.flank)
    context_k = property(lambda self: self.base.context_k)

    def context(self, index=None):
        rows = self.index if index is None else self.index[index]
        return self.base.context(rows)

    window = property(lambda self: self.base.window)
    has_windows = property(lambda self: self.base.has_windows)

    def rows(self, index):
        return Rows(self.base, self.index[_as_index(index, len(self))])

    def subset(self, index):
        return self.base.subset(self.index[index])

    def window_source(self):
        return self.base.window_source()[0], self.index

    def windows(self, index=None):
        return take_windows(*self.window_source(), self.flank, index)


def make_meta(genome, flank, **extra):
    """Metadata stored with a dataset; readers check flank, encoding and genome against it."""
    meta = {
        "genome": genome.name,
        "genome_checksum": genome.checksum(),
        "chrom_lengths": genome.lengths(),
        "flank": int(flank),
        "encoding": ENCODING_NAME,
        "version": __version__,
    }
    meta.update(extra)
    return meta


def load_dataset(path):
    """Read and validate one dataset NPZ.

    Raises
    ------
    DatasetError
        When the file is not a dataset of schema ``mrcnn-dataset/1`` or its arrays disagree.
    """
    check_readable(path, "dataset NPZ")
    require_regular_file(path, "dataset NPZ")  # a zip is read by seeking: not from a pipe or stdin
    try:
        with np.load(path, allow_pickle=False) as npz:
            keys = set(npz.files)
            if "schema" not in keys:
                raise DatasetError(f"{path}: not an mrcnn-tools dataset (no 'schema' array); make it with mrcnn-encode")
            schema = str(npz["schema"])
            if schema != SCHEMA:
                raise DatasetError(
                    f"{path}: dataset schema '{schema}', this version reads '{SCHEMA}'; "
                    "re-encode it with this mrcnn-encode"
                )
            # a sites-only dataset may store seq as (N, 0) or leave it out
            missing = [k for k in ARRAYS + ("meta",) if k not in keys and k != "seq"]
            if missing:
                raise DatasetError(f"{path}: arrays {', '.join(missing)} are missing; re-encode with mrcnn-encode")
            arrays = {k: npz[k] for k in ARRAYS + CONTEXT_ARRAYS + (SAMPLES,) if k in keys}
            meta = json.loads(str(npz["meta"]))
            if "seq" not in arrays:
                arrays["seq"] = np.empty((len(arrays["y"]), 0), np.uint8)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise DatasetError(f"{path}: not a readable NPZ file ({exc}); make it with mrcnn-encode") from None
    n = len(arrays["y"])
    if arrays["seq"].ndim != 2 or arrays["seq"].dtype != np.uint8:
        raise DatasetError(f"{path}: 'seq' must be a uint8 (N, W) array; re-encode with mrcnn-encode")
    bad = [k for k in arrays if k != SAMPLES and len(arrays[k]) != n]
    if bad:
        raise DatasetError(f"{path}: arrays {', '.join(bad)} do not have {n} rows; the file is damaged")
    check_samples(arrays, path)
    check_context(arrays, path)
    meta.setdefault("flank", arrays["seq"].shape[1] // 2)
    meta["source"] = os.path.abspath(path)
    return Dataset(**arrays, meta=meta)


def load_datasets(paths):
    """Read several NPZ files (e.g. shards) into one Dataset; they must share flank, encoding and genome."""
    parts = [load_dataset(p) for p in paths]
    first = parts[0]
    for p, d in zip(paths[1:], parts[1:]):
        for key in ("flank", "encoding", "genome_checksum"):
            if d.meta.get(key) != first.meta.get(key):
                raise DatasetError(
                    f"{p}: {key} {d.meta.get(key)} differs from {paths[0]} ({first.meta.get(key)}); "
                    "datasets used together must be encoded with the same genome and --flank"
                )
        if d.context_k != first.context_k:
            raise DatasetError(
                f"{p}: context of {d.context_k} neighbours a side differs from {paths[0]} "
                f"({first.context_k}); encode all parts with the same --context"
            )
        if d.sample_names != first.sample_names:
            raise DatasetError(
                f"{p}: samples {', '.join(d.sample_names)} differ from {paths[0]} ({', '.join(first.sample_names)}); "
                "datasets used together must hold the same samples in the same order"
            )
        if d.has_windows != first.has_windows:
            raise DatasetError(
                f"{p}: {'has' if d.has_windows else 'has no'} stored windows but {paths[0]} "
                f"{'has' if first.has_windows else 'has no'}; encode all parts the same way "
                "(with or without --no-windows)"
            )
    if len(parts) == 1:
        return first
    meta = dict(first.meta, sources=[os.path.abspath(p) for p in paths])
    arrays = {}
    for k in _present(first):
        # one array at a time, each part's copy dropped once joined: the peak is the whole plus one array
        arrays[k] = np.concatenate([getattr(d, k) for d in parts])
        for d in parts:
            setattr(d, k, None)
    return Dataset(**arrays, meta=meta, samples=first.samples)
