"""Shared command-line plumbing: parent parsers, logging, and turning errors and signals into exit codes.

Every command runs through :func:`run`, which gives all of them the same protections without code of their own:
outputs are checked before any work (not an input, creatable, not a directory), SIGTERM is handled like SIGINT
(temporary files removed), and errors of the operating system become one line naming the path and the fix.
"""

import argparse
import contextlib
import errno
import logging
import os
import re
import signal
import sys
import tempfile
import time
import traceback
import warnings

from .. import __version__
from ..errors import MrcnnError
from ..io import defer_signal, deferred_signals

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143

FORMATS_DOC = "docs/FORMATS.md"

# Option destinations that name files or directories a command writes; every other path-valued option that
# names an existing file is an input, and no output may resolve to one.
OUTPUT_FILES = ("output", "bigwig", "history", "tsne")
OUTPUT_DIRS = ("out_dir",)


def help_with_default(action):
    """The help text of *action* with ``(default: X)`` appended when the default says something.

    Nothing is appended for flags, for options whose default is None (unset) or an empty list, or when the
    help text already describes its default; the man pages (man/build.sh) use the same text.
    """
    text = action.help or ""
    if text == argparse.SUPPRESS or action.nargs == 0 or "default" in text.lower():
        return text
    default = action.default
    if default is None or default is argparse.SUPPRESS or isinstance(default, bool) or default == []:
        return text
    if isinstance(default, (list, tuple)):
        default = " ".join(str(d) for d in default)
    return f"{text} (default: {default})"


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples of the description as written and shows only defaults worth showing."""

    def _get_help_string(self, action):
        text = action.help or ""
        extra = help_with_default(action)[len(text):]
        return text + extra.replace("%", "%%")


EPILOG = ("exit status:\n  0 success; 1 error in the data or the environment (one line on stderr naming the file\n"
          "  and the fix); 2 usage; 130 interrupted (SIGINT); 143 terminated (SIGTERM)\n\n"
          f"File formats and conventions: {FORMATS_DOC} in the mrcnn-tools sources.")


def make_parser(prog, description, parents=()):
    """An ArgumentParser with the options every command has (--version, --quiet, --verbose)."""
    parser = argparse.ArgumentParser(prog=prog, description=description, formatter_class=_Formatter,
                                     parents=[logging_parser(), *parents], epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def logging_parser():
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("logging")
    g.add_argument("-q", "--quiet", action="store_true", help="print only errors on stderr")
    g.add_argument("-v", "--verbose", action="store_true", help="print debugging details on stderr")
    return p


def seed_parser():
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--seed", type=int, default=0, help="random seed: the same inputs and seed give the same output")
    return p


def compute_parser(batch_size=512):
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("compute")
    g.add_argument("--batch-size", type=positive_int, default=batch_size,
                   help="sites per batch (Keras models predict 1024 sites at a time whatever this is, so that "
                        "predictions do not depend on it)")
    g.add_argument("--threads", type=positive_int, default=None,
                   help="CPU threads for TensorFlow and NumPy (default: all cores)")
    return p


def genome_parser(required=True):
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("genome")
    g.add_argument("-g", "--genome", required=required, metavar="FASTA",
                   help="genome FASTA, plain or bgzip-compressed (the .fai is built beside it when absent, or "
                        "in $MRCNN_CACHE_DIR or ~/.cache/mrcnn-tools when its directory is read-only)")
    return p


def selection_parser():
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("site selection")
    g.add_argument("--chroms", nargs="+", metavar="CHROM", help="only these chromosomes (chr22 matches 22)")
    g.add_argument("--exclude-chroms", nargs="+", metavar="CHROM", help="leave these chromosomes out")
    g.add_argument("--region", action="append", metavar="CHR:START-END",
                   help="only this region, 1-based inclusive as in samtools (repeatable)")
    g.add_argument("--regions", metavar="BED", help="only the regions of this BED file (0-based half-open)")
    return p


def _int_at_least(minimum, words):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} {words}")
        return value

    return parse


positive_int = _int_at_least(1, "must be at least 1")
non_negative_int = _int_at_least(0, "must not be negative")


def fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{value} must lie between 0 and 1")
    return value


def setup_logging(prog, args):
    level = logging.ERROR if getattr(args, "quiet", False) else (
        logging.DEBUG if getattr(args, "verbose", False) else logging.INFO)
    root = logging.getLogger("mrcnn_tools")
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{prog}: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    return root


def set_threads(threads):
    """Limit NumPy/BLAS threads via the environment; TensorFlow threads are set where TF is imported."""
    if threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(threads)


class Terminated(KeyboardInterrupt):
    """SIGTERM (Slurm's time limit, scancel, kill) raised in the main thread.

    A subclass of KeyboardInterrupt so that every cleanup that runs on Ctrl-C (temporary files of
    :func:`mrcnn_tools.io.atomic_path`, checkpoints) also runs on SIGTERM.
    """


@contextlib.contextmanager
def _signals_raise():
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


@contextlib.contextmanager
def _warnings_to_log(log):
    """Python warnings (pyfaidx, matplotlib, NumPy ...) go to the debug log, shown with --verbose only and
    without the site-packages paths that mean nothing to a user; what a user must know is logged as a
    ``warning:`` line by the commands themselves."""
    with warnings.catch_warnings():
        warnings.simplefilter("default")

        def show(message, category, filename, lineno, file=None, line=None):
            log.debug("%s: %s (%s:%s)", category.__name__, clean_message(str(message)), filename, lineno)

        warnings.showwarning = show
        yield


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
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _option_names(parser):
    names = {}
    for action in parser._actions:
        names[action.dest] = "/".join(action.option_strings) if action.option_strings else (
            action.metavar or action.dest)
    return names


def _path_values(value):
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


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
        raise MrcnnError(f"{path}: cannot create files in {directory} ({exc.strerror}); "
                         "choose a writable directory or fix its permissions") from None


def check_outputs(args, parser=None):
    """Refuse, before any work, outputs that would overwrite an input or cannot be created.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options; the outputs are the destinations in ``OUTPUT_FILES`` and ``OUTPUT_DIRS``.
    parser : argparse.ArgumentParser, optional
        Used to name options in messages.

    Returns
    -------
    list of str
        Output directories that do not exist yet (the command creates them; :func:`run` removes them again,
        if still empty, when the command fails).

    Raises
    ------
    MrcnnError
        When an output resolves to an input file (symbolic or hard links included), names a directory
        instead of a file (or a file instead of a directory), or its directory is missing or not writable.
    """
    values = vars(args)
    names = _option_names(parser) if parser is not None else {}
    files = [(k, values[k]) for k in OUTPUT_FILES if isinstance(values.get(k), str) and values[k] != "-"]
    dirs = [(k, values[k]) for k in OUTPUT_DIRS if isinstance(values.get(k), str)]
    inputs = [(k, p) for k, v in values.items() if k not in OUTPUT_FILES + OUTPUT_DIRS
              for p in _path_values(v) if p != "-" and os.path.isfile(p)]
    for key, out in files:
        for ikey, inp in inputs:
            if _same_file(out, inp):
                raise MrcnnError(f"{out}: {names.get(key, key)} is the input {inp} ({names.get(ikey, ikey)}); "
                                 "writing it would destroy the input: choose another output name")
    for i, (key, out) in enumerate(files):
        for key2, out2 in files[i + 1:]:
            if _same_file(out, out2):
                raise MrcnnError(f"{out}: {names.get(key, key)} and {names.get(key2, key2)} name the same file; "
                                 "give them different names")
    from ..io import is_special_file

    for key, out in files:
        if is_special_file(out):
            continue  # /dev/null, /dev/stdout, a named pipe: written as it is, nothing to create
        if os.path.isdir(out):
            raise MrcnnError(f"{out}: {names.get(key, key)} names a directory; give a file name, "
                             f"e.g. {os.path.join(out, 'out' + os.path.splitext(out.rstrip(os.sep))[1])}")
        parent = os.path.dirname(os.path.abspath(out))
        if not os.path.isdir(parent):
            raise MrcnnError(f"{out}: output directory {parent} does not exist; create it first")
        try:
            name_max = os.pathconf(parent, "PC_NAME_MAX")
        except (OSError, ValueError):
            name_max = 255
        if len(os.fsencode(os.path.basename(out))) > name_max:
            short = os.path.join(os.path.dirname(out), os.path.basename(out)[:40] + "...")
            raise MrcnnError(f"{short}: file name too long (over {name_max} bytes); choose a shorter name")
        _probe_writable(parent, out)
    created = []
    for key, out in dirs:
        if os.path.exists(out) and not os.path.isdir(out):
            raise MrcnnError(f"{out}: {names.get(key, key)} names a file, not a directory; give a directory "
                             "(it is created when absent)")
        if os.path.isdir(out):
            _probe_writable(out, out)
            continue
        parent = os.path.dirname(os.path.abspath(out))
        if not os.path.isdir(parent):
            raise MrcnnError(f"{out}: the parent directory {parent} does not exist; create it first")
        _probe_writable(parent, out)
        created.append(out)
    return created


_OS_FIXES = {
    errno.EACCES: "permission denied; check the permissions of the file and its directory (ls -l) or use "
                  "another path",
    errno.EPERM: "operation not permitted; check the permissions of the file and its directory or use "
                 "another path",
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


def _remove_empty_dirs(top):
    """Remove *top* and its subdirectories where empty, deepest first; files are never touched."""
    for root, _, _ in sorted(os.walk(top), key=lambda w: -w[0].count(os.sep)):
        with contextlib.suppress(OSError):
            os.rmdir(root)


def run(prog, parser, body, argv=None):
    """Parse *argv*, run ``body(args, log)`` and map outcomes to exit codes.

    Outputs are checked first (:func:`check_outputs`). User errors (MrcnnError) and errors of the operating
    system (OSError: permission, disk full, file-size limit ...) become one line on stderr, never a traceback
    (``--verbose`` adds it). SIGINT exits 130 and SIGTERM 143, after the temporary files are removed.
    """
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    log = setup_logging(prog, args)
    outputs = [v for k in OUTPUT_FILES + OUTPUT_DIRS for v in _path_values(vars(args).get(k)) if v != "-"]
    created = []
    code = EXIT_ERROR
    with _signals_raise(), _warnings_to_log(log):
        try:
            created = check_outputs(args, parser)
            result = body(args, log)
            code = EXIT_OK if result is None else int(result)
        except MrcnnError as exc:
            log.debug("%s", traceback.format_exc().rstrip())
            log.error("error: %s", clean_message(exc))
            code = exc.exit_code
        except Terminated:
            log.error("terminated (SIGTERM); temporary files removed")
            code = EXIT_TERMINATED
        except KeyboardInterrupt:
            log.error("interrupted")
            code = EXIT_INTERRUPTED
        except BrokenPipeError:
            # the reader of our stdout went away (e.g. `| head`): not an error of ours
            with contextlib.suppress(OSError):
                sys.stdout = open(os.devnull, "w")
            code = EXIT_OK
        except OSError as exc:
            log.debug("%s", traceback.format_exc().rstrip())
            log.error("error: %s", os_error_message(exc, outputs))
            code = EXIT_ERROR
        except MemoryError:
            log.error("error: out of memory; use --batch-size, --shard-size or --max-sites to work in smaller parts")
            code = EXIT_ERROR
        finally:
            if code != EXIT_OK:
                for d in created:
                    _remove_empty_dirs(d)
    return code
