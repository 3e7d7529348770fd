"""Training: validation split, tf.data input pipeline over uint8 codes, early stopping, checkpoints, resume."""

import json
import logging
import math
import os
import time

import numpy as np

from . import __version__
from .dataset import Dataset
from .encoding import ENCODING_NAME
from .errors import DatasetError, ModelError, UsageError
from .genome import canonical_chrom
from .io import atomic_path

log = logging.getLogger(__name__)

VAL_BLOCK = 10_000  # bp; --val-fraction holds out whole blocks so that few windows straddle the split


def labelled(data, path="dataset"):
    """The sites with a label (a view of *data*, nothing copied); refuses a dataset without any."""
    if len(data) == 0:
        raise DatasetError(f"{path}: the dataset is empty; check the mrcnn-encode filters")
    keep = np.isfinite(data.y)
    if not keep.any():
        raise DatasetError(f"{path}: no site has a label (all y are NaN, as from mrcnn-encode --all-cpgs); "
                           "encode training data with --calls")
    return data if keep.all() else data.rows(keep)


def _chrom_codes(data):
    """(names, int16 code per site, pos) of a Dataset or Rows view; the base's codes are made once."""
    base = getattr(data, "base", data)
    names, codes = base.chrom_codes()
    if base is data:
        return names, codes, base.pos
    return names, codes[data.index], base.pos[data.index]


def _block_ids(names, codes, pos):
    """Index of each site's 10-kb block among the blocks sorted as the strings "chrom:block" sort.

    The string order keeps the blocks that a seed holds out as before; the strings are made once per block,
    not per site. Sorted input (as mrcnn-encode writes it) needs no sort at all.
    """
    key = codes.astype(np.int64)
    key <<= 40
    key |= pos // VAL_BLOCK
    if len(key) < 2 or bool((key[1:] >= key[:-1]).all()):
        new = np.empty(len(key), bool)
        new[:1] = True
        np.not_equal(key[1:], key[:-1], out=new[1:])
        uniq = key[new]
        inverse = np.cumsum(new, dtype=np.int32)
        inverse -= 1
        del new
    else:
        uniq, inverse = np.unique(key, return_inverse=True)
        inverse = inverse.astype(np.int32)
    del key
    text = np.array([f"{names[k >> 40]}:{k & ((1 << 40) - 1)}" for k in uniq.tolist()])
    rank = np.empty(len(uniq), np.int32)
    rank[np.argsort(text, kind="stable")] = np.arange(len(uniq))
    np.take(rank, inverse, out=inverse, mode="clip")  # in place: one int32 per site in all
    return len(uniq), inverse


def split_validation(data, *, validation=None, val_chroms=None, val_fraction=0.0, seed=0):
    """Split off the validation sites, as views (index arrays) of *data*: nothing is copied.

    Parameters
    ----------
    data : Dataset or Rows
    validation : Dataset, optional
        A separate validation dataset (recommended: other chromosomes or regions).
    val_chroms : list of str, optional
        Hold out whole chromosomes.
    val_fraction : float
        Otherwise hold out this fraction of 10-kb blocks, chosen at random with *seed*.

    Returns
    -------
    (train, val or None, description)
    """
    if validation is not None:
        return data, validation, "separate validation dataset"
    if val_chroms:
        keys = {canonical_chrom(c) for c in val_chroms}
        names, codes, _ = _chrom_codes(data)
        mask = np.array([canonical_chrom(str(c)) in keys for c in names], bool)[codes]
        if not mask.any():
            raise UsageError(f"--val-chroms {' '.join(val_chroms)}: no training site lies on these chromosomes")
        if mask.all():
            raise UsageError("--val-chroms holds out every site; leave some chromosomes for training")
        return data.rows(~mask), data.rows(mask), f"chromosomes {', '.join(val_chroms)}"
    if not val_fraction:
        return data, None, "none"
    nblocks, inverse = _block_ids(*_chrom_codes(data))
    rng = np.random.default_rng(seed)
    order = rng.permutation(nblocks)
    sizes = np.bincount(inverse, minlength=nblocks)[order]
    take = order[: int(np.searchsorted(np.cumsum(sizes), val_fraction * len(data))) + 1]
    chosen = np.zeros(nblocks, bool)
    chosen[take] = True
    mask = chosen[inverse]
    del inverse
    if mask.all() or not mask.any():
        raise UsageError(f"--val-fraction {val_fraction}: cannot split {len(data)} sites in "
                         f"{nblocks} blocks of {VAL_BLOCK} bp; use --validation or --val-chroms")
    return (data.rows(~mask), data.rows(mask),
            f"{100 * mask.mean():.1f}% of sites in random {VAL_BLOCK // 1000}-kb blocks")


