"""File helpers: transparent gzip, stdin/stdout as ``-``, atomic outputs."""

import contextlib
import gzip
import io
import os
import stat
import sys
import tempfile
import zipfile

import numpy as np

from mrcnn_tools.errors import InputFormatError, MrcnnError

GZIP_MAGIC = b"\x1f\x8b"
TEMP_STEM = 40  # characters of the output's name kept in its temporary name


def is_gzip(path):
    """Return True when *path* starts with the gzip magic bytes."""
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def check_readable(path, what="input file"):
    """Raise a clear error when *path* does not exist or is not a file."""
    if path == "-":
        return
    if not os.path.exists(path):
        raise MrcnnError(f"{path}: {what} does not exist; check the path")
    if os.path.isdir(path):
        raise MrcnnError(f"{path}: {what} is a directory, expected a file")


def require_regular_file(path, what="input file"):
    """Refuse stdin (``-``), a pipe (``<(cat x)``, a FIFO) or a device for an input read by seeking (a zip: dataset
    NPZ, model): the one home of this check, so that such an input is not reported missing or damaged.

    Paths that do not exist or cannot be examined are left to :func:`check_readable` and the reader.

    Raises
    ------
    MrcnnError
        One line naming the input, why, and the fix (write it to a file first).
    """
    fix = "write it to a file first (cat ... > FILE) and give FILE"
    if path == "-":
        raise MrcnnError(f"-: a {what} must be a regular (seekable) file, not stdin; {fix}")
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return
    kind = "a pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    raise MrcnnError(f"{path}: a {what} must be a regular (seekable) file, not {kind} or stdin; {fix}")


def open_text(path):
    """Open *path* for reading text; ``-`` is stdin, gzip is detected by content, not name."""
    if path == "-":
        raw = sys.stdin.buffer
        head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
        if head == GZIP_MAGIC:
            return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8", errors="replace")
        return io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
    check_readable(path)
    # one open, the magic bytes peeked: a pipe (<(zcat ...), /dev/stdin) cannot be read twice
    raw = open(path, "rb")
    if raw.peek(2)[:2] == GZIP_MAGIC:
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8", errors="replace")
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace")


def iter_lines(path):
    """Yield ``(line_number, line)`` of a text file; a truncated gzip becomes an InputFormatError."""
    fh = open_text(path)
    lineno = 0
    try:
        for lineno, line in enumerate(fh, 1):
            yield lineno, line
    except (EOFError, gzip.BadGzipFile, OSError) as exc:
        raise InputFormatError(
            f"the gzip stream is truncated or corrupt after line {lineno} ({exc}); re-download or re-compress the file",
            path,
        ) from None
    finally:
        if fh is not sys.stdin:
            fh.close()


def is_special_file(path):
    """True when *path* exists and is neither a regular file nor a directory (a device, a named pipe)."""

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


_deferred = {"depth": 0, "pending": None}


@contextlib.contextmanager
def deferred_signals():
    """Hold back the exception of SIGINT/SIGTERM (raised by the handler of :func:`guard.signals_raise`)
    while a temporary file is created and its name recorded for cleanup; it is raised when the block ends.

    Python runs signal handlers between any two bytecodes, also between the creation of a file and the
    assignment of its name: blocking the signal in the main thread would not help, since any other thread
    (TensorFlow's) may receive it.
    """
    _deferred["depth"] += 1
    try:
        yield
    finally:
        _deferred["depth"] -= 1
        if _deferred["depth"] == 0 and _deferred["pending"] is not None:
            exc, _deferred["pending"] = _deferred["pending"], None
            raise exc


def defer_signal(exc):
    """Called by a signal handler: keep *exc* for the end of a :func:`deferred_signals` block.

    Returns
    -------
    bool
        True when it was kept (a block is running), False when the handler should raise it now.
    """
    if _deferred["depth"] == 0:
        return False
    _deferred["pending"] = exc
    return True


def check_out_dir(path):
    """The directory *path* is to be written in; an MrcnnError when it does not exist.

    The one home of this check: the commands' output checks (:mod:`mrcnn_tools.runtime.guard`) and
    :func:`atomic_path` both use it.
    """
    out_dir = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(out_dir):
        raise MrcnnError(f"{path}: output directory {out_dir} does not exist; create it first")
    return out_dir


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yield a temporary path beside *path*; rename it onto *path* only on success.

    A failed or interrupted run leaves nothing behind, so a partial file is never mistaken for a result.
    """
    if is_special_file(path):
        # /dev/null, /dev/stdout, a named pipe: renaming onto it would replace the device, so write to it
        yield path
        return
    out_dir = check_out_dir(path)
    tmp = None
    try:
        with deferred_signals():  # a signal between creating the file and knowing its name would leak it
            # the temporary name must fit where the output's name fits (255 bytes): keep the start of the name
            fd, tmp = tempfile.mkstemp(
                dir=out_dir, prefix="." + os.path.basename(path)[:TEMP_STEM] + ".", suffix=".part" + suffix
            )
            os.close(fd)
        yield tmp
        # mkstemp makes the file private; give it the mode a plain open() would have
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.remove(tmp)
        raise


@contextlib.contextmanager
def open_output(path):
    """Open a text output: ``-`` or None is stdout; a ``.gz`` name is gzip-compressed; written atomically."""
    if path in (None, "-"):
        yield sys.stdout
        sys.stdout.flush()
        return
    with atomic_path(path) as tmp:
        if path.endswith(".gz"):
            # mtime=0 keeps gzip output byte-identical between runs
            with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                with io.TextIOWrapper(gz, encoding="utf-8", newline="\n") as fh:
                    yield fh
        else:
            with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
                yield fh


def save_npz(path, arrays, compresslevel=1):
    """Write arrays as a compressed NPZ that ``numpy.load`` reads, atomically.

    ``numpy.savez_compressed`` always deflates at level 6, ~6x slower than level 1 for base codes
    while saving only a third of the size.
    """

    with atomic_path(path, suffix=".npz") as tmp:
        zf = zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        try:
            for name, value in arrays.items():
                fh = zf.open(name + ".npy", "w", force_zip64=True)
                np.lib.format.write_array(fh, np.asanyarray(value), allow_pickle=False)
                fh.close()
            zf.close()
        except BaseException:
            # a signal or error in mid-entry leaves zipfile with an open entry: its own close would then raise
            # ValueError and hide the interrupt; the temporary file is removed by atomic_path
            with contextlib.suppress(Exception):
                if zf.fp is not None:
                    zf.fp.close()
                zf.fp = None  # so that ZipFile.__del__ does not try to finish the archive
            raise
    return path
