"""Reference genome access: one chromosome at a time, as uint8 codes.

pyfaidx builds the ``.fai`` (and, for bgzip, the ``.gzi``) index, atomically; it is read and checked against the
FASTA here, and the bases of a chromosome are then read in one sequential pass (a per-site fetch is ~100x slower).
"""

import errno
import hashlib
import logging
import os
import re
import shutil
import struct
import tempfile
import warnings
import zlib

import numpy as np
import pyfaidx

from mrcnn_tools.encoding import N, encode_bytes
from mrcnn_tools.errors import GenomeMismatchError, InputFormatError, MrcnnError
from mrcnn_tools.genome.bgzf import gzi_blocks, is_bgzf, read_bgzf, read_bgzf_into, strip_line_ends
from mrcnn_tools.io import GZIP_MAGIC, check_readable, deferred_signals

log = logging.getLogger(__name__)

_REGION_RECORD = re.compile(r"^(?P<chrom>.+):(?P<start>\d+)-(?P<end>\d+)$")


def canonical_chrom(name):
    """Name key that matches ``chr22``/``22`` and ``chrM``/``MT``/``M``."""
    key = name[3:] if name[:3].lower() == "chr" else name
    return "MT" if key.upper() in ("M", "MT") else key


def cache_dir():
    """Where indexes go when a FASTA's own directory is not writable.

    ``$MRCNN_CACHE_DIR``, else ``$XDG_CACHE_HOME/mrcnn-tools``, else ``~/.cache/mrcnn-tools``.
    """
    if os.environ.get("MRCNN_CACHE_DIR"):
        return os.environ["MRCNN_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "mrcnn-tools")


def _cache_stem(path):
    """Cache name of a FASTA's index: tied to its real path, size and modification time, so a changed FASTA
    never meets an old index."""
    st = os.stat(path)
    key = f"{os.path.realpath(path)}\0{st.st_size}\0{st.st_mtime_ns}"
    return os.path.join(
        cache_dir(), "fai", hashlib.sha1(key.encode()).hexdigest()[:16] + "-" + os.path.basename(path)[:60]
    )


_OS_WHY = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large for the file-size limit (ulimit -f)",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
    errno.EIO: "input/output error",
}


