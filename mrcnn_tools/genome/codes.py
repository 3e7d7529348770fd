"""The genome as one memory-mapped file of uint8 codes, built once and shared by every process.

A sites-only dataset (``mrcnn-encode --no-windows``) keeps tens of bytes per site; the windows are cut from
these codes batch by batch. The file is written once per genome (atomically: a temporary file renamed into
place) beside the FASTA, or in ``--cache-dir`` / ``$MRCNN_CACHE_DIR``, or in ``~/.cache/mrcnn-tools`` when
the FASTA's directory is not writable. Every process of a job array maps the same file read-only, so the
operating system holds one copy in its page cache and a process starts without reading the FASTA.

Layout: ``NAME.CHECKSUM.codes`` holds the chromosomes' codes one after the other (docs/FORMATS.md §2: T=0, C=1,
G=2, A=3, N=4), ``NAME.CHECKSUM.codes.json`` their offsets and lengths, the FASTA's size and mtime, and each
chromosome's cumulative CpG counts by block of ``cpg_block`` bases (``cpgs``: what a shard of genome-mode prediction
needs to find its sites without reading the rest). An index written before the counts existed gets them on first
use (counted from the codes, not the FASTA).
"""

import json
import logging
import os
import tempfile

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mrcnn_tools.errors import GenomeMismatchError, MrcnnError
from mrcnn_tools.genome.cpgs import CPG_BLOCK, cpg_block_counts
from mrcnn_tools.genome.fasta import Genome, canonical_chrom
from mrcnn_tools.genome.fasta import cache_dir as user_cache_dir
from mrcnn_tools.genome.windows import SiteWindows

log = logging.getLogger(__name__)

FORMAT = "mrcnn-genome-codes/1"
ENV_CACHE_DIR = "MRCNN_CACHE_DIR"


def candidate_dirs(fasta, cache_dir=None):
    """Directories searched for (and, first writable one, used to build) the codes, in order.

    An explicit *cache_dir* wins, then ``$MRCNN_CACHE_DIR``, then the FASTA's own directory (so that every job
    that reads the FASTA from a shared file system finds the codes beside it), then ``~/.cache/mrcnn-tools``.
    """

    dirs = [cache_dir, os.environ.get(ENV_CACHE_DIR), os.path.dirname(os.path.abspath(fasta)), user_cache_dir()]
    out = []
    for d in dirs:
        if d and os.path.abspath(d) not in out:
            out.append(os.path.abspath(d))
    return out


def _stamp(fasta):
    st = os.stat(fasta)
    return {"fasta_size": st.st_size, "fasta_mtime_ns": st.st_mtime_ns}


def _writable(directory):
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError:
        return False
    return os.access(directory, os.W_OK | os.X_OK)


