"""The dataset NPZ (DESIGN.md §3): windows as uint8 codes, labels and coordinates."""

import json
import os
import zipfile
from dataclasses import dataclass, field

import numpy as np

from . import __version__
from .encoding import ENCODING_NAME
from .errors import DatasetError
from .io import check_readable, save_npz

SCHEMA = "mrcnn-dataset/1"
ARRAYS = ("seq", "y", "coverage", "chrom", "pos", "strand", "cgi")


@dataclass
class Dataset:
    """Windows and labels of CpG sites.

    Attributes
    ----------
    seq : uint8 (N, W) base codes (T=0, C=1, G=2, A=3, N=4)
    y : float32 (N,) methylation level 0..1, NaN = no label
    coverage : int32 (N,) reads (methylated + unmethylated), 0 when unknown
    chrom : str (N,)
    pos : int64 (N,) 0-based position of the site's C on the + strand ('-' sites: the G)
    strand : str (N,) '+', '-' or '.' (strands merged; window read on +)
    cgi : int8 (N,) 1 CpG island, 0 not, -1 unknown
    meta : dict (genome, genome_checksum, flank, encoding, inputs, version, ...)
    """

    seq: np.ndarray
    y: np.ndarray
    coverage: np.ndarray
    chrom: np.ndarray
    pos: np.ndarray
    strand: np.ndarray
    cgi: np.ndarray
    meta: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.y)

    @property
    def flank(self):
        return int(self.meta.get("flank", self.seq.shape[1] // 2))

    @property
    def window(self):
        return int(self.seq.shape[1])

    def subset(self, index):
        """A new Dataset with the rows selected by a boolean mask or an index array."""
        return Dataset(**{k: getattr(self, k)[index] for k in ARRAYS}, meta=dict(self.meta))

    @classmethod
    def empty(cls, flank, meta=None):
        return cls(seq=np.empty((0, 2 * flank), np.uint8), y=np.empty(0, np.float32),
                   coverage=np.empty(0, np.int32), chrom=np.empty(0, "<U1"), pos=np.empty(0, np.int64),
                   strand=np.empty(0, "<U1"), cgi=np.empty(0, np.int8), meta=dict(meta or {}, flank=flank))

    @classmethod
    def concatenate(cls, parts, meta=None):
        parts = list(parts)
        if not parts:
            raise DatasetError("no dataset to concatenate")
        arrays = {k: np.concatenate([getattr(p, k) for p in parts]) for k in ARRAYS}
        return cls(**arrays, meta=dict(meta if meta is not None else parts[0].meta))

    def arrays(self):
        return {
            "schema": np.array(SCHEMA),
            "seq": np.ascontiguousarray(self.seq, dtype=np.uint8),
            "y": self.y.astype(np.float32),
            "coverage": self.coverage.astype(np.int32),
            "chrom": self.chrom.astype(str),
            "pos": self.pos.astype(np.int64),
            "strand": self.strand.astype(str),
            "cgi": self.cgi.astype(np.int8),
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
    try:
        with np.load(path, allow_pickle=False) as npz:
            keys = set(npz.files)
            if "schema" not in keys:
                raise DatasetError(f"{path}: not an mrcnn-tools dataset (no 'schema' array); make it with mrcnn-encode")
            schema = str(npz["schema"])
            if schema != SCHEMA:
                raise DatasetError(f"{path}: dataset schema '{schema}', this version reads '{SCHEMA}'; "
                                   "re-encode it with this mrcnn-encode")
            missing = [k for k in ARRAYS + ("meta",) if k not in keys]
            if missing:
                raise DatasetError(f"{path}: arrays {', '.join(missing)} are missing; re-encode with mrcnn-encode")
            arrays = {k: npz[k] for k in ARRAYS}
            meta = json.loads(str(npz["meta"]))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise DatasetError(f"{path}: not a readable NPZ file ({exc}); make it with mrcnn-encode") from None
    n = len(arrays["y"])
    if arrays["seq"].ndim != 2 or arrays["seq"].dtype != np.uint8:
        raise DatasetError(f"{path}: 'seq' must be a uint8 (N, W) array; re-encode with mrcnn-encode")
    bad = [k for k in ARRAYS if len(arrays[k]) != n]
    if bad:
        raise DatasetError(f"{path}: arrays {', '.join(bad)} do not have {n} rows; the file is damaged")
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
                raise DatasetError(f"{p}: {key} {d.meta.get(key)} differs from {paths[0]} ({first.meta.get(key)}); "
                                   "datasets used together must be encoded with the same genome and --flank")
    if len(parts) == 1:
        return first
    meta = dict(first.meta, sources=[os.path.abspath(p) for p in paths])
    return Dataset.concatenate(parts, meta=meta)
