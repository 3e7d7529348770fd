"""A calls file or stdin that can be read more than once, and the syntax of its lines (fields, comments, headers).

Shared by format detection and the table reader (:mod:`formats`): tabs or spaces, quotes, a UTF-8 byte order mark,
``track``/``browser``/``#`` lines; plain, gzip, a pipe or stdin, all read as streams in bounded memory (lines capped
at :data:`MAX_LINE`).
"""

import atexit
import gzip
import io
import os
import re
import stat
import sys
import tempfile
import zlib

from mrcnn_tools.errors import InputFormatError, MrcnnError
from mrcnn_tools.io import GZIP_MAGIC, check_readable

# the longest line accepted (bytes): a calls line is ~100; a longer one is not a table of calls (a gzip bomb of zeros,
# a binary file), and reading it whole could take all memory
MAX_LINE = 1 << 20
# the first lines read for detection stop after this many bytes
HEAD_BYTES = 1 << 21
# bytes read from a stream, or handed to the parser, at a time
CHUNK = 1 << 18

# streams already kept: ("stdin",) or ("pipe", device, inode) -> (the sys.stdin it was made from, _Spool)
_SPOOLS = {}


class _Spool:
    """A stream (stdin, a pipe) kept in an anonymous temporary file as it is read, in chunks of :data:`CHUNK`
    bytes, so that it can be read from the start again (detection, then the table, then maybe another format):
    memory holds one chunk, whatever the stream's size. The file has no name: nothing is left behind."""

    def __init__(self, raw, path):
        self.raw, self.path = raw, path
        self.file = tempfile.TemporaryFile(prefix="mrcnn-calls.")
        self.size = 0
        self.eof = False

    def read_at(self, offset, n):
        """Up to *n* bytes from *offset* (fewer at the end), pulling the stream on as far as needed."""
        while offset >= self.size and not self.eof:
            self._pull()
        if offset >= self.size:
            return b""
        return os.pread(self.file.fileno(), min(n, self.size - offset), offset)

    def close(self):
        """Close the temporary file and a pipe opened here (stdin is left open)."""
        self.file.close()
        if self.raw is not getattr(sys.stdin, "buffer", None):
            self.raw.close()

    def _pull(self):
        chunk = self.raw.read(CHUNK)
        if not chunk:
            self.eof = True
            return
        try:
            os.pwrite(self.file.fileno(), chunk, self.size)
        except OSError as exc:
            raise MrcnnError(
                f"{self.path}: cannot keep the stream in the temporary directory {tempfile.gettempdir()} "
                f"({exc.strerror}); free space there, set TMPDIR to a directory with room, or give the calls as a file"
            ) from None
        self.size += len(chunk)


class _SpoolReader(io.RawIOBase):
    """One reading of a :class:`_Spool` from the start, with its own position."""

    def __init__(self, spool):
        super().__init__()
        self.spool, self.pos = spool, 0

    def readable(self):
        return True

    def readinto(self, buf):
        data = self.spool.read_at(self.pos, len(buf))
        buf[: len(data)] = data
        self.pos += len(data)
        return len(data)


def _spool_of(path):
    """The :class:`_Spool` of stdin (``-``) or of the pipe *path*, made at its first use."""
    if path == "-":
        key, owner = ("stdin",), sys.stdin  # a new sys.stdin (tests) replaces the kept one
    else:
        st = os.stat(path)
        key, owner = ("pipe", st.st_dev, st.st_ino), None
    kept = _SPOOLS.get(key)
    if kept is None or kept[0] is not owner:
        if kept is not None:
            kept[1].close()
        raw = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115 (read by the spool)
        kept = _SPOOLS[key] = (owner, _Spool(raw, path))
    return kept[1]


@atexit.register
def _close_spools():
    for _, spool in _SPOOLS.values():
        spool.close()
    _SPOOLS.clear()


class Source:
    """A calls file or stdin, which can be opened more than once, read as a stream in bounded memory.

    A regular file is opened again for each reading; stdin and pipes (``<(zcat calls.gz)``) are kept in an
    anonymous temporary file as they are read (:class:`_Spool`). gzip (bgzip too) is decompressed as it is read.
    """

    def __init__(self, path):
        self.path = path
        self._spool = None
        if path != "-":
            check_readable(path, "calls file")
        if path == "-" or not stat.S_ISREG(os.stat(path).st_mode):
            self._spool = _spool_of(path)
        raw = self._raw()
        try:
            magic = raw.read(2)
        finally:
            raw.close()
        self._gz = magic == GZIP_MAGIC

    def _raw(self):
        if self._spool is not None:
            return io.BufferedReader(_SpoolReader(self._spool), CHUNK)
        return open(self.path, "rb")  # noqa: SIM115 (returned)

    def open(self):
        """A binary file object from the start, decompressed."""
        raw = self._raw()
        if not self._gz:
            return raw
        gz = gzip.GzipFile(fileobj=raw, mode="rb")
        gz.myfileobj = raw  # closed with it
        return gz

    def head(self, n=200):
        """The first *n* lines (raw text, line ends removed, blank lines kept), decoded leniently; reading stops
        after :data:`HEAD_BYTES`. A line longer than :data:`MAX_LINE` is an error naming it, as is text that is
        not a table (UTF-16, binary)."""
        lines, total = [], 0
        fh = self.open()
        try:
            while len(lines) < n and total < HEAD_BYTES:
                raw = fh.readline(MAX_LINE + 2)
                if not raw:
                    break
                text = raw.rstrip(b"\r\n")
                if len(text) > MAX_LINE:
                    raise InputFormatError(
                        f"a line longer than {MAX_LINE // (1 << 20)} MB: not a table of calls (a binary or damaged "
                        "file?); check --calls",
                        self.path,
                        len(lines) + 1,
                    )
                if not lines:
                    _check_text(text, self.path)
                total += len(raw)
                lines.append(text.decode("utf-8", errors="replace"))
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            if not lines:
                raise InputFormatError(
                    f"cannot read it as gzip ({exc}); re-compress or decompress it", self.path
                ) from None
        finally:
            fh.close()
        if lines:
            lines[0] = lines[0].lstrip("\ufeff")
        return lines

    def stream(self):
        """:meth:`open` with every line's length checked as the bytes pass (:class:`LineLimit`)."""
        return io.BufferedReader(LineLimit(self.open(), self.path), CHUNK)