def leaking_sites(train, val, distance):
    """Number of validation sites within *distance* bp of a training site on the same chromosome.

    Vectorised over all chromosomes at once: sites become sorted keys (chromosome << 40 | position), so the
    cost is one sort of the training sites whatever the number of chromosomes.
    """
    tnames, tcodes, tpos = _chrom_codes(train)
    vnames, vcodes, vpos = _chrom_codes(val)
    if len(tpos) == 0 or len(vpos) == 0:
        return 0
    lookup = {str(n): i for i, n in enumerate(tnames)}
    vmap = np.array([lookup.get(str(n), -1) for n in vnames], np.int64)[vcodes]
    tkeys = tcodes.astype(np.int64)
    del tcodes  # the sort below is the peak: one int64 key per training site, nothing else
    tkeys <<= 40
    tkeys |= tpos
    del tpos
    tkeys.sort()
    known = vmap >= 0
    vkeys = (vmap[known] << 40) | vpos[known]
    i = np.searchsorted(tkeys, vkeys)
    near = np.zeros(len(vkeys), bool)
    for j in (np.clip(i - 1, 0, len(tkeys) - 1), np.clip(i, 0, len(tkeys) - 1)):
        t = tkeys[j]
        near |= ((t >> 40) == (vkeys >> 40)) & (np.abs(t - vkeys) < distance)
    return int(near.sum())


def batches(seq, y, batch_size, *, shuffle=False, seed=0, epoch=0):
    """Yield (codes uint8 (b, W), labels float32 (b,)) batches; shuffled by (seed, epoch) when asked."""
    n = len(y)
    order = np.random.default_rng([seed, epoch]).permutation(n) if shuffle else None
    for i in range(0, n, batch_size):
        if order is None:
            yield seq[i:i + batch_size], y[i:i + batch_size]
        else:
            idx = np.sort(order[i:i + batch_size])  # sorted gathers read memory in order
            yield seq[idx], y[idx]


def make_tf_dataset(seq, y, batch_size, *, shuffle=False, seed=0, first_epoch=0, rows=None, flank=None):
    """A tf.data pipeline over uint8 codes; one-hot happens inside the model, per batch.

    Shuffling and batching run inside TensorFlow; only the gather of a batch's rows is NumPy, on the caller's
    array, so the codes are held once. Epoch ``e`` is shuffled by the stateless seed ``(seed, e)``, so that a
    resumed run sees the same order as an uninterrupted one.

    Parameters
    ----------
    seq : numpy.ndarray, uint8, shape (N, W), or SiteWindows
        Stored windows, or the sites of a sites-only dataset whose windows are cut from the genome codes
        batch by batch (:class:`mrcnn_tools.genome_codes.SiteWindows`; *flank* is then needed).
    y : numpy.ndarray, float32, shape (n,)
        Labels of the rows trained on.
    rows : numpy.ndarray of int, shape (n,), optional
        Which rows of *seq* (a view from :func:`split_validation`); all when None.

    Returns
    -------
    tf.data.Dataset of (uint8 (b, W), float32 (b,)), repeating epoch after epoch
    """
    import tensorflow as tf

    n = len(y)
    stored = isinstance(seq, np.ndarray)
    width = seq.shape[1] if stored else 2 * int(flank)
    y = np.asarray(y, np.float32)
    index_dtype = tf.int32 if n < 2**31 else tf.int64

    def epoch_batches(e):
        # int32 below 2**31 sites: the same permutation in half the memory
        order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=index_dtype), seed=tf.stack([seed, e]))
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    def gather_np(i):
        i = np.sort(i)  # in-order gathers read memory in order
        r = i if rows is None else rows[i]
        return (seq[r] if stored else seq.take(r, flank)), y[i]

    def gather(i):
        # a NumPy gather on the caller's array: a TensorFlow copy of the codes would double their memory
        x, t = tf.numpy_function(gather_np, [i], (tf.uint8, tf.float32), stateful=False)
        x.set_shape((None, width))
        t.set_shape((None,))
        return x, t

    # batched per epoch, so that no batch straddles two epochs and steps_per_epoch = ceil(n / batch_size)
    if shuffle:
        idx = tf.data.Dataset.range(first_epoch, 2**31).flat_map(epoch_batches)
    else:
        idx = tf.data.Dataset.range(n).batch(batch_size).repeat()
    return idx.map(gather, num_parallel_calls=1, deterministic=True).prefetch(2)


