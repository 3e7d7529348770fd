"""mrcnn-train on a dataset of several samples (issue 25): one model, one output per sample, its samples (and
whether the labels are single-cell calls) recorded in the model file; what one model of several samples cannot do
refused in one line. Tiny datasets, one or two epochs."""

import numpy as np
import pytest
from cohort_data import tiny_cohort
from helpers import run_main

from mrcnn_tools.cli.train import main as train
from mrcnn_tools.models.context_inputs import model_inputs
from mrcnn_tools.models.files import load_model, read_model_meta

QUICK = ["--epochs", "1", "--batch-size", "64", "--seed", "0", "--patience", "0", "--val-fraction", "0"]


def _cohort(tmp_path, name="cohort.npz", **kwargs):
    path = tmp_path / name
    tiny_cohort(**kwargs).save(str(path))
    return path


@pytest.mark.slow  # a training (about 2 s unloaded; the fast tier has the model's file round trip in tests/unit/models)
def test_context_only_one_output_per_sample(tmp_path, capsys):
    data = _cohort(tmp_path, n=60, names=("liver", "lung", "brain"))
    model = tmp_path / "m.keras"
    rc, err = run_main(train, [data, "--arch", "context-only", "-o", model, *QUICK], capsys)
    assert rc == 0, err
    assert any("3 samples (liver, lung, brain)" in line and "binomial" in line for line in err)
    meta = read_model_meta(str(model))
    assert meta["samples"] == ["liver", "lung", "brain"] and meta["binary"] is False
    assert meta["hyperparameters"]["samples"] == 3 and meta["context"]["k"] == 2
    net, _ = load_model(str(model))
    x = model_inputs(tiny_cohort(n=60, names=("liver", "lung", "brain")), np.arange(7), with_codes=False)
    out = np.asarray(net.predict(x, verbose=0))
    assert out.shape == (7, 3) and ((out > 0) & (out < 1)).all()


@pytest.mark.slow  # two trainings
def test_single_cells_detected_and_deterministic(tmp_path, capsys):
    data = _cohort(tmp_path, n=60, binary=True)
    paths = [tmp_path / "a.keras", tmp_path / "b.keras"]
    for path in paths:
        rc, err = run_main(train, [data, "--arch", "context-only", "-o", path, *QUICK], capsys)
        assert rc == 0, err
    assert any("every observed level is 0 or 1" in line for line in err)
    assert read_model_meta(str(paths[0]))["binary"] is True
    a, b = (load_model(str(p))[0].get_weights() for p in paths)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))


def test_kmer_gbr_and_binary_one_sample_refused(tmp_path, capsys):
    data = _cohort(tmp_path, n=20)
    rc, err = run_main(train, [data, "--arch", "kmer-gbr", "-o", tmp_path / "m.skops", *QUICK], capsys)
    assert rc == 2 and len(err) == 1 and "kmer-gbr fits one sample, this dataset holds 3" in err[0]
    assert not (tmp_path / "m.skops").exists()
    one = tmp_path / "one.npz"
    single = tiny_cohort(n=20)
    single.y, single.coverage, single.samples = single.y[:, 0], single.coverage[:, 0], None
    for k in ("context_level", "context_dist", "context_coverage"):
        setattr(single, k, getattr(single, k)[:, 0])
    single.save(str(one))
    rc, err = run_main(train, [one, "--arch", "context-only", "--binary", "-o", tmp_path / "m.keras", *QUICK], capsys)
    assert rc == 2 and len(err) == 1 and "--binary applies to datasets of several samples" in err[0]


@pytest.mark.slow  # three short trainings
@pytest.mark.parametrize("arch", ["mrcnn", "simple-cnn", "mrcnn-context"])
def test_sequence_architectures_one_output_per_sample(tmp_path, capsys, arch):
    """Windows stored in the dataset: the sequence networks (and mrcnn-context) train on several samples too."""
    data = tiny_cohort(n=40)
    data.seq = np.random.default_rng(0).integers(0, 4, (40, 100)).astype(np.uint8)
    data.meta["flank"] = 50
    data.save(str(tmp_path / "w.npz"))
    model = tmp_path / "m.keras"
    rc, err = run_main(train, [tmp_path / "w.npz", "--arch", arch, "-o", model, *QUICK], capsys)
    assert rc == 0, err
    net, meta = load_model(str(model))
    assert meta["samples"] == ["a", "b", "c"] and net.output.shape[-1] == 3
