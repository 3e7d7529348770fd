"""Shared command-line plumbing: parent parsers, logging, and turning errors into exit codes."""

import argparse
import logging
import os
import sys

from .. import __version__
from ..errors import MrcnnError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    pass


def make_parser(prog, description, parents=()):
    """An ArgumentParser with the options every command has (--version, --quiet, --verbose)."""
    parser = argparse.ArgumentParser(prog=prog, description=description, formatter_class=_Formatter,
                                     parents=[logging_parser(), *parents])
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
    g.add_argument("--batch-size", type=positive_int, default=batch_size, help="sites per batch")
    g.add_argument("--threads", type=positive_int, default=None,
                   help="CPU threads for TensorFlow and NumPy (default: all cores)")
    return p


def genome_parser(required=True):
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("genome")
    g.add_argument("-g", "--genome", required=required, metavar="FASTA",
                   help="genome FASTA, plain or bgzip-compressed (.fai built when absent)")
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


def run(prog, parser, body, argv=None):
    """Parse *argv*, run ``body(args, log)`` and map outcomes to exit codes.

    User errors (MrcnnError) become one line on stderr, never a traceback.
    """
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    log = setup_logging(prog, args)
    try:
        result = body(args, log)
        return EXIT_OK if result is None else int(result)
    except MrcnnError as exc:
        log.error("error: %s", exc)
        return exc.exit_code
    except KeyboardInterrupt:
        log.error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader of our stdout went away (e.g. `| head`): not an error of ours
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK
    except MemoryError:
        log.error("error: out of memory; use --batch-size, --shard-size or --max-sites to work in smaller parts")
        return EXIT_ERROR