def _os_cause(exc):
    """The first OSError with an errno in *exc*'s chain (itself, its cause or context), or None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno is not None:
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


class Genome:
    """A FASTA genome, plain or bgzip-compressed.

    Records named as ``samtools faidx`` writes regions (``22:20000001-21000000``) are placed at their
    coordinates on chromosome ``22``; positions not covered by any record read as N.

    Parameters
    ----------
    path : str
        FASTA file; the ``.fai`` (and ``.gzi``) is built beside it when absent, or in :func:`cache_dir` when
        its directory is not writable.
    """

    def __init__(self, path):
        check_readable(path, "genome FASTA")
        self.path = path
        self.bgzf = False
        with open(path, "rb") as fh:
            head = fh.read(2)
        if head == GZIP_MAGIC:
            if not is_bgzf(path):
                raise InputFormatError(
                    "the FASTA is compressed with plain gzip, which allows no random access; "
                    "compress it with bgzip (zcat in.fa.gz | bgzip > out.fa.gz) or decompress it",
                    path,
                )
            self.bgzf = True
        elif head[:1] not in (b">", b""):
            raise InputFormatError("not a FASTA file (it does not start with '>'); check --genome", path)
        self._records = self._index()
        self._chroms = {}
        for rec in self._records:
            key = canonical_chrom(rec["chrom"])
            entry = self._chroms.setdefault(key, {"name": rec["chrom"], "length": 0, "records": []})
            entry["records"].append(rec)
            entry["length"] = max(entry["length"], rec["offset"] + rec["length"])
        if not self._chroms:
            raise InputFormatError("the FASTA holds no sequence record", path)
        self._cache_key = None
        self._cache = None

    def _index(self):
        """Records of the ``.fai`` index: found beside the FASTA or in the cache, else built; checked against
        the FASTA so that a stale index is reported as such."""
        fai, gzi = self._find_index()
        if fai is None:
            fai, gzi = self._build_index()
        self.fai_path, self.gzi_path = fai, gzi
        self._blocks = gzi_blocks(gzi) if self.bgzf else None
        records = self._read_fai(fai)
        self._check_index(records, fai)
        return records

    def _find_index(self):
        beside = (self.path + ".fai", self.path + ".gzi" if self.bgzf else None)
        cached = (_cache_stem(self.path) + ".fai", _cache_stem(self.path) + ".gzi" if self.bgzf else None)
        for fai, gzi in (beside, cached):
            if os.path.isfile(fai) and (gzi is None or os.path.isfile(gzi)):
                return fai, gzi
        return None, None

    def _build_index(self):
        """Build the index in a temporary directory and move it into place: a failed build leaves nothing.

        Beside the FASTA when its directory is writable (as samtools does), else in :func:`cache_dir`.
        """

        folder = os.path.dirname(os.path.abspath(self.path))
        targets = [(folder, self.path)]
        stem = _cache_stem(self.path)
        targets.append((os.path.dirname(stem), stem))
        tmp = None
        try:
            for i, (directory, base) in enumerate(targets):
                try:
                    if i:
                        os.makedirs(directory, exist_ok=True)
                    with deferred_signals():  # no signal between making the directory and knowing its name
                        tmp = tempfile.mkdtemp(dir=directory, prefix=".mrcnn-index.")
                    break
                except OSError:
                    continue
            return self._build_index_in(tmp, i, directory, base)
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)

    def _build_index_in(self, tmp, i, directory, base):
        """Index into the temporary directory *tmp* (None: none could be made), then rename into place."""
        if tmp is None:
            raise MrcnnError(
                f"{self.path}: the FASTA has no index (.fai) and neither its directory nor the cache {cache_dir()} "
                f"is writable; run 'samtools faidx {self.path}' where you can write, or set MRCNN_CACHE_DIR to "
                "a writable directory"
            )
        if i:
            log.info("%s: its directory is not writable; the index is written to %s", self.path, directory)
        fai, gzi = os.path.join(tmp, "index.fai"), os.path.join(tmp, "index.gzi")
        self._run_faidx(fai, gzi)
        final_fai, final_gzi = base + ".fai", (base + ".gzi" if self.bgzf else None)
        if self.bgzf:
            os.replace(gzi, final_gzi)
        os.replace(fai, final_fai)  # last: a .fai is only ever seen complete, with its .gzi
        return final_fai, final_gzi

    def _run_faidx(self, fai, gzi):

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fa = pyfaidx.Faidx(
                    self.path,
                    indexname=fai,
                    gzi_indexname=gzi if self.bgzf else None,
                    read_long_names=False,
                    rebuild=True,
                    build_index=True,
                )
            fa.close()
        except OSError as exc:
            # pyfaidx replaces the error of a failed write (disk full, permission) by "... may not be writable.
            # Please use Fasta(rebuild=False)": the first error with an errno in the chain says what happened
            cause = _os_cause(exc)
            if cause is None:
                raise
            where = os.path.dirname(fai)
            raise MrcnnError(
                f"{self.path}: cannot build its index (.fai) in {where}: {_OS_WHY.get(cause.errno, cause.strerror)}; "
                f"free space or fix the permissions there, run 'samtools faidx {self.path}' where you can write, "
                "or set MRCNN_CACHE_DIR to a directory with room"
            ) from None
        except (
            pyfaidx.FastaIndexingError,
            pyfaidx.UnsupportedCompressionFormat,
            ValueError,
            UnicodeDecodeError,
            EOFError,
            zlib.error,
            struct.error,
        ) as exc:
            text = str(exc)
            text = text if len(text) <= 200 else text[:200] + "..."
            raise InputFormatError(
                f"cannot index the FASTA ({text}); check that it is valid FASTA with lines "
                "of equal length within each record",
                self.path,
            ) from None

    def _read_fai(self, fai):
        records, seen = [], set()
        with open(fai, "rb") as fh:
            for lineno, raw in enumerate(fh, 1):
                fields = raw.rstrip(b"\r\n").split(b"\t")
                if fields == [b""]:
                    continue
                try:
                    if len(fields) < 5:
                        raise ValueError
                    name = fields[0].decode()
                    length, offset, lenc, lenb = (int(f) for f in fields[1:5])
                    if min(length, offset, lenc, lenb) < 0 or (length and (lenc < 1 or lenb < lenc)):
                        raise ValueError
                except (ValueError, UnicodeDecodeError):
                    raise InputFormatError(
                        f"the index is damaged (line {lineno}); delete it and rerun (it is rebuilt)", fai
                    ) from None
                if name in seen:
                    raise InputFormatError(
                        f"the record name {name} appears twice; give every record its own name", self.path
                    )
                seen.add(name)
                m = _REGION_RECORD.match(name)
                if m and int(m["end"]) - int(m["start"]) + 1 == length:
                    chrom, start = m["chrom"], int(m["start"]) - 1
                else:
                    chrom, start = name, 0
                records.append(
                    {
                        "record": name,
                        "chrom": chrom,
                        "offset": start,
                        "length": length,
                        "file_offset": offset,
                        "lenc": lenc,
                        "lenb": lenb,
                    }
                )
        return records

    def _peek(self, fh, offset, nbytes):
        if offset < 0:
            return b""
        if self.bgzf:
            return read_bgzf(self.path, self.gzi_path, offset, nbytes, allow_short=True, blocks=self._blocks)
        fh.seek(offset)
        return fh.read(nbytes)

    def _check_index(self, records, fai):
        """Check that each record's bases sit where the index says: the byte before them ends a header line,
        the last one is a base followed by a line end and the next header (or the end of the file).

        An index made for another version of the FASTA (other lengths) fails here, instead of showing up
        later as sites outside the genome.
        """
        todo = [r for r in records if r["length"]]
        if self.bgzf and len(todo) > 200:  # each check decompresses a block: check a spread of records
            step = len(todo) / 200
            todo = [todo[int(k * step)] for k in range(200)] + [todo[-1]]
        with open(self.path, "rb") as fh:
            for rec in todo:
                length, off, lenc, lenb = rec["length"], rec["file_offset"], rec["lenc"], rec["lenb"]
                last = off + ((length - 1) // lenc) * lenb + (length - 1) % lenc
                before = self._peek(fh, off - 1, 1)
                tail = self._peek(fh, last, 2 + lenb - lenc)
                rest = tail[1:].lstrip(b"\r\n")
                ok = before == b"\n" and tail[:1] not in (b"", b"\n", b"\r", b">") and (rest == b"" or rest[:1] == b">")
                if not ok:
                    extra = " and its .gzi" if self.bgzf else ""
                    raise InputFormatError(
                        f"the index {fai} does not match the FASTA (record {rec['record']}: {length} bases at byte "
                        f"{off} per the index); the FASTA changed after it was indexed: delete {fai}{extra} and "
                        "rerun (it is rebuilt)",
                        self.path,
                    )

    @property
    def name(self):
        return os.path.basename(self.path)

    def chromosomes(self):
        """Chromosome names as the FASTA spells them, in file order."""
        return [entry["name"] for entry in self._chroms.values()]

    def lengths(self):
        """Dict chromosome name -> length (the end of the last record for region records)."""
        return {entry["name"]: entry["length"] for entry in self._chroms.values()}

    def checksum(self):
        """Short checksum of the chromosome names (canonical) and lengths, stored in datasets."""
        text = ";".join(f"{k}:{v['length']}" for k, v in sorted(self._chroms.items()))
        return hashlib.md5(text.encode()).hexdigest()[:16]

    def resolve(self, chrom):
        """The FASTA's name for *chrom* (matching chr22/22, chrM/MT), or None when absent."""
        entry = self._chroms.get(canonical_chrom(chrom))
        return entry["name"] if entry else None

    def _read_record(self, rec):
        """A record's bases as codes, read into one buffer whose line ends are removed in place: the buffer and
        the codes are the only copies of the record held (a chromosome costs twice its length, not four times)."""
        length, lenc, lenb = rec["length"], rec["lenc"], rec["lenb"]
        if not length:
            return encode_bytes(b"")
        nlines = -(-length // lenc)
        nbytes = length + nlines * (lenb - lenc)
        buf = bytearray(nbytes)
        if self.bgzf:
            filled = read_bgzf_into(self.path, self.gzi_path, rec["file_offset"], buf, self._blocks)
        else:
            with open(self.path, "rb") as fh:
                fh.seek(rec["file_offset"])
                filled, view = 0, memoryview(buf)
                while filled < nbytes:
                    n = fh.readinto(view[filled:])
                    if not n:
                        break
                    filled += n
        # the last line's end may be missing at the end of the file
        if filled < nbytes - (lenb - lenc):
            raise InputFormatError(
                f"record {rec['record']} is shorter than its index {self.fai_path} says; delete the index and "
                "rerun (it is rebuilt)",
                self.path,
            )
        try:
            bases = strip_line_ends(buf, length, lenc, lenb, rec["record"])
        except InputFormatError as exc:
            raise InputFormatError(f"{exc}", self.path) from None
        codes = encode_bytes(bases)
        del bases, buf
        return codes

    def codes(self, chrom):
        """Whole chromosome as uint8 codes (docs/FORMATS.md §2); one chromosome is cached at a time.

        Returns
        -------
        numpy.ndarray, uint8, shape (length,)
        """
        key = canonical_chrom(chrom)
        if key == self._cache_key:
            return self._cache
        entry = self._chroms.get(key)
        if entry is None:
            raise GenomeMismatchError(f"chromosome {chrom} is not in the genome {self.path}")
        self._cache = None
        recs = entry["records"]
        if len(recs) == 1 and recs[0]["offset"] == 0:
            arr = self._read_record(recs[0])
        else:
            arr = np.full(entry["length"], N, dtype=np.uint8)
            for rec in recs:
                arr[rec["offset"] : rec["offset"] + rec["length"]] = self._read_record(rec)
        self._cache_key, self._cache = key, arr
        return arr
