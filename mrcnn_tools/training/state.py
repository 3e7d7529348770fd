"""What a training run carries from epoch to epoch and across ``--resume``: history, early stopping, best weights,
the checkpoint directory. One :meth:`TrainingRun.record_epoch` serves ``model.fit`` (through a callback) and the
multi-worker loop of :mod:`distributed` alike.

Keras's own BackupAndRestore and CSVLogger are not used: the checkpoint must outlive a finished run (``--resume``
with more epochs; BackupAndRestore deletes its backup when training ends), keep the best weights and the
early-stopping state, be refused with a clear message when damaged, and serve the multi-worker loop, which has no
``fit`` and so no callbacks; the history is the TSV of docs/FORMATS.md (1-based epochs, '#' header), not a CSV.
"""

import json
import logging
import math
import os
import threading
import time

from mrcnn_tools.errors import ModelError, UsageError
from mrcnn_tools.io import atomic_path
from mrcnn_tools.models.registry import build_model
from mrcnn_tools.models.samples import compile_args
from mrcnn_tools.progress import Progress

log = logging.getLogger(__name__)


def checkpoint_paths(directory):
    """(last model ``.keras``, best weights ``.weights.h5``, state ``.json``) in a checkpoint directory."""
    return (
        os.path.join(directory, "last.keras"),
        os.path.join(directory, "best.weights.h5"),
        os.path.join(directory, "state.json"),
    )