class GenomeCodes:
    """Read-only view of a genome's codes file.

    Parameters
    ----------
    path : str
        The ``.codes`` file; its ``.json`` index lies beside it.

    Attributes
    ----------
    names : list of str
        Chromosome names as the FASTA spells them.
    offsets, lengths : numpy.ndarray, int64
        Where each chromosome starts in the file and its length.
    checksum : str
        :meth:`mrcnn_tools.genome.fasta.Genome.checksum` of the FASTA (names and lengths), as stored in datasets.
    codes : numpy.memmap, uint8
    """

    def __init__(self, path):

        self.path = path
        with open(path + ".json") as fh:
            self.index = json.load(fh)
        if self.index.get("format") != FORMAT:
            raise MrcnnError(f"{path}: not a genome codes file of format {FORMAT}; delete it and rerun")
        self.names = [c["name"] for c in self.index["chroms"]]
        self.offsets = np.array([c["offset"] for c in self.index["chroms"]], np.int64)
        self.lengths = np.array([c["length"] for c in self.index["chroms"]], np.int64)
        self.checksum = self.index["checksum"]
        self.fasta = self.index.get("fasta")
        total = int(self.index["total"])
        if os.path.getsize(path) != total:
            raise MrcnnError(f"{path}: {os.path.getsize(path)} bytes, its index says {total}; delete it and rerun")
        # an empty memmap is refused by NumPy; a genome without bases is refused by Genome before this
        self.codes = np.memmap(path, dtype=np.uint8, mode="r", shape=(total,))
        self._key = {canonical_chrom(n): i for i, n in enumerate(self.names)}
        self._view = {}
        self._cpgs = None

    def chrom(self, name):
        """One chromosome's codes: a read-only view into the file (pages are read when used).

        Returns
        -------
        numpy.ndarray, uint8, shape (length,)
        """
        i = self._key.get(canonical_chrom(name))
        if i is None:
            raise GenomeMismatchError(f"chromosome {name} is not in the genome {self.fasta}")
        return np.asarray(self.codes[self.offsets[i] : self.offsets[i] + self.lengths[i]])

    def cpg_counts(self, name):
        """``(block, cum)``: the cumulative CpG counts of chromosome *name* by block of *block* bases
        (:func:`mrcnn_tools.genome.cpgs.cpg_block_counts`; ``cum[-1]`` is its number of CpGs), from the index.

        An index from before the counts: counted from the codes once, and added to the index where it can be
        rewritten (atomically), so the next process finds them.
        """
        if self._cpgs is None:
            if "cpg_block" in self.index:
                self._cpgs = [np.asarray(c["cpgs"], np.int64) for c in self.index["chroms"]]
            else:
                self._cpgs = [cpg_block_counts(self.chrom(n), CPG_BLOCK) for n in self.names]
                self._add_counts()
        self.chrom(name)  # a clear error for a chromosome not in the genome
        return int(self.index.get("cpg_block", CPG_BLOCK)), self._cpgs[self._key[canonical_chrom(name)]]

    def _add_counts(self):
        index = dict(self.index, cpg_block=CPG_BLOCK)
        index["chroms"] = [dict(c, cpgs=k.tolist()) for c, k in zip(self.index["chroms"], self._cpgs)]
        prefix = "." + os.path.basename(self.path) + ".json."
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(self.path), prefix=prefix, suffix=".part")
            with os.fdopen(fd, "w") as fh:
                json.dump(index, fh, indent=1)
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path + ".json")
        except OSError as exc:  # a read-only cache, a full disk: counted again by the next process
            log.info("%s: the CpG counts are not kept (%s)", self.path, exc)
            return
        finally:
            if tmp is not None and os.path.exists(tmp):
                os.remove(tmp)
        self.index = index
        log.info("added the CpG counts to %s.json", self.path)

    def __len__(self):
        return len(self.codes)

    def chrom_ids(self, chrom, source="dataset"):
        """Index into :attr:`names` of each site's chromosome (chr22 matches 22), and the names as *chrom* spells them.

        Datasets list their sites chromosome by chromosome, so the names are looked up once per run of equal
        names, not once per site.

        Returns
        -------
        (int16 (n,) index per site, str array of len(names): the dataset's spelling of each genome chromosome)

        Raises
        ------
        GenomeMismatchError
            When a chromosome is not in the genome.
        """

        names, codes = chrom_runs(chrom)
        ids = np.empty(len(names), np.int16 if len(self.names) < 2**15 else np.int32)
        spelled = list(self.names)
        for i, name in enumerate(names.tolist()):
            k = self._key.get(canonical_chrom(str(name)))
            if k is None:
                raise GenomeMismatchError(
                    f"{source}: chromosome {name} is not in the genome {self.fasta}; give the "
                    "FASTA the dataset was encoded with"
                )
            ids[i] = k
            spelled[k] = name
        return ids[codes], np.array(spelled, dtype=str)

    def sites(self, chrom, pos, strand, source="dataset"):
        """Compact per-site arrays (11 bytes a site) from which :meth:`SiteWindows.take` cuts windows."""
        ids, spelled = self.chrom_ids(chrom, source)
        return SiteWindows(self, ids, pos, strand, source, names=spelled)

    def windows(self, chrom, pos, strand, flank, source="dataset"):
        """Windows of sites given by chromosome names, positions and strands (as in a Dataset).

        Returns
        -------
        numpy.ndarray, uint8, shape (n, 2*flank); equal to :func:`mrcnn_tools.encoding.extract_windows` on
        each chromosome.
        """
        return self.sites(chrom, pos, strand, source).take(None, flank)

    def sliding(self, flank):
        """Windows of *flank* bases at every offset of the file: a strided view, nothing copied."""
        if flank not in self._view:
            self._view[flank] = sliding_window_view(self.codes, flank) if flank else None
        return self._view[flank]


def chrom_runs(chrom):
    """(distinct names in order of first run, int16/int32 code per site) of a chromosome array in O(n).

    Datasets hold their sites chromosome by chromosome, so a run-length pass is much faster than
    ``np.unique`` over millions of strings.
    """
    chrom = np.asarray(chrom)
    n = len(chrom)
    if n == 0:
        return np.empty(0, chrom.dtype), np.empty(0, np.int16)
    starts = np.concatenate([[0], np.flatnonzero(chrom[1:] != chrom[:-1]) + 1])
    run_names = chrom[starts]
    names, run_code = [], np.empty(len(starts), np.int32)
    seen = {}
    for i, name in enumerate(run_names.tolist()):
        if name not in seen:
            seen[name] = len(names)
            names.append(name)
        run_code[i] = seen[name]
    lengths = np.diff(np.concatenate([starts, [n]]))
    small = np.int16 if len(names) < 2**15 else np.int32  # 2 bytes a site for any real assembly
    return np.array(names, dtype=chrom.dtype), np.repeat(run_code.astype(small), lengths)


