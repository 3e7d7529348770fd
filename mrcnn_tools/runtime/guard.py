"""Protections every command gets before and around its work: outputs checked before any work, SIGINT and
SIGTERM turned into exceptions (so that temporary files are removed), and errors of the operating system
turned into one line naming the path and the fix.

The command line (:func:`mrcnn_tools.cli.common.run`) applies them; they live here, beside
:mod:`mrcnn_tools.io`, because they know about files and signals, not about options.
"""

import contextlib
import errno
import os
import re
import signal
import subprocess
import tempfile
import time
import warnings

from mrcnn_tools.errors import MrcnnError
from mrcnn_tools.io import check_out_dir, defer_signal, deferred_signals, is_special_file


class Terminated(KeyboardInterrupt):
    """SIGTERM (Slurm's time limit, scancel, kill) raised in the main thread.

    A subclass of KeyboardInterrupt so that every cleanup that runs on Ctrl-C (temporary files of
    :func:`mrcnn_tools.io.atomic_path`, checkpoints) also runs on SIGTERM.
    """


@contextlib.contextmanager
def signals_raise():
    """Turn SIGINT and SIGTERM into exceptions for the duration of a command; restore the handlers after."""
    first = []

    def handler(signum, frame):
        # a second signal within a few seconds would interrupt the cleanup the first one started
        if first and time.monotonic() - first[0] < 5:
            return
        first[:] = [time.monotonic()]
        exc = Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()
        if not defer_signal(exc):  # else raised as soon as the temporary file's name is known
            raise exc

    previous = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(sig) is signal.SIG_IGN:
                continue  # nohup or a background job of a script: the caller chose to ignore it
            previous[sig] = signal.signal(sig, handler)
        if hasattr(signal, "SIGXFSZ"):
            # beyond `ulimit -f` a write must fail with EFBIG (cleaned up, one line), not kill the process
            previous[signal.SIGXFSZ] = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    except ValueError:
        pass  # not the main thread (a command called from a worker thread): signals stay with the caller
    try:
        yield
    finally:
        for sig, old in previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, old if old is not None else signal.SIG_DFL)


