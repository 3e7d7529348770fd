"""Training: what a fit needs, the metadata a model carries, Keras and scikit-learn training, the history TSV.

The run's options and their defaults are :mod:`mrcnn_tools.training.options`; where the sites come from
:mod:`mrcnn_tools.data.splits`, how batches reach the model :mod:`mrcnn_tools.models.inputs`, what a run carries
across epochs and ``--resume`` :mod:`mrcnn_tools.training.state`, the networks :mod:`mrcnn_tools.models.registry`.
"""

import contextlib
import io
import logging
import math
import os
import re
import time
from dataclasses import dataclass, field

import numpy as np

from mrcnn_tools import __version__
from mrcnn_tools.data.strand import with_reverse_complements
from mrcnn_tools.encoding import ENCODING_NAME
from mrcnn_tools.io import open_output
from mrcnn_tools.models import registry
from mrcnn_tools.models.backend import load_tensorflow, set_threads
from mrcnn_tools.models.baselines import build_kmer_gbr, features
from mrcnn_tools.progress import Progress
from mrcnn_tools.training.distributed import train_multi_worker
from mrcnn_tools.training.options import DEFAULTS
from mrcnn_tools.training.state import TrainingRun, epoch_callback

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """What the fitting of one run needs, made by :func:`mrcnn_tools.training.run.train_model` from its
    :class:`mrcnn_tools.training.options.TrainOptions` (whose defaults these are).

    ``batch_size`` is the global batch (split among replicas); ``threads`` None leaves TensorFlow's default;
    ``strategy`` is auto, mirrored or multi-worker; ``model_kwargs`` are the architecture's hyper-parameters
    (``samples``: S outputs for a multi-sample dataset); ``binary``: the labels are single-cell calls, each
    observed call weighing one in the loss (else its reads).
    """

    arch: str = DEFAULTS.arch
    epochs: int = DEFAULTS.epochs
    batch_size: int = DEFAULTS.batch_size
    learning_rate: float = DEFAULTS.rate
    patience: int = DEFAULTS.patience
    seed: int = DEFAULTS.seed
    threads: int = None
    checkpoint_dir: str = None
    resume: bool = False
    strategy: str = DEFAULTS.strategy
    model_kwargs: dict = field(default_factory=dict)
    rc_augment: bool = False
    binary: bool = False

    def __post_init__(self):
        self.model_kwargs = dict(self.model_kwargs or {})  # None allowed; never the caller's dict

    @classmethod
    def from_options(cls, options, model_kwargs=None, binary=False):
        """The fit-level copy of a run's :class:`~mrcnn_tools.training.options.TrainOptions` (the one place it is
        made; TrainConfig is to be folded into TrainOptions), with the architecture's hyper-parameters."""
        return cls(
            arch=options.arch,
            epochs=options.epochs,
            batch_size=options.batch_size,
            learning_rate=options.rate,
            patience=options.patience,
            seed=options.seed,
            threads=options.threads,
            checkpoint_dir=options.checkpoint_dir,
            resume=options.resume,
            strategy=options.strategy,
            model_kwargs=model_kwargs,
            rc_augment=options.rc_augment,
            binary=binary,
        )


