"""How mrcnn-encode encodes: :class:`EncodeOptions`, the one home of each encode default.

mrcnn-encode's parser takes its defaults and their help from here (:func:`option_help`), and so does a library
caller of :func:`mrcnn_tools.data.encode.encode_dataset` (or of :func:`~mrcnn_tools.data.encode.encode`): the same
options give the same dataset from the command and from the library.
"""

import math
from dataclasses import dataclass, field, fields

from mrcnn_tools.calls.readers import FORMATS, LEVEL_SCALES
from mrcnn_tools.errors import UsageError
from mrcnn_tools.genome.regions import Selection


def _opt(default, text):
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class EncodeOptions:
    """Options of one encode (the genome, the calls and the CpG islands are given beside them).

    Attributes
    ----------
    all_cpgs : bool
        The sites are every CpG of the selection (unlabelled, or labelled where the calls observe them), not the
        observed calls.
    context : int
        Observed neighbours stored on each side of each site (0: none); needs calls.
    selection : mrcnn_tools.genome.regions.Selection or None
        Chromosomes and regions (None: all). Its ``max_sites``/``seed`` are not used: give them here.
    calls_format, mod_code, level_scale : str or None
        How the calls are read (:func:`mrcnn_tools.calls.readers.read_calls`; None: detected).
    min_cpg_fraction : float
        Refuse calls of which fewer sit on a C (+) or G (-) of the genome.
    skip_missing_chroms : bool
        Drop calls on chromosomes absent from the genome without a warning.
    keep_strands : bool
        Keep + and - calls of a CpG as separate sites (minus windows reverse-complemented).
    min_coverage : int
        Sites with fewer reads (after strand merging) are dropped; not applied to formats without counts.
    flank : int
        Bases on each side of the site, the site not counted: windows of ``2 * flank``.
    windows : bool
        Cut the windows; False gives a sites-only dataset (``seq`` of shape (n, 0)).
    max_n_fraction : float
        Drop sites whose window has a larger fraction of N inside the chromosome.
    max_sites : int or None
        Keep a random subset of at most this many sites (*seed*).
    min_samples : int
        With several samples, keep the sites observed in at least this many of them (after ``min_coverage``).
    seed : int or None
        Seed of the subsample (None: a different one each run).
    """

    all_cpgs: bool = _opt(
        False,
        "every CpG of the genome (or of --chroms/--region) for prediction: unlabelled, or with "
        "--calls labelled where observed",
    )
    context: int = _opt(
        0,
        "store the K nearest other observed CpGs on each side of each site (levels, distances, "
        "coverage) from --calls, for --arch mrcnn-context; 0 = none",
    )
    selection: Selection = None
    calls_format: str = _opt(
        None, f"format of --calls, one of {', '.join(FORMATS)} (default: detected from the content)"
    )
    mod_code: str = _opt(
        None,
        "modkit pileups: modification code whose level is read (default m = 5mC; h = 5hmC; C = modkit --combine-mods)",
    )
    level_scale: str = _opt(
        None,
        "bedGraph levels: percent (0-100) or fraction (0-1) (default: decided from the whole "
        "column and said on stderr)",
    )
    min_cpg_fraction: float = _opt(
        0.9,
        "refuse calls of which fewer sit on a C (+) or G (-) of the genome (wrong assembly or "
        "coordinates); calls on cytosines outside CpGs are then dropped (default {default})",
    )
    skip_missing_chroms: bool = _opt(
        False,
        "drop calls on chromosomes absent from the genome silently (default: with a warning; "
        "stop when no call is on the genome)",
    )
    keep_strands: bool = _opt(
        False,
        "keep + and - calls of a CpG apart (minus windows reverse-complemented); "
        "default: merged as Bismark's --merge_CpG",
    )
    min_coverage: int = _opt(5, "drop sites with fewer reads (after strand merging)")
    flank: int = _opt(200, "bases on each side of the site, the site not counted (window = 2*flank)")
    windows: bool = _opt(
        True,
        "sites only (genome scale): cut no windows; seq is stored with shape (n, 0) and "
        "mrcnn-train/mrcnn-predict cut the windows from --genome",
    )
    max_n_fraction: float = _opt(
        0.5,
        "drop sites whose window has a larger fraction of N inside the chromosome (gaps, "
        "unsequenced pieces; bases beyond a chromosome end are N but not counted, so calls on "
        "short contigs are kept); 0 = no N at all, 1 = keep all (default {default})",
    )
    max_sites: int = _opt(None, "keep at most N sites: a random subset of those selected (--seed)")
    min_samples: int = _opt(
        1, "several samples: keep the sites observed (after --min-coverage) in at least K samples (default {default})"
    )
    seed: int = 0

    def __post_init__(self):
        def bad(name, want):
            raise UsageError(f"encode option {name} {getattr(self, name)!r}: give {want}")

        if int(self.flank) < 1:
            bad("flank", "a positive number of bases")
        if int(self.min_samples) < 1:
            bad("min_samples", "at least 1")
        for name in ("min_coverage", "context", "seed"):
            if getattr(self, name) is not None and int(getattr(self, name)) < 0:
                bad(name, "a number >= 0")
        for name in ("max_n_fraction", "min_cpg_fraction"):
            if not 0 <= float(getattr(self, name)) <= 1:
                bad(name, "a fraction from 0 to 1")
        if self.max_sites is not None and int(self.max_sites) < 1:
            bad("max_sites", "at least 1 (or None: all)")
        if self.calls_format is not None and self.calls_format not in FORMATS:
            bad("calls_format", f"one of {', '.join(FORMATS)}")
        if self.level_scale is not None and self.level_scale not in LEVEL_SCALES:
            bad("level_scale", f"one of {', '.join(LEVEL_SCALES)}")
        if self.selection is not None and self.selection.max_sites is not None:
            raise UsageError("encode options: give max_sites (and seed) to EncodeOptions, not to its selection")

    @property
    def max_n(self):
        """The most N a window may hold: ``max_n_fraction`` of its ``2 * flank`` bases, rounded down."""
        return math.floor(self.max_n_fraction * 2 * self.flank + 1e-9)

    @property
    def width(self):
        """Window width stored in the dataset: ``2 * flank``, 0 for a sites-only dataset."""
        return 2 * self.flank if self.windows else 0


