"""mrcnn-train's work: datasets loaded (windows cut from the genome when they hold sites only), a validation
split that is honest about overlapping windows, a model trained and saved with what prediction needs."""

import logging
from dataclasses import dataclass

import numpy as np

from mrcnn_tools.data.attach import attach_genome
from mrcnn_tools.data.dataset import load_dataset, load_datasets
from mrcnn_tools.data.neighbours import check_context
from mrcnn_tools.data.splits import labelled, leaking_sites, split_validation
from mrcnn_tools.errors import DatasetError, UsageError
from mrcnn_tools.models import registry
from mrcnn_tools.models.architectures import check_window
from mrcnn_tools.models.context_inputs import context_settings
from mrcnn_tools.models.files import check_model_suffix, save_keras_model, save_sklearn_model
from mrcnn_tools.models.inputs import is_binary
from mrcnn_tools.training.distributed import chief_path
from mrcnn_tools.training.fit import TrainConfig, base_meta, train_keras, train_sklearn, write_history
from mrcnn_tools.training.options import DEFAULTS

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What :func:`train_model` did: the model file, the sites trained and validated on, the split (text),
    validation sites within one window of a training site, and the history (one dict per epoch)."""

    arch: str
    output: str
    n_train: int
    n_val: int
    split: str
    leaks: int
    history: list


def model_kwargs(arch, filters, dense_units, dropout, context_dropout=0.0):
    """The architecture's hyper-parameters from --filters, --dense-units, --dropout and --context-dropout (none
    for kmer-gbr; the context models take only --context-dropout, their layers keep their own defaults).

    Raises
    ------
    UsageError
        --context-dropout for a model without context.
    """
    if registry.get(arch).reads_context:
        return dict(context_dropout=context_dropout)
    if context_dropout:
        raise UsageError(f"--context-dropout applies to {' and '.join(registry.CONTEXT_NAMES)} only, not {arch}")
    if arch == "mrcnn":
        return dict(filters2=filters, filters3=filters, filters4=filters, dense_units=dense_units, dropout=dropout)
    if arch == "simple-cnn":
        return dict(filters=(filters, filters), dense_units=dense_units, dropout=dropout)
    return {}


def _load(datasets, validation, genome, cache_dir, needs_windows=True, check=None):
    """(training data, validation data or None), labelled; *check* (the datasets' first look) runs on the
    training data as read, before any genome is attached."""
    data = load_datasets(list(datasets))
    if check is not None:
        check(data)
    if not (needs_windows or genome):
        return _load_without_windows(data, datasets[0], validation)
    codes = attach_genome(data, genome, datasets[0], cache_dir)
    # sites-only: the genome offsets replace names, strands, coverage (most of a site's bytes at genome scale)
    data = _labelled(_drop_details(data), datasets[0])
    val = None
    if validation:
        val = load_dataset(validation)
        attach_genome(val, genome, validation, cache_dir, codes)
        val = _labelled(_drop_details(val), validation)
        if val.window != data.window:  # a data mismatch, as between training files: exit 1, not 2
            raise DatasetError(
                f"{validation}: window {val.window} differs from the training data's "
                f"{data.window}; encode both with the same --flank"
            )
    return data, val


def _load_without_windows(data, path, validation):

    val = _labelled(load_dataset(validation), validation) if validation else None
    return _labelled(data, path), val


def _drop_details(data):
    """What training does not read dropped (one sample); several samples keep their coverage (the loss weights)."""
    return data.drop_site_details() if data.samples is None else data


def _labelled(data, path):
    """The sites with a label: one sample, :func:`labelled`; several, the sites observed in at least one sample."""
    if data.samples is None or len(data) == 0:
        return labelled(data, path)
    keep = (~np.isnan(data.y)).any(axis=1)
    if not keep.any():
        raise DatasetError(f"{path}: no sample is observed at any site; encode training data with --calls")
    return data if keep.all() else data.rows(keep)


def _samples(data, opts, path):
    """(S, binary) of the training data: its samples, and whether its labels are single-cell calls (--binary, or
    detected: every observed level 0 or 1), with the refusals of what one model of several samples cannot do.

    Raises
    ------
    UsageError
        --binary with one sample; several samples with kmer-gbr or --strategy multi-worker.
    """
    if data.samples is None:
        if opts.binary:
            raise UsageError(
                f"{path}: --binary applies to datasets of several samples (single cells encoded with repeated "
                "--calls); this one holds one sample"
            )
        return 1, False
    s = data.n_samples
    if opts.arch == "kmer-gbr":
        raise UsageError(
            f"{path}: kmer-gbr fits one sample, this dataset holds {s}; use --arch context-only, mrcnn-context, "
            "mrcnn or simple-cnn (one output per sample), or encode each sample on its own"
        )
    if opts.strategy == "multi-worker":
        raise UsageError(f"{path}: --strategy multi-worker trains one sample only; this dataset holds {s}")
    binary = opts.binary
    if not binary and is_binary(data.y):
        binary = True
        log.info("every observed level is 0 or 1: single-cell calls, trained with a cross-entropy per call (--binary)")
    log.info(
        "%d samples (%s), one output each; loss: %s",
        s,
        ", ".join(data.sample_names),
        "cross-entropy per call" if binary else "binomial likelihood of the read counts",
    )
    return s, binary


def train_model(datasets, output, options=DEFAULTS):
    """Train a model on dataset NPZ files and save it (and its history).

    Parameters
    ----------
    datasets : sequence of str
        Training datasets or shards (joined).
    output : str
        Model file: ``.keras`` for mrcnn/simple-cnn, ``.skops`` for kmer-gbr.
    options : TrainOptions
        The architecture, validation set, hyper-parameters and run settings
        (:class:`mrcnn_tools.training.options.TrainOptions`, whose defaults are mrcnn-train's).

    Returns
    -------
    TrainResult

    Raises
    ------
    UsageError
        A suffix that does not fit the architecture; early stopping without a validation set.
    DatasetError, ModelError
        Unlabelled or mismatched data, a window the architecture does not take.
    """

    opts = options
    arch = opts.arch
    check_model_suffix(arch, output)
    spec = registry.get(arch)
    if opts.rc_augment and not (spec.is_keras and not spec.reads_context):
        raise UsageError(f"--rc-augment applies to the window-only networks (mrcnn, simple-cnn), not {arch}")
    if opts.rc_augment and opts.strategy == "multi-worker":
        raise UsageError("--rc-augment is not implemented for --strategy multi-worker")
    kwargs = model_kwargs(
        arch, opts.filters, opts.dense_units, opts.dropout, opts.context_dropout
    )  # options checked before any work
    found = []
    data, val_data = _load(
        datasets,
        opts.validation,
        opts.genome,
        opts.cache_dir,
        needs_windows=spec.reads_sequence,
        check=lambda d: found.extend(_samples(d, opts, datasets[0])),
    )
    n_samples, binary = found
    if val_data is not None and val_data.sample_names != data.sample_names:
        raise DatasetError(
            f"{opts.validation}: samples {', '.join(val_data.sample_names)} differ from the training data's "
            f"({', '.join(data.sample_names)}); encode both with the same --calls and --sample-names"
        )
    if n_samples > 1:
        kwargs["samples"] = n_samples
    if spec.reads_context:  # before the validation split, which takes a while at genome scale
        check_context(data, None, datasets[0])
    if spec.is_keras:
        check_window(arch, data.window)
    val_fraction = opts.holdout_fraction()
    if val_fraction == 0 and not (opts.validation or opts.val_chroms) and opts.patience and arch != "kmer-gbr":
        raise UsageError(
            "--val-fraction 0 leaves no validation set for early stopping; give --validation, "
            "--val-chroms or a --val-fraction above 0, or turn early stopping off with --patience 0"
        )
    train, val, split = split_validation(
        data, validation=val_data, val_chroms=opts.val_chroms, val_fraction=val_fraction, seed=opts.seed
    )
    log.info("training on %d sites, validating on %d (%s)", len(train), len(val) if val is not None else 0, split)
    # overlapping windows are a leak only for a model that reads them (context-only reads no sequence)
    leaks = leaking_sites(train, val, train.window) if val is not None and spec.reads_sequence else 0
    if leaks:
        log.warning(
            "warning: %d of %d validation sites (%.1f%%) lie within %d bp of a training site: their windows "
            "overlap, so the validation loss is optimistic; hold out whole chromosomes (--val-chroms) or "
            "regions (--validation)",
            leaks,
            len(val),
            100 * leaks / len(val),
            train.window,
        )
    # TrainConfig: the older, fit-level copy of the options (also what the multi-worker loop and the checkpoint read)
    config = TrainConfig.from_options(opts, kwargs, binary)

    context_meta = {}
    if spec.reads_context:
        config.model_kwargs, context_meta = context_settings(
            config.model_kwargs, train, val, datasets[0], opts.validation or "validation"
        )
    meta = dict(base_meta(config, train, val, split, list(datasets)), **context_meta)
    if n_samples > 1:  # prediction matches a dataset's samples to these by name
        meta.update(samples=train.sample_names, binary=binary)
    if arch == "kmer-gbr":
        model, rows = train_sklearn(train, val, config)
        meta["history"] = rows
        save_sklearn_model(model, output, meta)
    else:
        model, rows = train_keras(train, val, config, meta=meta)
        meta["history"] = rows
        if rows:
            meta["best_epoch"] = min(rows, key=lambda r: r.get("val_loss", r["loss"]))["epoch"]
        with chief_path(output) as path:  # multi-worker: only the chief's model is kept
            save_keras_model(model, path, meta)
    if opts.history:
        with chief_path(opts.history) as history_path:
            write_history(history_path, rows)
    return TrainResult(arch, output, len(train), len(val) if val is not None else 0, split, leaks, rows)
