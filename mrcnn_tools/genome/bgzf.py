"""bgzip FASTA at the byte level: the .gzi block index, reading a byte range straight into a buffer, and the
line ends stripped from a chromosome's bytes (genome/fasta.py reads chromosomes with these)."""

import bisect
import os
import struct
import zlib

import numpy as np

from mrcnn_tools.errors import InputFormatError
from mrcnn_tools.io import GZIP_MAGIC


def is_bgzf(path):
    """True when *path* is BGZF (bgzip): a gzip member whose extra field has the 'BC' subfield."""
    with open(path, "rb") as fh:
        head = fh.read(18)
    return len(head) >= 18 and head[:2] == GZIP_MAGIC and head[3] & 4 and head[12:14] == b"BC"


def gzi_blocks(gzi_path):
    """(compressed offset, uncompressed offset) of the BGZF blocks listed in a ``.gzi``, the first block included."""
    blocks = [(0, 0)]
    if gzi_path and os.path.exists(gzi_path):
        with open(gzi_path, "rb") as fh:
            head = fh.read(8)
            if len(head) == 8:
                (count,) = struct.unpack("<Q", head)
                body = fh.read(16 * count)
                if len(body) != 16 * count:
                    raise InputFormatError("the .gzi index is truncated; delete it and rerun", gzi_path)
                data = struct.unpack(f"<{2 * count}Q", body)
                blocks += list(zip(data[0::2], data[1::2]))
    return blocks


def read_bgzf(path, gzi_path, start, nbytes, allow_short=False, blocks=None):
    """Read ``nbytes`` uncompressed bytes from uncompressed offset ``start`` of a BGZF file.

    With *allow_short*, fewer bytes are returned at the end of the file instead of an error.
    """
    buf = bytearray(nbytes)
    filled = read_bgzf_into(path, gzi_path, start, buf, blocks)
    if filled < nbytes and not allow_short:
        raise InputFormatError("the bgzip file is truncated; re-compress it with bgzip", path)
    return bytes(buf[:filled])


def read_bgzf_into(path, gzi_path, start, buf, blocks=None):
    """Fill *buf* (a bytearray) with the uncompressed bytes from offset ``start`` of a BGZF file, decompressed a
    block at a time straight into it (no other copy of them is held); returns how many bytes were filled (fewer at
    the end of the file)."""
    blocks = blocks if blocks is not None else gzi_blocks(gzi_path)
    ustarts = [u for _, u in blocks]
    i = bisect.bisect_right(ustarts, start) - 1
    coff, uoff = blocks[i]
    view = memoryview(buf)
    need, filled, skip = len(buf), 0, start - uoff
    with open(path, "rb") as fh:
        fh.seek(coff)
        dec = zlib.decompressobj(31)
        while filled < need:
            data = fh.read(1 << 20)
            if not data:
                break
            # a BGZF file is a series of gzip members: a new decompressor at each member's end
            while data and filled < need:
                out = dec.decompress(data, 1 << 22)
                if dec.eof:
                    data = dec.unused_data
                    dec = zlib.decompressobj(31)
                else:
                    data = dec.unconsumed_tail
                if skip >= len(out):
                    skip -= len(out)
                    continue
                n = min(len(out) - skip, need - filled)
                view[filled : filled + n] = memoryview(out)[skip : skip + n]
                filled, skip = filled + n, 0
    return filled


def strip_line_ends(buf, length, lenc, lenb, what):
    """The *length* bases of a record's bytes *buf* (lines of *lenc* bases in *lenb* bytes, as the index says),
    moved to the front of *buf* in place, block by block: numpy uint8 (length,), a view of *buf*. A line end among
    the bases, or a base where a line end should be, is an InputFormatError (the index does not fit)."""
    a = np.frombuffer(buf, np.uint8)
    nfull = length // lenc
    rows = max(1, (1 << 20) // lenb)
    for r0 in range(0, nfull if lenb > lenc else 0, rows):
        r1 = min(nfull, r0 + rows)
        src = a[r0 * lenb : r1 * lenb].reshape(r1 - r0, lenb)
        if not np.isin(src[:, lenc:], (10, 13)).all() or np.isin(src[:, :lenc], (10, 13)).any():
            raise InputFormatError(
                f"record {what} does not have lines of {lenc} bases as its index says; delete the index and "
                "rerun (it is rebuilt), or make the lines of each record equally long",
                None,
            )
        a[r0 * lenc : r1 * lenc].reshape(r1 - r0, lenc)[...] = src[:, :lenc]  # numpy copies overlapping views safely
    rest = length - nfull * lenc
    a[nfull * lenc : length] = a[nfull * lenb : nfull * lenb + rest]
    bases = a[:length]
    if np.isin(bases[nfull * lenc :], (10, 13)).any() or (lenb == lenc and np.isin(bases, (10, 13)).any()):
        raise InputFormatError(f"record {what} does not have lines of {lenc} bases as its index says", None)
    return bases