DEFAULTS = EncodeOptions()


# the inputs' help (given beside the options, not in them)
INPUT_HELP = {
    "calls": "methylation calls (Bismark, MethylDackel, modkit, modbam2bed, ENCODE bedMethyl, methylKit, BSseeker2 "
    "CGmap, methylpy allc, BISCUIT, count tables, bedGraph, TSV; see README); .gz read transparently; - for stdin; "
    "repeat it for several samples (one dataset, y of shape (N, S))",
    "sample_names": "names of the --calls samples, comma-separated, in their order (default: each file's name up "
    "to its first dot)",
    "calls_list": "sample sheet instead of --calls: one line a sample, tab-separated 'sample, path[, format]' "
    "(header optional; paths relative to the sheet's folder)",
    "genome": "genome FASTA, plain or bgzip-compressed (the .fai is built beside it when absent, or in "
    "$MRCNN_CACHE_DIR or ~/.cache/mrcnn-tools when its directory is read-only); optional with --no-windows: the "
    "sites are then taken as the calls give them, unchecked",
}


def option_help(name):
    """The help of option *name* (a field of :class:`EncodeOptions`, or an input of :data:`INPUT_HELP`), its
    default filled in where it says so."""
    if name in INPUT_HELP:
        return INPUT_HELP[name]
    f = {f.name: f for f in fields(EncodeOptions)}[name]
    return f.metadata.get("help", "").replace("{default}", str(f.default))