def _check_text(first, path):
    """Refuse a first line that is no text table: UTF-16, or binary (NUL bytes; a BAM)."""
    if first[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputFormatError("the file is UTF-16 text; save it as UTF-8 (iconv -f UTF-16 -t UTF-8)", path)
    if first[:4] == b"BAM\x01":
        raise InputFormatError(
            "a BAM file of reads, not a table of calls; make one first (modkit pileup, MethylDackel extract, "
            "bismark_methylation_extractor)",
            path,
        )
    if b"\x00" in first:
        raise InputFormatError("binary data (NUL bytes) on line 1: not a text table of calls; check --calls", path, 1)


class LineLimit(io.RawIOBase):
    """The bytes of a file object, passed on in chunks while every line's length is checked: a line over
    :data:`MAX_LINE` is an :class:`InputFormatError` naming it, raised before it is held anywhere."""

    def __init__(self, fh, path):
        super().__init__()
        self.fh, self.path = fh, path
        self.run = 0  # bytes since the last line end
        self.lines = 0  # line ends passed

    def readable(self):
        return True

    def readinto(self, buf):
        try:
            data = self.fh.read(min(len(buf), CHUNK))
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise InputFormatError(
                f"the gzip stream is truncated or corrupt after line {self.lines} ({exc}); re-compress the file",
                self.path,
            ) from None
        if b"\x00" in data:  # binary data (or a text of NUL bytes): never a table of calls
            line = self.lines + data.count(b"\n", 0, data.find(b"\x00")) + 1
            raise InputFormatError(
                "binary data (a NUL byte): not a text table of calls; check --calls", self.path, line
            )
        first = data.find(b"\n")
        if first < 0:
            self.run += len(data)
        else:
            if self.run + first > MAX_LINE:
                self._too_long()
            self.lines += data.count(b"\n")
            self.run = len(data) - data.rfind(b"\n") - 1
        if self.run > MAX_LINE:
            self._too_long()
        buf[: len(data)] = data
        return len(data)

    def _too_long(self):
        raise InputFormatError(
            f"a line longer than {MAX_LINE // (1 << 20)} MB: not a table of calls (a binary or damaged file?); "
            "check --calls",
            self.path,
            self.lines + 1,
        )

    def close(self):
        self.fh.close()
        super().close()


def fields(line):
    """Fields of a line: tabs or spaces, quotes removed, trailing separators ignored."""
    return [f.strip("\"'") for f in line.split()]


def is_int(text):
    """Whether *text* is a whole number (sign allowed)."""
    return re.fullmatch(r"[+-]?\d+", text) is not None


def is_num(text):
    """Whether *text* parses as a float (nan and inf included, as pandas reads them)."""
    try:
        float(text)
        return True
    except ValueError:
        return False


def is_comment(line):
    """A blank, ``track``, ``browser`` or ``#`` line: not a call."""
    return line.lstrip().startswith(("track", "browser", "#")) or not line.strip()


def is_header(line):
    """A header line: a comment/track line, or one whose second field is not a number (a column name)."""
    if is_comment(line):
        return True
    f = fields(line)
    return len(f) >= 2 and not is_num(f[1]) and not is_num(f[2] if len(f) > 2 else "x")


def leading_headers(lines):
    """How many of *lines* (str) before the first data line are header or comment lines."""
    skip = 0
    while skip < len(lines) and is_header(lines[skip]):
        skip += 1
    return skip


def column_header(lines, skip):
    """The fields of the column header among the *skip* leading lines of *lines*: the last of them, unless it is
    blank or a ``track``/``browser`` line; a ``#`` line names columns (``#chrom start ...``) only when it has as
    many fields as the first data line (else it is a comment); [] when none."""
    if not skip:
        return []
    last = lines[skip - 1].lstrip()
    if not last or last.startswith(("track", "browser")):
        return []
    if last.startswith("#"):
        data = next((ln for ln in lines[skip:] if not is_comment(ln)), None)
        if data is None or len(fields(data)) != len(fields(last)):
            return []
    return fields(last)