def clean_message(text, limit=1000):
    """One printable line: no raw bytes of a binary file, no newline, at most *limit* characters."""

    def _unprintable(ch):
        return ch == "\ufffd" or (not ch.isprintable() and ch not in "\n\r\t")

    def quoted(m):
        # a quoted line of a binary file: say what it is rather than echo its bytes
        inner = m.group(1)
        return "'<binary data>'" if sum(map(_unprintable, inner)) >= max(2, len(inner) // 20) else m.group(0)

    text = re.sub(r"'([^'\n]*)'", quoted, str(text))
    out, bad = [], False
    for ch in text:
        if ch in "\n\r\t":
            ch = " "
        if ch == "\ufffd" or not ch.isprintable():
            if not bad:
                out.append("?")  # a run of raw bytes becomes one '?'
            bad = True
            continue
        bad = False
        out.append(ch)
    text = "".join(out)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _same_file(a, b):
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links
    except OSError:
        return False


def _probe_writable(directory, path):
    """Create and remove a file in *directory*: a missing permission or a read-only file system shows now, not
    after hours of work."""
    try:
        with deferred_signals():
            fd, probe = tempfile.mkstemp(dir=directory, prefix=".mrcnn.", suffix=".probe")
            os.close(fd)
            os.remove(probe)
    except OSError as exc:
        raise MrcnnError(
            f"{path}: cannot create files in {directory} ({exc.strerror}); "
            "choose a writable directory or fix its permissions"
        ) from None


def _existing_ancestor(path):
    """The nearest existing ancestor of *path* (absolute), *path* itself when it exists."""
    path = os.path.abspath(path)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    return path


def _inside(path, directory):
    """Whether *path* is *directory* or lies below it (both made absolute)."""
    path, directory = os.path.abspath(path), os.path.abspath(directory)
    return os.path.commonpath([path, directory]) == directory


def _check_file(name, out, new_dirs=()):
    """Check the output file *out*; returns its directory when it must be created (it lies inside one of the
    output directories *new_dirs* that the command creates), else None."""
    if is_special_file(out):
        return None  # /dev/null, /dev/stdout, a named pipe: written as it is, nothing to create
    if os.path.isdir(out):
        raise MrcnnError(
            f"{out}: {name} names a directory; give a file name, "
            f"e.g. {os.path.join(out, 'out' + os.path.splitext(out.rstrip(os.sep))[1])}"
        )
    directory = os.path.dirname(os.path.abspath(out))
    create = not os.path.isdir(directory) and any(_inside(directory, d) for d in new_dirs)
    # inside a new --out-dir (e.g. --tsne OUT/tsne.png --out-dir OUT): its writable ancestor was probed already
    parent = _existing_ancestor(directory) if create else check_out_dir(out)
    try:
        name_max = os.pathconf(parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    if len(os.fsencode(os.path.basename(out))) > name_max:
        short = os.path.join(os.path.dirname(out), os.path.basename(out)[:40] + "...")
        raise MrcnnError(f"{short}: file name too long (over {name_max} bytes); choose a shorter name")
    if create:
        return directory
    _probe_writable(parent, out)
    return None


def _check_dir(name, out):
    """True when *out* must be created (with its missing parents: the nearest existing one is writable)."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise MrcnnError(f"{out}: {name} names a file, not a directory; give a directory (it is created when absent)")
    if os.path.isdir(out):
        _probe_writable(out, out)
        return False
    ancestor = _existing_ancestor(out)
    if not os.path.isdir(ancestor):
        raise MrcnnError(f"{out}: {ancestor} is a file, not a directory; give a directory path for {name}")
    _probe_writable(ancestor, out)
    return True


def check_outputs(files, dirs=(), inputs=()):
    """Refuse, before any work, outputs that would overwrite an input or cannot be created.

    Parameters
    ----------
    files, dirs : sequence of (str, str)
        ``(name, path)`` of output files and output directories; *name* (an option, e.g. ``-o/--output``)
        is used in messages. ``-`` (stdout) is skipped.
    inputs : sequence of (str, str)
        ``(name, path)`` of input files.

    Returns
    -------
    list of str
        Output directories that do not exist yet: each ``--out-dir`` (created with its parents) and the
        directory of each output file that lies inside one of them (``--tsne OUT/tsne.png --out-dir OUT``).
        The caller creates them with :func:`make_dirs` and, when it fails, removes them again with
        :func:`remove_empty_dirs`.

    Raises
    ------
    MrcnnError
        When an output resolves to an input file (symbolic or hard links included), two outputs name one
        file, an output names a directory instead of a file (or a file instead of a directory), or its
        directory is missing (outside the output directories) or not writable.
    """
    files = [(k, p) for k, p in files if p != "-"]
    inputs = [(k, p) for k, p in inputs if p != "-" and os.path.isfile(p)]
    for key, out in files:
        for ikey, inp in inputs:
            if _same_file(out, inp):
                raise MrcnnError(
                    f"{out}: {key} is the input {inp} ({ikey}); "
                    "writing it would destroy the input: choose another output name"
                )
    for i, (key, out) in enumerate(files):
        for key2, out2 in files[i + 1 :]:
            if _same_file(out, out2):
                raise MrcnnError(f"{out}: {key} and {key2} name the same file; give them different names")
    new_dirs = [out for key, out in dirs if _check_dir(key, out)]
    for key, out in files:
        directory = _check_file(key, out, new_dirs)
        if directory is not None and directory not in new_dirs:
            new_dirs.append(directory)
    return new_dirs


def make_dirs(paths, created):
    """Create the directories *paths* with their parents; the first missing directory of each goes into *created*
    before it is made, so that a failure half-way is cleaned up too (:func:`remove_empty_dirs`)."""
    for path in paths:
        top = os.path.abspath(path)
        if os.path.isdir(top):
            continue
        while not os.path.isdir(os.path.dirname(top)):
            top = os.path.dirname(top)
        if not any(_inside(top, c) for c in created):
            created.append(top)
        os.makedirs(path, exist_ok=True)


_OS_FIXES = {
    errno.EACCES: "permission denied; check the permissions of the file and its directory (ls -l) or use another path",
    errno.EPERM: "operation not permitted; check the permissions of the file and its directory or use another path",
    errno.ENOSPC: "no space left on the device; free space or write the output elsewhere",
    errno.EDQUOT: "disk quota exceeded; free space or write the output elsewhere",
    errno.EFBIG: "file too large for the file-size limit (ulimit -f) or the file system; raise the limit "
    "or write the output elsewhere",
    errno.ENAMETOOLONG: "file name too long; choose a shorter name",
    errno.EISDIR: "is a directory; give a file name",
    errno.ENOTDIR: "a part of the path is not a directory; check the path",
    errno.ENOENT: "does not exist; check the path",
    errno.EROFS: "read-only file system; write the output elsewhere",
    errno.EIO: "input/output error (failing disk or network file system); check the storage and rerun",
    errno.EMFILE: "too many open files; raise the limit (ulimit -n) and rerun",
}


def os_error_message(exc, outputs=()):
    """One line for an OSError: the path it concerns (the output when the error has none) and the fix."""
    path = exc.filename2 or exc.filename
    if path is None:
        path = next(iter(outputs), None) or "standard output"
    fix = _OS_FIXES.get(exc.errno)
    if fix is None:
        fix = f"{exc.strerror or exc}; check the path and the storage and rerun"
    return clean_message(f"{os.fsdecode(path)}: {fix}")


def remove_empty_dirs(top):
    """Remove *top* and its subdirectories where empty, deepest first; files are never touched."""
    for root, _, _ in sorted(os.walk(top), key=lambda w: -w[0].count(os.sep)):
        with contextlib.suppress(OSError):
            os.rmdir(root)


@contextlib.contextmanager
def warnings_to_log(log):
    """Python warnings (pyfaidx, matplotlib, NumPy ...) go to the debug log, shown with --verbose only and
    without the site-packages paths that mean nothing to a user; what a user must know is logged as a
    ``warning:`` line by the commands themselves."""
    with warnings.catch_warnings():
        warnings.simplefilter("default")

        def show(message, category, filename, lineno, file=None, line=None):
            log.debug("%s: %s (%s:%s)", category.__name__, clean_message(str(message)), filename, lineno)

        warnings.showwarning = show
        yield


def error_line(exc, outputs):
    """(one line, exit code) for an exception a command did not handle itself.

    MrcnnError carries its own message and code (1, or 2 for usage); an OSError names its path (or the first
    of *outputs*) and the fix; a failed external program (``meme``) names its command line; anything else
    says it is unexpected. The traceback is for ``--verbose`` (the caller logs it at debug level).
    """
    if isinstance(exc, MrcnnError):
        return clean_message(exc), exc.exit_code
    if isinstance(exc, OSError):
        return os_error_message(exc, outputs), 1
    if isinstance(exc, MemoryError):
        return "out of memory; use --batch-size, --shard-size or --max-sites to work in smaller parts", 1
    if isinstance(exc, subprocess.CalledProcessError):
        cmd = exc.cmd if isinstance(exc.cmd, str) else " ".join(map(str, exc.cmd))
        return clean_message(
            f"{cmd.split()[0]} failed (exit status {exc.returncode}): {cmd}; run it by hand to see its messages"
        ), 1
    return clean_message(f"{type(exc).__name__}: {exc} (an unexpected error; -v shows where, please report it)"), 1