def input_pipeline(data, batch_size, **kwargs):
    """:func:`make_tf_dataset` over a Dataset or Rows view, stored windows or cut from the genome."""
    source, rows = data.window_source()
    return make_tf_dataset(source, data.y, batch_size, rows=rows, flank=data.flank, **kwargs)


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


class TrainConfig:
    """Options of a training run (see mrcnn-train --help)."""

    def __init__(self, arch="mrcnn", epochs=30, batch_size=128, learning_rate=1e-3, patience=5, seed=0,
                 threads=None, checkpoint_dir=None, resume=False, strategy="auto", model_kwargs=None):
        self.arch = arch
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.patience = patience
        self.seed = seed
        self.threads = threads
        self.checkpoint_dir = checkpoint_dir
        self.resume = resume
        self.strategy = strategy
        self.model_kwargs = dict(model_kwargs or {})


def _summary(train, val, split, paths):
    y = train.y
    return {"n_train": int(len(train)), "n_val": int(len(val)) if val is not None else 0, "split": split,
            "train_label_mean": float(np.mean(y)), "train_label_sd": float(np.std(y)),
            "datasets": [os.path.basename(p) for p in paths], "genome": train.meta.get("genome"),
            "genome_checksum": train.meta.get("genome_checksum")}


def base_meta(config, train, val, split, paths):
    return {"arch": config.arch, "flank": train.window // 2, "window": train.window, "encoding": ENCODING_NAME,
            "version": __version__, "seed": config.seed, "training": _summary(train, val, split, paths),
            "hyperparameters": {"epochs": config.epochs, "batch_size": config.batch_size,
                                "learning_rate": config.learning_rate, "patience": config.patience,
                                **config.model_kwargs}}


def restore_or_build(keras, config, window, ckpt, log, where=""):
    """The model of a run, inside the strategy's scope: from the checkpoint with ``--resume``, else built anew.

    Returns (model, history, state, best_weights); *where* is added to the --resume hint (e.g. that every worker
    must see the directory).
    """
    from .models import build_model

    history, state, best_weights = [], {"epoch": 0, "best": math.inf, "wait": 0, "stopped": False}, None
    if not config.resume:
        model = build_model(config.arch, window, seed=config.seed, **config.model_kwargs)
        model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="mse",
                      metrics=[keras.metrics.RootMeanSquaredError(name="rmse")], jit_compile=False)
        return model, history, state, best_weights
    last_path, best_path, state_path = _state_paths(ckpt) if ckpt else (None, None, None)
    if not ckpt or not os.path.exists(state_path):
        raise UsageError(f"--resume needs --checkpoint-dir with the checkpoint of an earlier run{where}")
    try:
        with open(state_path) as fh:
            saved = json.load(fh)
        model = keras.models.load_model(last_path, compile=True, safe_mode=True)
    except Exception as exc:  # damaged zip/h5/json: many exception types
        raise ModelError(f"{ckpt}: the checkpoint is unreadable ({type(exc).__name__}: {exc}); delete "
                         "the directory and train without --resume") from None
    history, state = saved["history"], saved["state"]
    log.info("resuming after epoch %d of %d", state["epoch"], config.epochs)
    if os.path.exists(best_path):
        best_model = keras.models.clone_model(model)
        best_model.load_weights(best_path)
        best_weights = best_model.get_weights()
    return model, history, state, best_weights


def _state_paths(directory):
    return (os.path.join(directory, "last.keras"), os.path.join(directory, "best.weights.h5"),
            os.path.join(directory, "state.json"))


def _write_json(path, obj):
    with atomic_path(path) as tmp:
        with open(tmp, "w") as fh:
            json.dump(obj, fh, indent=1)


