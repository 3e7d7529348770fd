"""Keras models on datasets of several samples: a hand-built model of several samples (the contract's inputs, one
output per sample) and a one-sample context model read on each sample's own neighbours; predictions do not depend
on how the rows are cut. The fast case runs the model in memory; the files end to end are in the slow tier."""

import numpy as np
import pandas as pd
import pytest
from cohort_data import tiny_cohort, tiny_samples_model

from mrcnn_tools.models.context import build_context_model, context_meta
from mrcnn_tools.models.files import save_keras_model
from mrcnn_tools.prediction.options import PredictOptions
from mrcnn_tools.prediction.predict import predict_to_files
from mrcnn_tools.prediction.predictors import ContextPredictor
from mrcnn_tools.prediction.samples import for_samples, neighbours_per_sample, to_model_order


def _predict(model, data_path, out, **opts):
    predict_to_files(str(model) if model else None, [str(data_path)], output=str(out), options=PredictOptions(**opts))
    return pd.read_csv(out, sep="\t", dtype={"sample": str}, keep_default_na=False, na_values=["NA"])


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cohort")
    data = tiny_cohort(n=40, names=("a", "b", "c"), k=2, seed=7)
    data.save(str(tmp / "co.npz"))
    return tmp, data


def test_model_of_several_samples_in_memory_whatever_the_rows(cohort):
    import keras

    tmp, data = cohort
    path = tiny_samples_model(tmp / "mem.keras", ["c", "a", "x", "b"], 2)  # another order, a sample it lacks
    model = keras.models.load_model(path, compile=False)
    meta = {"arch": "context-only", "context": {"k": 2}, "samples": ["c", "a", "x", "b"]}
    p = for_samples(ContextPredictor(model, meta), meta, data, "m", "d")
    whole = p.predict_rows(data)
    assert whole.shape == (len(data), 3) and whole.dtype == np.float32
    parts = np.concatenate([p.predict_rows(data.rows(np.arange(a, min(a + 7, len(data))))) for a in range(0, 40, 7)])
    np.testing.assert_array_equal(parts, whole)
    # a naive reference: the model called on the inputs in its own order, its columns put back by name
    x = to_model_order(
        {
            "context_level": np.nan_to_num(data.context_level),
            "context_dist": data.context_dist,
            "context_coverage": data.context_coverage,
            "sample_level": np.nan_to_num(data.y),
            "sample_coverage": np.where(np.isnan(data.y), 0, np.maximum(data.coverage, 1)).astype(np.int32),
        },
        np.array([2, 0, -1, 1]),
    )
    direct = np.asarray(model(x, training=False))
    np.testing.assert_allclose(whole, direct[:, [1, 3, 0]], atol=1e-6)


@pytest.mark.slow
def test_model_of_several_samples_rows_and_columns_whatever_the_chunks(cohort):
    tmp, data = cohort
    model = tiny_samples_model(tmp / "m.keras", ["c", "a", "b"], 2)  # another order than the dataset's
    whole = _predict(model, tmp / "co.npz", tmp / "p1.tsv", chunk_size=65536, batch_size=2048)
    cut = _predict(model, tmp / "co.npz", tmp / "p2.tsv", chunk_size=7, batch_size=3)
    assert (tmp / "p1.tsv").read_bytes() == (tmp / "p2.tsv").read_bytes()
    assert list(whole.columns) == ["#chrom", "start", "end", "strand", "sample", "prediction", "y_true", "coverage"]
    assert len(whole) == int(np.isfinite(data.y).sum()) and len(cut) == len(whole)
    p = whole.prediction.to_numpy()
    assert ((p > 0) & (p < 1)).all() and len(np.unique(p)) > len(p) // 2
    # the rows of one sample: its observed sites, in order
    b = whole[whole["sample"] == "b"]
    np.testing.assert_array_equal(b.start.to_numpy(), data.pos[np.isfinite(data.y[:, 1])])


@pytest.mark.slow
def test_a_sample_the_model_lacks_is_fed_as_not_observed(cohort):
    tmp, data = cohort
    model = tiny_samples_model(tmp / "m4.keras", ["a", "b", "c", "d"], 2)
    out = _predict(model, tmp / "co.npz", tmp / "p4.tsv")
    assert set(out["sample"]) == {"a", "b", "c"} and len(out) == int(np.isfinite(data.y).sum())


@pytest.mark.slow
def test_one_sample_context_model_reads_each_samples_own_neighbours(cohort):
    tmp, data = cohort
    # an untrained context-only model is the distance-weighted neighbour average (its correction starts at 0)
    model = build_context_model("context-only", 400, 2)
    meta = {"arch": "context-only", "flank": 200, "encoding": data.meta["encoding"], **{"context": context_meta(2, 0)}}
    path = save_keras_model(model, str(tmp / "one.keras"), meta)
    out = _predict(path, tmp / "co.npz", tmp / "p5.tsv", impute_missing=True)
    assert len(out) == data.y.size
    want = neighbours_per_sample(data.context_level, data.context_dist).reshape(-1)
    have = np.isfinite(want)
    np.testing.assert_allclose(out.prediction.to_numpy()[have], np.round(want[have], 6), atol=2e-6)