def _find(fasta, checksum, cache_dir):
    stamp = _stamp(fasta)
    name = f"{os.path.basename(fasta)}.{checksum}.codes"
    for d in candidate_dirs(fasta, cache_dir):
        path = os.path.join(d, name)
        try:
            with open(path + ".json") as fh:
                index = json.load(fh)
        except (OSError, ValueError):
            continue
        if (
            index.get("format") == FORMAT
            and index.get("checksum") == checksum
            and all(index.get(k) == v for k, v in stamp.items())
            and os.path.exists(path)
            and os.path.getsize(path) == index.get("total")
        ):
            return path
    return None


def _build(genome, directory, name):
    """Write the codes and the index under temporary names, then rename them into place.

    Several processes may build at once (the first jobs of an array): each writes its own temporary files
    and the renames are atomic, so a reader sees either no file or a whole one. The index is renamed last:
    its presence means the codes are complete.
    """
    path = os.path.join(directory, name)
    chroms, offset = [], 0
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            for chrom in genome.chromosomes():
                codes = genome.codes(chrom)
                fh.write(memoryview(np.ascontiguousarray(codes, np.uint8)))
                cpgs = cpg_block_counts(codes, CPG_BLOCK).tolist()
                chroms.append({"name": chrom, "offset": offset, "length": int(len(codes)), "cpgs": cpgs})
                offset += len(codes)
        index = {
            "format": FORMAT,
            "fasta": os.path.abspath(genome.path),
            "checksum": genome.checksum(),
            **_stamp(genome.path),
            "total": offset,
            "cpg_block": CPG_BLOCK,
            "chroms": chroms,
        }
        fdj, tmpj = tempfile.mkstemp(dir=directory, prefix="." + name + ".json.", suffix=".part")
        try:
            with os.fdopen(fdj, "w") as fh:
                json.dump(index, fh, indent=1)
            for t in (tmp, tmpj):
                os.chmod(t, 0o644)
            os.replace(tmp, path)
            os.replace(tmpj, path + ".json")
        except BaseException:
            if os.path.exists(tmpj):
                os.remove(tmpj)
            raise
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def open_genome_codes(fasta, cache_dir=None, genome=None, required=True):
    """The codes of *fasta*, built on first use.

    Parameters
    ----------
    fasta : str
        Genome FASTA (plain or bgzip).
    cache_dir : str, optional
        Where to keep the codes; otherwise ``$MRCNN_CACHE_DIR``, the FASTA's directory, ``~/.cache/mrcnn-tools``.
    genome : Genome, optional
        *fasta* already opened (e.g. to check its checksum before any codes are written).
    required : bool
        False: None when no directory can take them (instead of an error).

    Returns
    -------
    GenomeCodes (or None)
    """

    genome = genome if genome is not None else Genome(fasta)
    checksum = genome.checksum()
    path = _find(fasta, checksum, cache_dir)
    if path is None:
        name = f"{os.path.basename(fasta)}.{checksum}.codes"
        for d in candidate_dirs(fasta, cache_dir):
            if not _writable(d):
                continue
            try:
                log.info("writing the genome's codes to %s (once per genome)", os.path.join(d, name))
                path = _build(genome, d, name)
                break
            except OSError as exc:  # full disk, quota: try the next place
                log.warning("cannot write the genome codes in %s (%s); trying the next directory", d, exc)
        if path is None and not required:
            return None
        if path is None:
            raise MrcnnError(
                f"{fasta}: no writable directory for the genome codes (tried "
                f"{', '.join(candidate_dirs(fasta, cache_dir))}); give --cache-dir DIR or set "
                f"{ENV_CACHE_DIR}"
            )
    return GenomeCodes(path)


class FastaCodes:
    """What genome-mode prediction reads of :class:`GenomeCodes`, from the FASTA itself (one chromosome at a time):
    where no directory takes the codes file. The CpGs of each chromosome are counted when first asked for."""

    def __init__(self, genome):
        self.genome = genome
        self._counts = {}

    def chrom(self, name):
        return self.genome.codes(name)

    def cpg_counts(self, name):
        if name not in self._counts:
            self._counts[name] = cpg_block_counts(self.chrom(name), CPG_BLOCK)
        return CPG_BLOCK, self._counts[name]


def check_dataset_genome(meta, checksum, data_path, fasta):
    """Refuse a dataset encoded on another genome (by the checksum of chromosome names and lengths)."""
    want = meta.get("genome_checksum")
    if want is not None and want != checksum:
        raise GenomeMismatchError(
            f"{data_path} was encoded on genome {meta.get('genome', '?')} (checksum {want}) but --genome {fasta} "
            f"has checksum {checksum}; give the FASTA the dataset was encoded with"
        )
