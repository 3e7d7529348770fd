"""The tf.data pipeline (no training): every row once per epoch, inputs and labels of the same rows, named inputs,
and a resumed run's epoch equal to the uninterrupted run's."""

import numpy as np
import pytest

from mrcnn_tools.models.backend import load_tensorflow
from mrcnn_tools.models.inputs import batched_dataset, make_tf_dataset

tf = load_tensorflow()

N, WIDTH = 10, 4


def windows_and_labels():
    # row r: every code r % 5, label r / 10, so that a batch shows which rows it holds
    seq = (np.arange(N)[:, None] % 5 * np.ones((1, WIDTH))).astype(np.uint8)
    return seq, np.arange(N, dtype=np.float32) / 10


def take(ds, batches):
    return [(x, y.numpy()) for x, y in ds.take(batches)]


def test_each_epoch_holds_every_row_once_with_its_label():
    seq, y = windows_and_labels()
    out = take(make_tf_dataset(seq, y, 4, shuffle=True, seed=3), 6)  # 2 epochs of batches 4, 4, 2
    assert [len(t) for _, t in out] == [4, 4, 2, 4, 4, 2]
    for epoch in (out[:3], out[3:]):
        rows = np.concatenate([np.rint(t * 10).astype(int) for _, t in epoch])
        assert sorted(rows.tolist()) == list(range(N))
    for x, t in out:
        assert x.dtype == tf.uint8 and x.shape[1] == WIDTH
        assert x.numpy()[:, 0].tolist() == (np.rint(t * 10).astype(int) % 5).tolist()


def test_rows_view_and_unshuffled_order():
    seq, y = windows_and_labels()
    rows = np.array([7, 2, 5])
    ((x, t),) = take(make_tf_dataset(seq, y[rows], 8, rows=rows), 1)
    assert x.numpy()[:, 0].tolist() == [2, 2, 0] and t.tolist() == pytest.approx([0.7, 0.2, 0.5])


def test_resumed_epoch_is_the_same_as_uninterrupted():
    seq, y = windows_and_labels()
    full = take(make_tf_dataset(seq, y, 4, shuffle=True, seed=1), 6)
    resumed = take(make_tf_dataset(seq, y, 4, shuffle=True, seed=1, first_epoch=1), 3)
    assert [t.tolist() for _, t in resumed] == [t.tolist() for _, t in full[3:]]


def test_named_inputs():
    y = np.arange(6, dtype=np.float32)
    level = np.arange(12, dtype=np.float32).reshape(6, 2)

    def gather(i):
        return {"codes": np.full((len(i), 3), 1, np.uint8), "level": level[i]}

    spec = {"codes": (np.uint8, (3,)), "level": (np.float32, (2,))}
    ((x, t),) = take(batched_dataset(y, 6, gather, spec), 1)
    assert set(x) == {"codes", "level"} and x["level"].shape == (6, 2)
    assert x["level"].numpy()[:, 0].tolist() == (t * 2).tolist()
