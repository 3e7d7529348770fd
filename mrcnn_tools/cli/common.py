"""Shared command-line plumbing: parent parsers, logging, exit codes (option types and deprecated aliases are
in :mod:`mrcnn_tools.cli.options`).

Every command runs through :func:`run`, which gives all of them the same protections without code of their own
(:mod:`mrcnn_tools.runtime.guard`): outputs checked before any work, SIGTERM handled like SIGINT (temporary files
removed), errors of the operating system as one line naming the path and the fix.
"""

import argparse
import contextlib
import logging
import os
import sys
import traceback

from mrcnn_tools import __version__
from mrcnn_tools.cli.options import ListOption, Parser, non_negative_int, positive_int
from mrcnn_tools.genome.regions import IntervalSet, Selection, parse_region, read_bed
from mrcnn_tools.models.backend import set_threads
from mrcnn_tools.runtime.guard import (
    Terminated,
    check_outputs,
    error_line,
    make_dirs,
    remove_empty_dirs,
    signals_raise,
    warnings_to_log,
)

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
        default = ",".join(str(d) for d in default)
    return f"{text} (default: {default})"


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples of the description as written and shows only defaults worth showing."""

    def _get_help_string(self, action):
        text = action.help or ""
        extra = help_with_default(action)[len(text) :]
        return text + extra.replace("%", "%%")


EPILOG = (
    "exit status:\n  0 success; 1 error in the data or the environment (one line on stderr naming the file\n"
    "  and the fix); 2 usage; 130 interrupted (SIGINT); 143 terminated (SIGTERM)\n\n"
    f"File formats and conventions: {FORMATS_DOC} in the mrcnn-tools sources."
)


def make_parser(prog, description, parents=()):
    """An ArgumentParser with the options every command has (--version, --quiet, --verbose)."""
    parser = Parser(
        prog=prog,
        description=description,
        formatter_class=_Formatter,
        parents=[logging_parser(), *parents],
        epilog=EPILOG,
    )
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
    p.add_argument(
        "--seed", type=non_negative_int, default=0, help="random seed: the same inputs and seed give the same output"
    )
    return p


def compute_parser(batch_size=512):
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("compute")
    g.add_argument(
        "--batch-size",
        type=positive_int,
        default=batch_size,
        help="sites per batch (Keras models predict 1024 sites at a time whatever this is, so that "
        "predictions do not depend on it)",
    )
    g.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="CPU threads for TensorFlow and NumPy/BLAS (default: all cores)",
    )
    return p


def genome_parser(required=True):
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("genome")
    g.add_argument(
        "-g",
        "--genome",
        required=required,
        metavar="FASTA",
        help="genome FASTA, plain or bgzip-compressed (the .fai is built beside it when absent, or "
        "in $MRCNN_CACHE_DIR or ~/.cache/mrcnn-tools when its directory is read-only)",
    )
    return p


def selection_parser():
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("site selection")
    g.add_argument(
        "--chroms",
        action=ListOption,
        metavar="CHROM",
        help="only these chromosomes, comma-separated or repeated (chr22 matches 22)",
    )
    g.add_argument(
        "--exclude-chroms",
        action=ListOption,
        metavar="CHROM",
        help="leave these chromosomes out (comma-separated or repeated)",
    )
    g.add_argument(
        "--region",
        action="append",
        metavar="CHR:START-END",
        help="only this region, 1-based inclusive as in samtools (repeatable)",
    )
    g.add_argument("--regions", metavar="BED", help="only the regions of this BED file (0-based half-open)")
    return p


def selection(args, **kwargs):
    """The :class:`mrcnn_tools.genome.regions.Selection` of --chroms, --exclude-chroms, --region and --regions."""

    intervals = [parse_region(r) for r in args.region or []] + (read_bed(args.regions) if args.regions else [])
    return Selection(
        chroms=args.chroms,
        exclude_chroms=args.exclude_chroms,
        regions=IntervalSet(intervals) if intervals else None,
        **kwargs,
    )


def setup_logging(prog, args):
    level = (
        logging.ERROR
        if getattr(args, "quiet", False)
        else (logging.DEBUG if getattr(args, "verbose", False) else logging.INFO)
    )
    root = logging.getLogger("mrcnn_tools")
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{prog}: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    return root


def _paths(value):
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def _checked_outputs(args, parser):
    """The outputs of *args*, checked (:func:`mrcnn_tools.runtime.guard.check_outputs`); returns directories to
    create."""
    names = {
        a.dest: "/".join(a.option_strings) if a.option_strings else (a.metavar or a.dest)
        for a in parser._actions
        if a.help != argparse.SUPPRESS
    }  # new spellings, not hidden aliases
    values = vars(args)
    named = [(names.get(k, k), p) for k in OUTPUT_FILES for p in _paths(values.get(k))]
    dirs = [(names.get(k, k), p) for k in OUTPUT_DIRS for p in _paths(values.get(k))]
    inputs = [(names.get(k, k), p) for k, v in values.items() if k not in OUTPUT_FILES + OUTPUT_DIRS for p in _paths(v)]
    return check_outputs(named, dirs, inputs)


def run(prog, parser, body, argv=None):
    """Parse *argv*, run ``body(args, log)`` and map outcomes to exit codes.

    Outputs are checked first and the output directories created (removed again, when empty, if the command
    fails). Errors (MrcnnError, OSError: permission, disk full, file-size limit ...,
    a failed external program, anything unexpected) become one line on stderr, never a traceback
    (``--verbose`` adds it). SIGINT exits 130 and SIGTERM 143, after the temporary files are removed.
    """
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    log = setup_logging(prog, args)
    for message in vars(args).pop("_deprecated", []):
        log.warning(message)
    outputs = [v for k in OUTPUT_FILES + OUTPUT_DIRS for v in _paths(vars(args).get(k)) if v != "-"]
    created = []
    code = EXIT_ERROR
    with signals_raise(), warnings_to_log(log):
        try:
            make_dirs(_checked_outputs(args, parser), created)  # --out-dir with its parents
            with set_threads(getattr(args, "threads", None)):  # NumPy/BLAS, OpenMP and TensorFlow
                result = body(args, log)
            code = EXIT_OK if result is None else int(result)
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
        except Exception as exc:
            log.debug("%s", traceback.format_exc().rstrip())
            message, code = error_line(exc, outputs)
            log.error("error: %s", message)
        finally:
            if code != EXIT_OK:
                for d in created:
                    remove_empty_dirs(d)
    return code