def get_strategy(name):
    """TensorFlow's distribution strategy by name (auto: Mirrored when several GPUs are visible)."""
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi-worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if len(tf.config.list_physical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def _summary(train, val, split, paths):
    y = train.y  # several samples: NaN = not observed
    return {
        "n_train": int(len(train)),
        "n_val": int(len(val)) if val is not None else 0,
        "split": split,
        "train_label_mean": float(np.nanmean(y)),
        "train_label_sd": float(np.nanstd(y)),
        "datasets": [os.path.basename(p) for p in paths],
        "genome": train.meta.get("genome"),
        "genome_checksum": train.meta.get("genome_checksum"),
    }


def base_meta(config, train, val, split, paths):
    """The metadata every model file carries: architecture, window, encoding, version, training summary and
    hyper-parameters (dict, JSON-serialisable)."""
    return {
        "arch": config.arch,
        "flank": train.window // 2,
        "window": train.window,
        "encoding": ENCODING_NAME,
        "version": __version__,
        "seed": config.seed,
        "training": _summary(train, val, split, paths),
        "rc_augment": bool(config.rc_augment),
        "hyperparameters": {
            "epochs": config.epochs,
            "batch_size": config.batch_size,
            "learning_rate": config.learning_rate,
            "patience": config.patience,
            **config.model_kwargs,
        },
    }


def train_keras(train, val, config, *, meta, extra_callbacks=()):
    """Train a Keras architecture; returns (model with best weights, history rows)."""
    if config.strategy == "multi-worker":  # Keras 3's fit fails under MultiWorkerMirroredStrategy: own loop
        return train_multi_worker(train, val, config, meta=meta)

    tf = load_tensorflow(config.threads)
    import keras

    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    registry.register_layers()  # a checkpoint (--resume) is loaded with the custom layers
    strategy = get_strategy(config.strategy)
    run = TrainingRun(config, meta, has_val=val is not None)
    with strategy.scope():
        model = run.start(keras, train.window)
    if not run.done:
        n_train, steps = len(train), -(-len(train) // config.batch_size)
        feed = registry.get(config.arch).pipeline
        train_ds = feed(
            train,
            config.batch_size,
            binary=config.binary,
            shuffle=True,
            seed=config.seed,
            first_epoch=run.state["epoch"],
        )
        if config.rc_augment:  # every batch seen on both strands (mrcnn_tools.data.strand)
            train_ds = with_reverse_complements(train_ds)
        val_ds = feed(val, config.batch_size, binary=config.binary) if val is not None else None
        recorder = epoch_callback(keras, run, n_train, steps)
        try:
            model.fit(
                train_ds,
                validation_data=val_ds,
                epochs=config.epochs,
                initial_epoch=run.state["epoch"],
                steps_per_epoch=steps,
                validation_steps=-(-len(val) // config.batch_size) if val is not None else None,
                callbacks=[recorder, *extra_callbacks],
                verbose=0,
                shuffle=False,
            )
        finally:
            recorder.close()  # an interrupted epoch leaves no bar on the terminal
    return run.finish(model)


def train_sklearn(train, val, config):
    """Train the k-mer GBR baseline; returns (estimator, history with one row)."""

    flank = train.window // 2
    t0 = time.perf_counter()
    x = features(train.windows(), flank)
    with set_threads(config.threads):
        model = build_kmer_gbr(
            seed=config.seed,
            learning_rate=config.learning_rate,
            patience=config.patience or 10,
            validation=len(train) >= 100,
        )
        fit_with_progress(model, x, train.y)
    secs = time.perf_counter() - t0
    row = {"epoch": 1, "loss": float(np.mean((model.predict(x) - train.y) ** 2))}
    if val is not None:
        pred = model.predict(features(val.windows(), flank))
        row["val_loss"] = float(np.mean((pred - val.y) ** 2))
        row["val_rmse"] = math.sqrt(row["val_loss"])
    row["samples_per_s"] = len(train) / secs
    row["seconds"] = secs
    log.info(
        "kmer-gbr: %d boosting iterations, loss %.4f%s, %.1f s",
        model.n_iter_,
        row["loss"],
        f" val_loss {row['val_loss']:.4f} val_rmse {row['val_rmse']:.4f}" if val is not None else "",
        secs,
    )
    return model, [row]


class _IterationLines(io.TextIOBase):
    """A stream for HistGradientBoosting's verbose output: each finished boosting iteration (``[k/N] 1 tree, ...,
    val loss: 0.01234, in 0.012s``) becomes one step of *progress*, its loss the note; every other line is dropped
    (stdout is for data)."""

    ITERATION = re.compile(r"\[\d+/\d+\] ")
    LOSS = re.compile(r"\b(val|train) loss: ([-+0-9.eE]+)")

    def __init__(self, progress):
        super().__init__()
        self.progress, self.pending = progress, ""

    def writable(self):
        return True

    def write(self, text):
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            if self.ITERATION.match(line):
                losses = dict(self.LOSS.findall(line))
                loss = losses.get("val") or losses.get("train")
                self.progress.update(
                    1, note=None if loss is None else f"{'val ' if 'val' in losses else ''}loss {loss}"
                )
        return len(text)


def fit_with_progress(model, x, y):
    """Fit a HistGradientBoostingRegressor, showing its boosting iterations done of ``max_iter`` (a bar on a
    terminal, else a log line about every 30 s) unless the log is quiet.

    The estimator has no callback: its own per-iteration report (``verbose=2``) is read from stdout, where nothing
    else is written meanwhile, and ``verbose`` is set back afterwards. Reporting reads what the fit computes and
    changes nothing in it: the model is the one a silent fit gives, bit for bit (tests/unit/training/).
    """
    with Progress(
        "kmer-gbr", total=model.max_iter, unit="iteration", log=log, enabled=log.isEnabledFor(logging.INFO)
    ) as progress:
        if not progress.enabled:
            return model.fit(x, y)
        verbose = model.verbose
        model.set_params(verbose=2)
        try:
            with contextlib.redirect_stdout(_IterationLines(progress)):
                model.fit(x, y)
        finally:
            model.set_params(verbose=verbose)
    return model


def write_history(path, history):
    """Write the per-epoch history as TSV (header line starts with '#')."""

    cols = []
    for row in history:
        cols += [k for k in row if k not in cols]
    with open_output(path) as fh:
        fh.write("#" + "\t".join(cols) + "\n")
        for row in history:
            fh.write("\t".join(_fmt(row.get(c)) for c in cols) + "\n")


def _fmt(v):
    if v is None:
        return "NA"
    if isinstance(v, float):
        return repr(v)
    return str(v)