def train_keras(train, val, config, *, meta, extra_callbacks=()):
    """Train a Keras architecture; returns (model with best weights, history rows)."""
    if config.strategy == "multi-worker":  # Keras 3's fit fails under MultiWorkerMirroredStrategy: own loop
        from .distributed import train_multi_worker

        return train_multi_worker(train, val, config, meta=meta)
    from .backend import load_tensorflow

    tf = load_tensorflow(config.threads)
    import keras

    from .models import one_hot_layer

    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    one_hot_layer()
    strategy = get_strategy(config.strategy)
    ckpt = config.checkpoint_dir
    if ckpt:
        os.makedirs(ckpt, exist_ok=True)
        last_path, best_path, state_path = _state_paths(ckpt)
    with strategy.scope():
        model, history, state, best_weights = restore_or_build(keras, config, train.window, ckpt, log)

    n_train = len(train)
    stopper = None

    class Epochs(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            nonlocal best_weights
            secs = time.perf_counter() - self.t0
            row = {"epoch": epoch + 1, "loss": float(logs["loss"]), "rmse": float(logs["rmse"])}
            if val is not None:
                row["val_loss"] = float(logs["val_loss"])
                row["val_rmse"] = float(logs["val_rmse"])
            row["samples_per_s"] = n_train / secs
            row["seconds"] = secs
            history.append(row)
            state["epoch"] = epoch + 1
            monitor = row.get("val_loss", row["loss"])
            if monitor < state["best"]:
                state["best"], state["wait"] = monitor, 0
                best_weights = self.model.get_weights()
                if ckpt:
                    self.model.save_weights(best_path)
            else:
                state["wait"] += 1
                if val is not None and config.patience and state["wait"] >= config.patience:
                    self.model.stop_training = True
                    state["stopped"] = True
            if ckpt:
                with atomic_path(last_path, suffix=".keras") as tmp:
                    self.model.save(tmp)
                _write_json(state_path, {"history": history, "state": state, "meta": meta})
            text = f"epoch {epoch + 1}/{config.epochs} loss {row['loss']:.4f}"
            if val is not None:
                text += f" val_loss {row['val_loss']:.4f} val_rmse {row['val_rmse']:.4f}"
            log.info("%s %s samples/s %.1f s%s", text, f"{row['samples_per_s']:,.0f}", secs,
                     " (early stop)" if state["stopped"] else "")

    if state["epoch"] < config.epochs and not state["stopped"]:
        train_ds = input_pipeline(train, config.batch_size, shuffle=True, seed=config.seed,
                                  first_epoch=state["epoch"])
        val_ds = input_pipeline(val, config.batch_size) if val is not None else None
        stopper = Epochs()
        model.fit(train_ds, validation_data=val_ds, epochs=config.epochs, initial_epoch=state["epoch"],
                  steps_per_epoch=-(-n_train // config.batch_size),
                  validation_steps=-(-len(val) // config.batch_size) if val is not None else None,
                  callbacks=[stopper, *extra_callbacks], verbose=0, shuffle=False)
    if best_weights is not None and val is not None:
        model.set_weights(best_weights)
    return model, history


def train_sklearn(train, val, config):
    """Train the k-mer GBR baseline; returns (estimator, history with one row)."""
    from threadpoolctl import threadpool_limits

    from .baselines import build_kmer_gbr, features

    flank = train.window // 2
    t0 = time.perf_counter()
    x = features(train.windows(), flank)
    with threadpool_limits(config.threads):
        model = build_kmer_gbr(seed=config.seed, learning_rate=config.learning_rate,
                               patience=config.patience or 10, validation=len(train) >= 100)
        model.fit(x, train.y)
    secs = time.perf_counter() - t0
    row = {"epoch": 1, "loss": float(np.mean((model.predict(x) - train.y) ** 2))}
    if val is not None:
        pred = model.predict(features(val.windows(), flank))
        row["val_loss"] = float(np.mean((pred - val.y) ** 2))
        row["val_rmse"] = math.sqrt(row["val_loss"])
    row["samples_per_s"] = len(train) / secs
    row["seconds"] = secs
    log.info("kmer-gbr: %d boosting iterations, loss %.4f%s, %.1f s", model.n_iter_, row["loss"],
             f" val_loss {row['val_loss']:.4f} val_rmse {row['val_rmse']:.4f}" if val is not None else "", secs)
    return model, [row]


def write_history(path, history):
    """Write the per-epoch history as TSV (header line starts with '#')."""
    from .io import open_output

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
