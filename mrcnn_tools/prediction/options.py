"""How mrcnn-predict predicts and writes: :class:`PredictOptions`, the one home of each prediction default.

mrcnn-predict's parser takes its defaults and their help from here (:func:`option_help`), and so does a library
caller of :func:`mrcnn_tools.prediction.predict.predict_to_files`.
"""

from dataclasses import dataclass, field, fields

from mrcnn_tools.errors import UsageError
from mrcnn_tools.genome.regions import Selection
from mrcnn_tools.models.precision import PRECISIONS
from mrcnn_tools.prediction.chroms import CHROM_NAMES
from mrcnn_tools.prediction.files import OUTPUT_FORMATS

BASELINES = ("neighbours", "samples")

VARIANTS_HELP = (
    "variant effects (with -m and --genome): a VCF/BCF (plain or bgzip); one row per variant and CpG whose window "
    "contains it: the predicted level on each allele and their delta (docs/FORMATS.md, Variant effects)"
)
SEED_HELP = "random seed (the draws of --null): the same inputs and seed give the same output"


def _opt(default, text):
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class PredictOptions:
    """Options of one prediction run (inputs and outputs are given beside them).

    Attributes
    ----------
    output_format : {'tsv', 'bedgraph'}
    chrom_names : {'genome', 'ucsc', 'ensembl'}
        Chromosome names of the outputs (:mod:`mrcnn_tools.prediction.chroms`).
    shard : (int, int) or None
        Part i of n (1-based) of the sites: contiguous and disjoint.
    selection : mrcnn_tools.genome.regions.Selection or None
        Genome mode: chromosomes and regions (None: all).
    keep_strands : bool
        Genome mode: predict the C of both strands.
    cache_dir : str or None
        Where sites-only datasets keep the genome as memory-mapped codes.
    chunk_size, batch_size : int
        Sites predicted and written at a time (memory); rows per model call of a k-mer model. Predictions are
        the same bit for bit whatever both are.
    threads : int or None
        CPU threads for TensorFlow and NumPy/BLAS (None: all cores).
    precision : {'float32', 'bf16'}
        What a Keras model computes in (:mod:`mrcnn_tools.models.precision`).
    progress : bool
        Show progress (a bar on a terminal, else a log line about every 30 s).
    skip_ref_mismatch : bool
        Variant effects: skip the records whose REF disagrees with the genome (counted) instead of stopping.
    null : int
        Variant effects: random SNVs of the empirical null (0: none; :mod:`mrcnn_tools.prediction.variant_null`).
    baseline : {'neighbours', 'samples'} or None
        Without a model: the neighbour average, or (several samples) the mean of the other samples at the CpG.
    impute_missing : bool
        Several samples: also write the (site, sample) entries not observed.
    """

    output_format: str = _opt(
        "tsv", "tsv: chrom start end strand prediction [y_true coverage cgi]; bedgraph: chrom start end prediction"
    )
    chrom_names: str = _opt(
        "genome",
        "chromosome names of the outputs (TSV, bedGraph, bigWig): genome = as the FASTA names them (in dataset "
        "mode the FASTA the dataset was encoded with), the same in both modes; ucsc = chr1, chrX, chrM; "
        "ensembl = 1, X, MT (to match annotation files or a genome browser)",
    )
    shard: tuple = _opt(
        None, "predict only part I of N (1-based) of the sites: contiguous, disjoint parts for job arrays"
    )
    selection: Selection = None
    keep_strands: bool = _opt(False, "genome mode: predict the C of both strands")
    cache_dir: str = _opt(
        None,
        "sites-only datasets: where to keep the genome as memory-mapped codes (default: $MRCNN_CACHE_DIR, else "
        "beside the FASTA, else ~/.cache/mrcnn-tools)",
    )
    chunk_size: int = _opt(65536, "sites predicted and written at a time (memory); the predictions do not depend on it")
    batch_size: int = _opt(
        2048,
        "sites per batch of a k-mer model (Keras models predict 1024 sites at a time whatever this is, so that "
        "predictions do not depend on it)",
    )
    threads: int = None
    precision: str = _opt(
        "float32",
        "what the model computes in: bf16 = bfloat16 through TensorFlow's oneDNN (convolutions and products in "
        "bf16, sums in float32), faster on CPUs with AVX512-BF16 or AMX (refused, exit 1, on others); levels "
        "differ from float32 by ~1e-3, and stay the same whatever --batch-size, --chunk-size or --shard",
    )
    progress: bool = False
    baseline: str = _opt(
        None,
        "instead of a model, for datasets: neighbours = the distance-weighted average of the observed neighbours "
        "of each site (encoded with --context K), per sample; samples = the mean of the other samples' observed "
        "levels at the CpG (datasets of several samples); NA where there is none",
    )
    impute_missing: bool = _opt(
        False,
        "several samples: also predict the (site, sample) entries not observed (y_true NA, coverage 0); "
        "without it, one row per observed entry",
    )
    skip_ref_mismatch: bool = _opt(
        False,
        "--variants: skip (and count) the records whose REF disagrees with the genome instead of stopping at them",
    )
    null: int = _opt(
        0,
        "--variants: an empirical null of N random SNVs at the same distances from CpGs (matched base changes, "
        "--seed), giving each row the percentile of its |delta| among them: what makes a delta meaningful",
    )

    def __post_init__(self):
        if self.output_format not in OUTPUT_FORMATS:
            raise UsageError(f"output format '{self.output_format}': give one of {', '.join(OUTPUT_FORMATS)}")
        if self.chrom_names not in CHROM_NAMES:
            raise UsageError(f"chromosome names '{self.chrom_names}': give one of {', '.join(CHROM_NAMES)}")
        if self.precision not in PRECISIONS:
            raise UsageError(f"precision '{self.precision}': give one of {', '.join(PRECISIONS)}")
        if self.baseline not in (None, *BASELINES):
            raise UsageError(f"baseline '{self.baseline}': give one of {', '.join(BASELINES)}")
        for name in ("chunk_size", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise UsageError(f"{name} {getattr(self, name)}: give a positive number")


DEFAULTS = PredictOptions()


def option_help(name):
    """The help of option *name* (a field of :class:`PredictOptions`)."""
    return {
        "variants": VARIANTS_HELP,
        "seed": SEED_HELP,
        **{f.name: f.metadata.get("help", "") for f in fields(PredictOptions)},
    }[name]
