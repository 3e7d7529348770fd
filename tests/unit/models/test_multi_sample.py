"""One model for many samples (issue 25): inputs, shapes, leave-one-out by construction, the masked loss against a
naive NumPy binomial likelihood, single-cell detection."""

import numpy as np
import pytest
from cohort_data import tiny_cohort

from mrcnn_tools.models.context_inputs import model_inputs, sample_entries
from mrcnn_tools.models.files import load_model, save_keras_model
from mrcnn_tools.models.inputs import MAX_READS, is_binary, training_labels
from mrcnn_tools.models.registry import build_model
from mrcnn_tools.models.samples import sample_layers


def test_sample_entries_mask_and_count():
    y = np.array([[0.5, np.nan], [1.0, 0.0]], np.float32)
    cov = np.array([[4, 0], [0, 7]], np.int32)  # (1, 0): observed, level-only format (no count) -> 1
    level, c = sample_entries(y, cov)
    assert level.dtype == np.float32 and c.dtype == np.int32
    np.testing.assert_array_equal(level, [[0.5, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(c, [[4, 0], [1, 7]])


def test_model_inputs_shapes_and_dtypes():
    data = tiny_cohort()
    x = model_inputs(data, np.arange(5), with_codes=False)
    want = {
        "context_level": (np.float32, (5, 3, 4)),
        "context_dist": (np.int32, (5, 3, 4)),
        "context_coverage": (np.int32, (5, 3, 4)),
        "sample_level": (np.float32, (5, 3)),
        "sample_coverage": (np.int32, (5, 3)),
    }
    assert {k: (v.dtype.type, v.shape) for k, v in x.items()} == want
    assert not np.isnan(x["context_level"]).any() and not np.isnan(x["sample_level"]).any()


def test_training_labels_hand_example():
    data = tiny_cohort(n=2, names=("a", "b"), k=1)
    data.y = np.array([[0.25, np.nan], [1.0, 0.0]], np.float32)
    data.coverage = np.array([[80, 0], [0, 3]], np.int32)
    t = training_labels(data)
    assert t.shape == (2, 2, 2) and t.dtype == np.float32
    np.testing.assert_array_equal(t[..., 0], [[0.25, 0.0], [1.0, 0.0]])
    # reads capped at MAX_READS; no count: one read; not observed: 0
    np.testing.assert_array_equal(t[..., 1], [[MAX_READS, 0], [1, 3]])
    np.testing.assert_array_equal(training_labels(data, binary=True)[..., 1], [[1, 0], [1, 1]])


def test_is_binary():
    assert is_binary(np.array([[0.0, np.nan], [1.0, 1.0]]))
    assert not is_binary(np.array([[0.0, 0.5], [1.0, np.nan]]))
    assert not is_binary(np.full((2, 2), np.nan))


def test_masked_loss_is_the_binomial_likelihood():
    """Hand example: summed -(m log p + u log(1 - p)) over observed entries, over the summed reads."""
    keras = pytest.importorskip("keras")
    loss = sample_layers()["masked_loss"]
    level = np.array([[0.75, 0.0], [0.5, 0.2]], np.float32)
    reads = np.array([[4, 0], [2, 5]], np.float32)  # entry (0, 1) is not observed
    p = np.array([[0.6, 0.9], [0.3, 0.1]], np.float32)
    m, u = level * reads, (1 - level) * reads
    naive = -(m * np.log(p) + u * np.log(1 - p)).sum() / reads.sum()
    y_true = np.stack([level, reads], -1)
    got = keras.ops.convert_to_numpy(loss(keras.ops.convert_to_tensor(y_true), keras.ops.convert_to_tensor(p)))
    assert got.shape == (2,)
    assert np.mean(got) == pytest.approx(naive, rel=1e-5)


def _randomised(model, seed=1):
    """*model* with every weight random, so that each path of the network carries signal."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.1, w.shape).astype(w.dtype) for w in model.get_weights()])
    return model


@pytest.mark.parametrize("arch", ["context-only", pytest.param("mrcnn-context", marks=pytest.mark.slow)])
def test_output_shape_and_leave_one_out(arch):
    """Changing y[i, s] (level and coverage, observed or not) never changes output s of row i; it does change the
    other samples' outputs (they read it)."""
    data = tiny_cohort(n=12, k=2)
    model = _randomised(build_model(arch, 100, seed=0, k=2, samples=3))
    rows = np.arange(12)
    x = model_inputs(data, rows, with_codes=False)
    if arch == "mrcnn-context":
        x["codes"] = np.random.default_rng(0).integers(0, 4, (12, 100)).astype(np.uint8)
    base = np.asarray(model.predict(x, verbose=0))
    assert base.shape == (12, 3) and base.dtype == np.float32
    assert ((base > 0) & (base < 1)).all()
    for s in range(3):
        changed = {k: v.copy() for k, v in x.items()}
        changed["sample_level"][:, s] = 1.0 - changed["sample_level"][:, s]
        changed["sample_coverage"][:, s] = np.where(changed["sample_coverage"][:, s] > 0, 0, 9)
        out = np.asarray(model.predict(changed, verbose=0))
        np.testing.assert_array_equal(out[:, s], base[:, s])
        assert not np.array_equal(np.delete(out, s, axis=1), np.delete(base, s, axis=1))


def test_untrained_model_is_the_mean_of_the_two_baselines():
    """The correction starts at zero: before training, the output is the mean of the sample's neighbour average
    and the (equally weighted) mean of the other observed samples, on the clipped logit scale."""
    data = tiny_cohort(n=10, k=2)
    model = build_model("context-only", 0, seed=0, k=2, samples=3)
    x = model_inputs(data, np.arange(10), with_codes=False)
    out = np.asarray(model.predict(x, verbose=0), np.float64)
    w = np.where(x["context_dist"] != 0, 1.0 / (1.0 + np.abs(x["context_dist"])), 0.0)
    nb = (w * x["context_level"]).sum(-1) / np.maximum(w.sum(-1), 1e-12)
    seen = x["sample_coverage"] > 0
    for i in range(10):
        for s in range(3):
            others = [t for t in range(3) if t != s and seen[i, t]]
            parts = ([nb[i, s]] if w[i, s].sum() > 0 else []) + (
                [np.mean(x["sample_level"][i, others])] if others else []
            )
            want = np.clip(np.mean(parts) if parts else 0.5, 0.02, 0.98)
            assert out[i, s] == pytest.approx(want, abs=1e-5)


@pytest.mark.parametrize("arch", ["mrcnn", "simple-cnn"])
def test_sequence_networks_take_several_samples(arch):
    model = build_model(arch, 100, seed=0, samples=4)
    out = np.asarray(model.predict(np.zeros((3, 100), np.uint8), verbose=0))
    assert out.shape == (3, 4) and ((out > 0) & (out < 1)).all()


def test_model_file_round_trip(tmp_path):
    """A model of several samples saved as mrcnn-train saves it: its samples and binary come back, and so do its
    predictions (its custom layers load in Keras' safe mode)."""
    data = tiny_cohort(n=8, k=2)
    model = _randomised(build_model("context-only", 0, seed=0, k=2, samples=3))
    meta = {"arch": "context-only", "flank": 0, "samples": ["a", "b", "c"], "binary": True, "context": {"k": 2}}
    path = save_keras_model(model, str(tmp_path / "m.keras"), meta)
    loaded, got = load_model(path)
    assert got["samples"] == ["a", "b", "c"] and got["binary"] is True
    x = model_inputs(data, np.arange(8), with_codes=False)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
