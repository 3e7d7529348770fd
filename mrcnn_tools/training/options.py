"""How mrcnn-train trains: :class:`TrainOptions`, the one home of each training default.

mrcnn-train's parser takes its defaults and their help from here (:func:`option_help`), and so do a library caller
of :func:`mrcnn_tools.training.run.train_model`, the fit-level :class:`mrcnn_tools.training.fit.TrainConfig` and
Galaxy's help (``from mrcnn_tools.training.options import DEFAULTS``).
"""

from dataclasses import dataclass, field, fields

from mrcnn_tools.errors import UsageError
from mrcnn_tools.models.architectures import MRCNN_DEFAULTS
from mrcnn_tools.models.registry import NAMES as ARCHITECTURES

STRATEGIES = ("auto", "mirrored", "multi-worker")
# the learning rate by architecture when none is given: Adam's for the networks, the boosting rate for k-mer GBR
LEARNING_RATES = {"kmer-gbr": 0.1}
KERAS_LEARNING_RATE = 1e-3
VAL_FRACTION = 0.1  # held out when no other validation set is given


def _opt(default, text=""):
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class TrainOptions:
    """Options of one training run (the datasets and the model file are given beside them).

    Attributes
    ----------
    arch : str
        An architecture of :mod:`mrcnn_tools.models.registry`.
    genome, cache_dir : str or None
        The FASTA the sites-only datasets were encoded with; where to keep its memory-mapped codes.
    validation, val_chroms, val_fraction
        The validation set: another dataset, these chromosomes, or this fraction of the sites in random 10-kb
        blocks (None: :data:`VAL_FRACTION` when neither of the others is given, else 0).
    epochs, batch_size, patience : int
        Maximum epochs, global batch, epochs without a better validation loss before stopping (0: never).
    learning_rate : float or None
        None: :func:`learning_rate_for` the architecture.
    filters, dense_units, dropout : int, int, float
        The networks' hyper-parameters (mrcnn, simple-cnn).
    context_dropout : float
        Context models: the probability of hiding an observed neighbour in training.
    rc_augment : bool
        Every batch also reverse-complemented (mrcnn, simple-cnn).
    binary : bool
        Several samples: the labels are single-cell calls, trained with a cross-entropy per observed call (else a
        binomial likelihood of the read counts); detected when every observed level is 0 or 1.
    seed, threads : int, int or None
    history, checkpoint_dir : str or None
        The per-epoch history TSV; the directory of the checkpoint saved after every epoch.
    resume : bool
        Continue from the checkpoint in *checkpoint_dir*.
    strategy : str
        One of :data:`STRATEGIES`.
    """

    arch: str = _opt("mrcnn", "model architecture")
    genome: str = _opt(
        None,
        "genome FASTA the datasets were encoded with: needed for sites-only datasets (mrcnn-encode --no-windows), "
        "whose windows are cut from it batch by batch",
    )
    cache_dir: str = _opt(
        None,
        "where to keep the genome as memory-mapped codes (built once per genome; default: $MRCNN_CACHE_DIR, else "
        "beside the FASTA, else ~/.cache/mrcnn-tools)",
    )
    validation: str = _opt(None, "validation dataset, e.g. another region or chromosome")
    val_chroms: tuple = _opt(None, "hold out these chromosomes for validation (comma-separated or repeated)")
    val_fraction: float = _opt(
        None,
        f"hold out this fraction of sites in random 10-kb blocks (default {VAL_FRACTION:g} when no other "
        "validation is given)",
    )
    epochs: int = _opt(30, "maximum epochs")
    batch_size: int = 128  # --batch-size: the help every command shares (cli.common)
    learning_rate: float = _opt(
        None,
        f"Adam learning rate for the CNNs (default {KERAS_LEARNING_RATE:g}); boosting rate for kmer-gbr "
        f"(default {LEARNING_RATES['kmer-gbr']:g})",
    )
    patience: int = _opt(
        5,
        "stop after this many epochs without a better validation loss (0: never stop early); the best weights are kept",
    )
    filters: int = _opt(
        MRCNN_DEFAULTS["filters2"], "filters of the 3x3 convolutions (mrcnn) or of both convolutions (simple-cnn)"
    )
    dense_units: int = _opt(MRCNN_DEFAULTS["dense_units"], "units of the dense layer")
    dropout: float = _opt(MRCNN_DEFAULTS["dropout"], "dropout rate before the output")
    context_dropout: float = _opt(
        0.0,
        "context models: hide each observed neighbour with this probability in training, so that the model "
        "learns to impute from sparse neighbours",
    )
    rc_augment: bool = _opt(
        False,
        "show every batch also reverse-complemented (strands merged: both orientations are the same site); "
        "recorded in the model, whose predictions then average both orientations",
    )
    binary: bool = _opt(
        False,
        "datasets of several samples: the levels are single-cell calls (0/1), each observed call weighs one in a "
        "cross-entropy (default: a binomial likelihood of the read counts; chosen anyway when every observed "
        "level is 0 or 1)",
    )
    seed: int = 0
    threads: int = None
    history: str = _opt(None, "write loss, val_loss, val RMSE, samples/s per epoch here")
    checkpoint_dir: str = _opt(None, "save the model and training state after every epoch")
    resume: bool = _opt(False, "continue from the last finished epoch in --checkpoint-dir")
    strategy: str = _opt(
        "auto",
        "tf.distribute strategy: mirrored = the GPUs of one node; multi-worker = several nodes (TF_CONFIG); "
        "auto = mirrored when several GPUs are visible",
    )

    def __post_init__(self):
        # a library caller gets the errors the command's parser gives (argparse checks choices there)
        if self.arch not in ARCHITECTURES:
            raise UsageError(f"arch '{self.arch}': give one of {', '.join(ARCHITECTURES)}")
        if self.strategy not in STRATEGIES:
            raise UsageError(f"strategy '{self.strategy}': give one of {', '.join(STRATEGIES)}")

    @property
    def rate(self):
        """The learning rate: the one given, else the architecture's default (:func:`learning_rate_for`)."""
        return self.learning_rate if self.learning_rate is not None else learning_rate_for(self.arch)

    def holdout_fraction(self):
        """The fraction of sites held out: the one given, else :data:`VAL_FRACTION` without another validation."""
        if self.val_fraction is not None:
            return self.val_fraction
        return 0.0 if (self.validation or self.val_chroms) else VAL_FRACTION


def learning_rate_for(arch):
    """The default learning rate of *arch*: Adam's 0.001 for the networks, 0.1 for k-mer GBR's boosting."""
    return LEARNING_RATES.get(arch, KERAS_LEARNING_RATE)


DEFAULTS = TrainOptions()


def option_help(name):
    """The help of option *name* (a field of :class:`TrainOptions`)."""
    return {f.name: f.metadata.get("help", "") for f in fields(TrainOptions)}[name]
