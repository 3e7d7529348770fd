"""A calls file or stdin that can be read more than once, and the syntax of its lines (fields, comments, headers).

Shared by format detection and the table reader (:mod:`formats`): tabs or spaces, quotes, a UTF-8 byte order mark,
``track``/``browser``/``#`` lines; plain, gzip, a pipe or stdin.
"""

import gzip
import io
import os
import re
import sys
import zlib

from mrcnn_tools.errors import InputFormatError
from mrcnn_tools.io import GZIP_MAGIC, check_readable


class Source:
    """A calls file or stdin, which can be opened more than once (stdin is read once and kept)."""

    _stdin = (None, None)  # stdin can be read once: (stream, bytes) kept for a second reading

    def __init__(self, path):
        self.path = path
        self._data = None
        if path == "-":
            if Source._stdin[0] is not sys.stdin:
                raw = sys.stdin.buffer.read()
                Source._stdin = (sys.stdin, self._gunzip(raw) if raw[:2] == GZIP_MAGIC else raw)
            self._data = Source._stdin[1]
        else:
            check_readable(path, "calls file")
            with open(path, "rb") as fh:
                if os.path.isfile(path):
                    self._gz = fh.read(2) == GZIP_MAGIC
                else:
                    # a pipe such as <(zcat calls.gz) can be read only once: keep what it gives
                    raw = fh.read()
                    self._data = self._gunzip(raw) if raw[:2] == GZIP_MAGIC else raw

    def _gunzip(self, raw):
        try:
            return gzip.decompress(raw)
        except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
            raise InputFormatError(
                f"the gzip stream is truncated or corrupt ({exc}); re-compress it", self.path
            ) from None

    def open(self):
        """A binary file object from the start."""
        if self._data is not None:
            return io.BytesIO(self._data)
        return gzip.open(self.path, "rb") if self._gz else open(self.path, "rb")

    def head(self, n=200):
        """The first *n* lines (raw text, line ends removed, blank lines kept), decoded leniently."""
        lines = []
        fh = self.open()
        try:
            for raw in fh:
                lines.append(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
                if len(lines) >= n:
                    break
        except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
            if not lines:
                raise InputFormatError(
                    f"cannot read it as gzip ({exc}); re-compress or decompress it", self.path
                ) from None
        finally:
            fh.close()
        if lines:
            lines[0] = lines[0].lstrip("\ufeff")
        return lines


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