def write_json(path, obj):
    """Write *obj* as indented JSON to *path*, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w") as fh:
            json.dump(obj, fh, indent=1)


class TrainingRun:
    """The state of one training run.

    Parameters
    ----------
    config : training.TrainConfig
    meta : dict
        Written into the checkpoint's state file.
    has_val : bool
        Whether there is a validation set: early stopping and the best weights follow its loss, else the
        training loss (and the last weights are kept).
    writes : bool
        Whether this process writes the checkpoint (the chief of a multi-worker run); only with
        ``config.checkpoint_dir``.

    Attributes
    ----------
    history : list of dict
        One row per epoch: epoch (1-based), loss, rmse[, val_loss, val_rmse], samples_per_s, seconds.
    state : dict
        epoch (done), best (monitored loss), wait (epochs without improvement), stopped (early stop).
    best_weights : list of numpy.ndarray or None
    """

    def __init__(self, config, meta, has_val, writes=True):
        self.config, self.meta, self.has_val = config, meta, has_val
        self.history = []
        self.state = {"epoch": 0, "best": math.inf, "wait": 0, "stopped": False}
        self.best_weights = None
        self.ckpt = config.checkpoint_dir
        self.writes = bool(writes and self.ckpt)
        self.paths = checkpoint_paths(self.ckpt) if self.ckpt else (None, None, None)
        if self.writes:
            os.makedirs(self.ckpt, exist_ok=True)

    @property
    def done(self):
        """Whether no epoch is left: all run, or stopped early."""
        return self.state["stopped"] or self.state["epoch"] >= self.config.epochs

    def start(self, keras, window, where=""):
        """The run's compiled model, to be called inside the strategy's scope: from the checkpoint with
        ``--resume`` (history, state and best weights restored too), else built anew.

        *where* is added to the --resume hint (e.g. that every worker must see the directory).
        """

        config = self.config
        if not config.resume:
            model = build_model(config.arch, window, seed=config.seed, **config.model_kwargs)
            model.compile(  # MSE for one sample; several: the masked binomial / cross-entropy loss
                optimizer=keras.optimizers.Adam(config.learning_rate),
                **compile_args(keras, config.model_kwargs.get("samples", 1)),
                jit_compile=False,
            )
            return model
        last_path, best_path, state_path = self.paths
        if not self.ckpt or not os.path.exists(state_path):
            raise UsageError(f"--resume needs --checkpoint-dir with the checkpoint of an earlier run{where}")
        try:
            with open(state_path) as fh:
                saved = json.load(fh)
            model = keras.models.load_model(last_path, compile=True, safe_mode=True)
        except Exception as exc:  # damaged zip/h5/json: many exception types
            raise ModelError(
                f"{self.ckpt}: the checkpoint is unreadable ({type(exc).__name__}: {exc}); delete "
                "the directory and train without --resume"
            ) from None
        self.history, self.state = saved["history"], saved["state"]
        log.info("resuming after epoch %d of %d", self.state["epoch"], config.epochs)
        if os.path.exists(best_path):
            best_model = keras.models.clone_model(model)
            best_model.load_weights(best_path)
            self.best_weights = best_model.get_weights()
        return model

    def record_epoch(self, model, row, secs, n_train):
        """Book one finished epoch: history, best weights, early stopping, checkpoint, the log line.

        Parameters
        ----------
        model : keras.Model
        row : dict
            epoch (1-based), loss, rmse, and val_loss, val_rmse with a validation set.
        secs : float
            The epoch's wall time; *n_train* / *secs* is its throughput.

        Returns
        -------
        bool, whether training stops here (early stop)
        """
        config, state = self.config, self.state
        row = {**row, "samples_per_s": n_train / secs, "seconds": secs}
        self.history.append(row)
        state["epoch"] = row["epoch"]
        monitor = row.get("val_loss", row["loss"])
        if monitor < state["best"]:
            state["best"], state["wait"] = monitor, 0
            self.best_weights = model.get_weights()
            if self.writes:
                model.save_weights(self.paths[1])
        else:
            state["wait"] += 1
            if self.has_val and config.patience and state["wait"] >= config.patience:
                state["stopped"] = True
        if self.writes:
            with atomic_path(self.paths[0], suffix=".keras") as tmp:
                model.save(tmp)
            write_json(self.paths[2], {"history": self.history, "state": state, "meta": self.meta})
        text = f"epoch {row['epoch']}/{config.epochs} loss {row['loss']:.4f}"
        if "val_loss" in row:
            text += f" val_loss {row['val_loss']:.4f} val_rmse {row['val_rmse']:.4f}"
        log.info(
            "%s %s samples/s %.1f s%s",
            text,
            f"{row['samples_per_s']:,.0f}",
            secs,
            " (early stop)" if state["stopped"] else "",
        )
        return state["stopped"]

    def finish(self, model):
        """Give *model* the best weights (with a validation set); returns (model, history)."""
        if self.best_weights is not None and self.has_val:
            model.set_weights(self.best_weights)
        return model, self.history


def epoch_progress(epoch, epochs, steps):
    """The progress of one epoch's batches (a bar on a terminal, else a log line about every 30 s); shown unless the
    log is quiet (``--quiet``)."""
    return Progress(
        f"epoch {epoch + 1}/{epochs}", total=steps, unit="batch", log=log, enabled=log.isEnabledFor(logging.INFO)
    )


def epoch_callback(keras, run, n_train, steps=None):
    """A Keras callback that books each epoch of ``model.fit`` in *run* (a :class:`TrainingRun`) and stops
    training when it says so, and shows the progress of each epoch's *steps* batches with the running loss.

    It only reads what Keras hands it, so the numbers trained do not change. The batch hook is marked safe for
    Keras' asynchronous dispatch: the loss of a batch is read in Keras' worker thread, not between two steps.
    """

    class RecordEpochs(keras.callbacks.Callback):
        async_safe = True  # on_train_batch_end only reads the logs (under a lock)

        def __init__(self):
            super().__init__()
            self.progress, self.lock = None, threading.Lock()

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()
            self.close()
            self.progress = epoch_progress(epoch, run.config.epochs, steps)

        def on_train_batch_end(self, batch, logs=None):
            loss = (logs or {}).get("loss")
            with self.lock:
                if self.progress is not None:
                    self.progress.update(1, note=None if loss is None else f"loss {float(loss):.4f}")

        def on_epoch_end(self, epoch, logs=None):
            self.close()  # Keras has run every batch hook by now
            secs = time.perf_counter() - self.t0
            row = {"epoch": epoch + 1, "loss": float(logs["loss"]), "rmse": float(logs["rmse"])}
            if run.has_val:
                row["val_loss"] = float(logs["val_loss"])
                row["val_rmse"] = float(logs["val_rmse"])
            if run.record_epoch(self.model, row, secs, n_train):
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            self.close()

        def close(self):
            with self.lock:
                if self.progress is not None:
                    self.progress.close()
                    self.progress = None

    return RecordEpochs()
