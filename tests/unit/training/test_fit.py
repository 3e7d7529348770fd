"""Training bookkeeping without TensorFlow: options, epochs and early stopping, checkpoints, splits, shard ranges,
thread limits; each against answers worked out by hand."""

import json
import math
import os

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from mrcnn_tools.data.dataset import Dataset
from mrcnn_tools.data.splits import leaking_sites, split_validation
from mrcnn_tools.errors import UsageError
from mrcnn_tools.models import backend
from mrcnn_tools.prediction.predict import shard_range
from mrcnn_tools.training.distributed import replica_rows
from mrcnn_tools.training.fit import TrainConfig
from mrcnn_tools.training.options import TrainOptions
from mrcnn_tools.training.state import TrainingRun


class FakeModel:
    """What record_epoch needs of a keras.Model: weights to copy and files to write."""

    def __init__(self):
        self.weights = 0

    def get_weights(self):
        return [np.array(self.weights)]

    def set_weights(self, weights):
        self.weights = int(weights[0])

    def save_weights(self, path):
        open(path, "w").write(str(self.weights))

    def save(self, path):
        open(path, "w").write("model")


def test_train_config_is_a_dataclass_with_the_cli_defaults():
    config = TrainConfig(model_kwargs=None)
    assert (config.arch, config.epochs, config.batch_size, config.patience) == ("mrcnn", 30, 128, 5)
    assert config.model_kwargs == {}
    kwargs = {"dropout": 0.1}
    assert TrainConfig(model_kwargs=kwargs).model_kwargs is not kwargs


def test_train_config_from_options_copies_every_setting():
    opts = TrainOptions(arch="context-only", epochs=7, batch_size=16, patience=2, seed=3, threads=1, rc_augment=False)
    config = TrainConfig.from_options(opts, {"k": 5}, binary=True)
    assert (config.arch, config.epochs, config.batch_size, config.patience, config.seed) == (
        "context-only",
        7,
        16,
        2,
        3,
    )
    assert (config.learning_rate, config.threads, config.model_kwargs, config.binary) == (1e-3, 1, {"k": 5}, True)
    assert TrainConfig.from_options(TrainOptions(arch="kmer-gbr")).learning_rate == 0.1


def test_early_stopping_keeps_the_best_weights_and_writes_the_checkpoint(tmp_path):
    ckpt = tmp_path / "ckpt"
    run = TrainingRun(TrainConfig(epochs=10, patience=2, checkpoint_dir=str(ckpt)), {"arch": "x"}, has_val=True)
    model = FakeModel()
    stops = []
    # val_loss 0.5, 0.4 (best), 0.45, 0.41: two epochs without improvement with patience 2 stop after epoch 4
    for epoch, val_loss in enumerate([0.5, 0.4, 0.45, 0.41], 1):
        model.weights = epoch
        row = {"epoch": epoch, "loss": 1.0, "rmse": 1.0, "val_loss": val_loss, "val_rmse": math.sqrt(val_loss)}
        stops.append(run.record_epoch(model, row, secs=2.0, n_train=100))
    assert stops == [False, False, False, True] and run.done
    assert run.state == {"epoch": 4, "best": 0.4, "wait": 2, "stopped": True}
    assert [r["samples_per_s"] for r in run.history] == [50.0] * 4
    assert run.best_weights[0] == 2 and (ckpt / "best.weights.h5").read_text() == "2"
    saved = json.loads((ckpt / "state.json").read_text())
    assert saved["state"] == run.state and saved["meta"] == {"arch": "x"} and len(saved["history"]) == 4
    model.weights = 99
    assert run.finish(model) == (model, run.history) and model.weights == 2


def test_without_validation_no_early_stop_and_no_files(tmp_path):
    run = TrainingRun(TrainConfig(epochs=3, patience=1), {}, has_val=False)
    model = FakeModel()
    for epoch, loss in enumerate([0.3, 0.5, 0.6], 1):
        assert not run.record_epoch(model, {"epoch": epoch, "loss": loss, "rmse": 0}, 1.0, 10)
    assert run.state["wait"] == 2 and run.done and not run.writes and os.listdir(tmp_path) == []


def test_resume_needs_a_checkpoint(tmp_path):
    run = TrainingRun(TrainConfig(resume=True, checkpoint_dir=str(tmp_path / "none")), {}, has_val=False)
    with pytest.raises(UsageError, match="--resume needs --checkpoint-dir"):
        run.start(keras=None, window=400)


def tiny(chroms, pos):
    n = len(pos)
    return Dataset(
        seq=np.zeros((n, 4), np.uint8),
        y=np.full(n, 0.5, np.float32),
        coverage=np.ones(n, np.int32),
        chrom=np.array(chroms),
        pos=np.array(pos, np.int64),
        strand=np.array(["."] * n),
        cgi=np.full(n, -1, np.int8),
        meta={},
    )


def test_split_by_chromosome_and_leaks():
    data = tiny(["chr1", "chr1", "chr2", "chr2", "chr3"], [100, 5000, 100, 300, 50])
    train, val, text = split_validation(data, val_chroms=["2"])
    assert train.pos.tolist() == [100, 5000, 50] and val.pos.tolist() == [100, 300] and "2" in text
    # chr2 sites are on another chromosome than every training site: no leak however near
    assert leaking_sites(train, val, 1000) == 0
    train, val, _ = split_validation(data, val_chroms=["chr3"])
    assert leaking_sites(train, val, 10) == 0 and leaking_sites(train, val, 1000) == 0
    with pytest.raises(UsageError):
        split_validation(data, val_chroms=["chr1", "chr2", "chr3"])


def test_leaking_sites_by_hand():
    train = tiny(["a", "a", "b"], [1000, 2000, 1000])
    val = tiny(["a", "a", "b", "c"], [1150, 1600, 1300, 1000])
    # a:1150 is 150 from a:1000; a:1600 is 400 from a:2000; b:1300 is 300 from b:1000; c has no training site
    assert leaking_sites(train, val, 200) == 1
    assert leaking_sites(train, val, 301) == 2
    assert leaking_sites(train, val, 401) == 3


@pytest.mark.parametrize("total, parts", [(10, 3), (7, 7), (2, 5), (0, 2)])
def test_shard_and_replica_ranges_partition_in_order(total, parts):
    shards = [shard_range(total, (i, parts)) for i in range(1, parts + 1)]
    replicas = [replica_rows(total, r, parts) for r in range(parts)]
    assert shards == replicas  # the same split, 1-based shards and 0-based replicas
    covered = [i for a, b in shards for i in range(a, b)]
    assert covered == list(range(total))
    assert max(b - a for a, b in shards) - min(b - a for a, b in shards) <= 1
    assert shard_range(total, None) == (0, total)


def test_shard_range_by_hand():
    assert [shard_range(10, (i, 3)) for i in (1, 2, 3)] == [(0, 3), (3, 6), (6, 10)]


def test_set_threads_limits_blas_and_restores(monkeypatch):

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = [p["num_threads"] for p in threadpool_info()]
    with backend.set_threads(1):
        assert os.environ["OMP_NUM_THREADS"] == "1" and backend._THREADS == 1
        assert all(p["num_threads"] == 1 for p in threadpool_info())
    assert "OMP_NUM_THREADS" not in os.environ and backend._THREADS is None
    assert [p["num_threads"] for p in threadpool_info()] == before
    with backend.set_threads(None):
        assert backend._THREADS is None
