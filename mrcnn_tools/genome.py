"""Reference genome access: one chromosome at a time, as uint8 codes.

pyfaidx builds and reads the ``.fai`` (and, for bgzip, the ``.gzi``) index; the bases of a chromosome are then
read in one sequential pass (a per-site fetch is ~100x slower).
"""

import bisect
import hashlib
import logging
import os
import re
import struct
import zlib

import numpy as np

from .encoding import N, encode_bytes
from .errors import GenomeMismatchError, InputFormatError, MrcnnError
from .io import GZIP_MAGIC, check_readable

log = logging.getLogger(__name__)

_REGION_RECORD = re.compile(r"^(?P<chrom>.+):(?P<start>\d+)-(?P<end>\d+)$")


def canonical_chrom(name):
    """Name key that matches ``chr22``/``22`` and ``chrM``/``MT``/``M``."""
    key = name[3:] if name[:3].lower() == "chr" else name
    return "MT" if key.upper() in ("M", "MT") else key


def is_bgzf(path):
    """True when *path* is BGZF (bgzip): a gzip member whose extra field has the 'BC' subfield."""
    with open(path, "rb") as fh:
        head = fh.read(18)
    return len(head) >= 18 and head[:2] == GZIP_MAGIC and head[3] & 4 and head[12:14] == b"BC"


def _read_bgzf(path, gzi_path, start, nbytes):
    """Read ``nbytes`` uncompressed bytes from uncompressed offset ``start`` of a BGZF file."""
    blocks = [(0, 0)]
    if os.path.exists(gzi_path):
        with open(gzi_path, "rb") as fh:
            (count,) = struct.unpack("<Q", fh.read(8))
            data = struct.unpack(f"<{2 * count}Q", fh.read(16 * count))
        blocks += list(zip(data[0::2], data[1::2]))
    ustarts = [u for _, u in blocks]
    i = bisect.bisect_right(ustarts, start) - 1
    coff, uoff = blocks[i]
    out = bytearray()
    skip = start - uoff
    need = skip + nbytes
    with open(path, "rb") as fh:
        fh.seek(coff)
        dec = zlib.decompressobj(31)
        while len(out) < need:
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            # a BGZF file is a series of gzip members: start a new decompressor at each member's end
            while chunk:
                out += dec.decompress(chunk)
                if dec.eof:
                    chunk = dec.unused_data
                    dec = zlib.decompressobj(31)
                else:
                    chunk = b""
    if len(out) < need:
        raise InputFormatError("the bgzip file is truncated; re-compress it with bgzip", path)
    return bytes(out[skip:skip + nbytes])


class Genome:
    """A FASTA genome, plain or bgzip-compressed.

    Records named as ``samtools faidx`` writes regions (``22:20000001-21000000``) are placed at their
    coordinates on chromosome ``22``; positions not covered by any record read as N.

    Parameters
    ----------
    path : str
        FASTA file; the ``.fai`` is built beside it when absent.
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
                    "compress it with bgzip (zcat in.fa.gz | bgzip > out.fa.gz) or decompress it", path)
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
        import pyfaidx

        try:
            fa = pyfaidx.Fasta(self.path, as_raw=True, read_long_names=False, rebuild=False)
        except (pyfaidx.FastaIndexingError, pyfaidx.UnsupportedCompressionFormat, ValueError) as exc:
            raise InputFormatError(f"cannot index the FASTA ({exc}); check that it is valid FASTA", self.path) from None
        except PermissionError:
            raise MrcnnError(
                f"{self.path}: cannot write the FASTA index beside it; run 'samtools faidx' on it "
                "or copy the FASTA to a writable directory") from None
        records = []
        for name, rec in fa.faidx.index.items():
            m = _REGION_RECORD.match(name)
            if m and int(m["end"]) - int(m["start"]) + 1 == rec.rlen:
                chrom, offset = m["chrom"], int(m["start"]) - 1
            else:
                chrom, offset = name, 0
            records.append({"record": name, "chrom": chrom, "offset": offset, "length": rec.rlen,
                            "file_offset": rec.offset, "lenc": rec.lenc, "lenb": rec.lenb})
        fa.close()
        return records

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

    def length(self, chrom):
        entry = self._chroms.get(canonical_chrom(chrom))
        if entry is None:
            raise GenomeMismatchError(f"chromosome {chrom} is not in the genome {self.path}")
        return entry["length"]

    def _read_record(self, rec):
        nlines = -(-rec["length"] // rec["lenc"]) if rec["lenc"] else 0
        nbytes = rec["length"] + nlines * (rec["lenb"] - rec["lenc"])
        if self.bgzf:
            raw = _read_bgzf(self.path, self.path + ".gzi", rec["file_offset"], nbytes)
        else:
            with open(self.path, "rb") as fh:
                fh.seek(rec["file_offset"])
                raw = fh.read(nbytes)
        raw = raw.replace(b"\n", b"").replace(b"\r", b"")[:rec["length"]]
        if len(raw) != rec["length"]:
            raise InputFormatError(
                f"record {rec['record']} is shorter than its index says; delete the .fai/.gzi and rerun", self.path)
        return encode_bytes(raw)

    def codes(self, chrom):
        """Whole chromosome as uint8 codes (DESIGN §2); one chromosome is cached at a time.

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
                arr[rec["offset"]:rec["offset"] + rec["length"]] = self._read_record(rec)
        self._cache_key, self._cache = key, arr
        return arr
