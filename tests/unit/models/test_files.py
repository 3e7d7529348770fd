"""Model files: k-mer GBR models in skops (no pickle), pickles refused unread, Keras safe mode, messages."""

import errno
import json
import os
import pickle
import resource
import shutil
import subprocess
import sys
import zipfile

import joblib
import numpy as np
import pytest
from helpers import TEST_DATA, run_main

from mrcnn_tools.cli import predict, train
from mrcnn_tools.errors import ModelError, MrcnnError, UsageError
from mrcnn_tools.models.files import (
    META_ENTRY,
    check_model_suffix,
    load_model,
    model_kind,
    read_model_meta,
    save_keras_model,
)

GBR = TEST_DATA / "model_small_gbr.skops"
KERAS = TEST_DATA / "model_small.keras"
TEST_NPZ = TEST_DATA / "test_small.npz"
GBR_META = {"arch": "kmer-gbr", "flank": 200, "window": 400, "encoding": "TCGA-N4"}


class _OpenFile:
    """Unpickling this creates a file: the side effect a hostile model would have (here harmless)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _evil_pickle(marker):
    return pickle.dumps({"mrcnn_meta": GBR_META, "estimator": _OpenFile(str(marker))}, protocol=4)


def _predict_columns(path):
    rows = [ln.split("\t") for ln in path.read_text().splitlines() if not ln.startswith("#")]
    return [(r[0], int(r[1]), float(r[4])) for r in rows]


# --- the crafted payloads are live: without these controls the refusal tests could pass vacuously ---


def test_crafted_pickle_really_has_a_side_effect(tmp_path):
    marker = tmp_path / "probe"
    pickle.loads(_evil_pickle(marker))
    assert marker.exists()


@pytest.mark.parametrize("name", ["evil.joblib", "evil.pkl", "evil.skops", "evil.keras", "evil"])
@pytest.mark.parametrize("flavour", ["pickle", "joblib"])
def test_pickle_model_refused_without_running_it(tmp_path, capsys, name, flavour):
    marker = tmp_path / "pwned"
    model = tmp_path / name
    if flavour == "pickle":
        model.write_bytes(_evil_pickle(marker))
    else:
        joblib.dump({"mrcnn_meta": GBR_META, "estimator": _OpenFile(str(marker))}, model, compress=3)
    rc, err = run_main(predict.main, ["-m", model, TEST_NPZ, "-o", tmp_path / "p.tsv"], capsys)
    assert rc == 1
    assert len(err) == 1 and "pickle" in err[0] and str(model) in err[0], err
    assert not marker.exists()
    assert not (tmp_path / "p.tsv").exists()


def test_pickle_refused_by_a_subprocess_too(tmp_path):
    marker = tmp_path / "pwned"
    model = tmp_path / "m.joblib"
    model.write_bytes(_evil_pickle(marker))
    proc = subprocess.run(
        [sys.executable, "-m", "mrcnn_tools.cli.predict", "-m", str(model), str(TEST_NPZ)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "pickle" in proc.stderr and proc.stdout == ""
    assert not marker.exists()


def test_galaxy_pickle_test_file_is_live_and_refused():
    # the Galaxy expect_failure test relies on this file printing MRCNN-PICKLE-RAN when unpickled
    code = f"import pickle; pickle.load(open({str(TEST_DATA / 'model_pickle.joblib')!r}, 'rb'))"
    control = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert control.stdout.strip() == "MRCNN-PICKLE-RAN"
    proc = subprocess.run(
        [sys.executable, "-m", "mrcnn_tools.cli.predict", "-m", str(TEST_DATA / "model_pickle.joblib"), str(TEST_NPZ)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "does not load pickles" in proc.stderr
    assert "MRCNN-PICKLE-RAN" not in proc.stdout + proc.stderr


class Boom:
    """A type outside the trusted list: skops would call __setstate__ on load if it were trusted."""

    def __init__(self, path):
        self.path = path

    def __setstate__(self, state):
        open(state["path"], "w").close()


def _skops_with(obj, path, meta=GBR_META):
    import skops.io as sio

    sio.dump(obj, path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr(META_ENTRY, json.dumps(meta))


def test_skops_file_with_an_untrusted_type_refused_unbuilt(tmp_path):
    import skops.io as sio

    marker = tmp_path / "pwned"
    model = tmp_path / "m.skops"
    _skops_with({"estimator": Boom(str(marker))}, model)
    # control: trusting the type does run its code
    sio.load(model, trusted=sio.get_untrusted_types(file=model))
    assert marker.exists()
    marker.unlink()
    with pytest.raises(ModelError, match="does not trust.*Boom"):
        load_model(str(model))
    assert not marker.exists()


def test_skops_file_naming_a_function_refused(tmp_path):
    model = tmp_path / "m.skops"
    _skops_with({"f": os.system}, model)
    with pytest.raises(ModelError, match="does not trust.*(posix|os).system"):
        load_model(str(model))


def test_skops_file_calling_a_method_of_a_trusted_type_refused(tmp_path):
    # a bound method of a trusted class: the type check alone would pass it, the loader check does not
    from sklearn.ensemble import HistGradientBoostingRegressor

    model = tmp_path / "m.skops"
    _skops_with({"f": HistGradientBoostingRegressor().get_params}, model)
    with pytest.raises(ModelError, match="does not trust.*MethodNode"):
        load_model(str(model))


def test_lambda_layer_model_refused_and_not_run(tmp_path, monkeypatch):
    import keras

    marker = tmp_path / "pwned"
    monkeypatch.setenv("MRCNN_TEST_MARKER", str(marker))
    # self-contained code (no defaults or closure): what a hostile model file would carry
    # a lambda, not a def: Keras stores a lambda's bytecode in the file, a named function only by name
    touch = lambda x: (  # noqa: E731
        __import__("pathlib").Path(__import__("os").environ["MRCNN_TEST_MARKER"]).touch(),
        x * 2,
    )[1]

    inputs = keras.Input((4,))
    outputs = keras.layers.Lambda(touch)(inputs)
    path = tmp_path / "lambda.keras"
    save_keras_model(keras.Model(inputs, outputs), str(path), {"arch": "mrcnn", "flank": 2})
    marker.unlink()  # building the model ran the lambda once
    with pytest.raises(ModelError, match="Lambda"):
        load_model(str(path))
    assert not marker.exists()
    # control: outside safe mode Keras rebuilds the graph and the code runs
    keras.models.load_model(path, compile=False, safe_mode=False)
    assert marker.exists()


# --- the skops GBR model predicts as the joblib model did ---


def test_gbr_predictions_equal_those_of_the_former_joblib_model(tmp_path, capsys):
    # pred_small_gbr.tsv was written by the joblib model of the same training run (seed 1), before skops
    out = tmp_path / "p.tsv"
    rc, err = run_main(predict.main, ["-m", GBR, TEST_NPZ, "-o", out], capsys)
    assert rc == 0, err
    assert _predict_columns(out) == _predict_columns(TEST_DATA / "pred_small_gbr.tsv")


def test_gbr_model_is_a_skops_zip_with_metadata():
    assert model_kind(str(GBR)) == "skops"
    names = zipfile.ZipFile(GBR).namelist()
    assert "schema.json" in names and META_ENTRY in names
    assert not any(n.endswith((".pkl", ".pickle", ".joblib")) for n in names)
    assert read_model_meta(str(GBR))["arch"] == "kmer-gbr"


def test_train_writes_skops_that_round_trips(trained):
    run = trained("kmer-gbr")  # mrcnn-train on train_small.npz, seed 1, as make_galaxy_inputs.sh ran it
    assert run.rc == 0, run.err
    out = run.model
    assert out.suffix == ".skops" and model_kind(str(out)) == "skops"
    model, meta = load_model(str(out))
    ref, _ = load_model(str(GBR))
    X = np.random.default_rng(0).random((50, model.n_features_in_)).astype(np.float32) * 4
    # same data and seed as the test-data model: the same trees
    assert np.array_equal(model.predict(X), ref.predict(X))


# --- suffixes and content ---


@pytest.mark.parametrize(
    "arch,name,fix",
    [
        ("mrcnn", "m.joblib", "m.keras"),
        ("simple-cnn", "m", "m.keras"),
        ("kmer-gbr", "m.pkl", "m.skops"),
        ("kmer-gbr", "m.keras", "m.skops"),
        ("mrcnn", "m.skops", "m.keras"),
    ],
)
def test_suffix_that_does_not_fit_the_architecture_refused(arch, name, fix):
    with pytest.raises(UsageError, match=f"name the output {fix}$"):
        check_model_suffix(arch, name)


@pytest.mark.parametrize("arch,name", [("mrcnn", "a.keras"), ("simple-cnn", "d/b.keras"), ("kmer-gbr", "c.skops")])
def test_fitting_suffix_accepted(arch, name):
    assert check_model_suffix(arch, name) is None


def test_train_refuses_a_wrong_suffix_before_reading_anything(tmp_path, capsys):
    # the dataset does not exist: a refusal about the suffix proves the check comes first
    rc, err = run_main(train.main, [tmp_path / "missing.npz", "--arch", "mrcnn", "-o", tmp_path / "m.joblib"], capsys)
    assert rc == 2 and len(err) == 1 and "m.keras" in err[0] and "missing.npz" not in err[0], err
    assert os.listdir(tmp_path) == []


def test_kmer_gbr_pickle_name_says_why(capsys, tmp_path):
    rc, err = run_main(
        train.main, [TEST_DATA / "train_small.npz", "--arch", "kmer-gbr", "-o", tmp_path / "g.pkl"], capsys
    )
    assert rc == 2 and "skops" in err[0] and "pickle" in err[0], err


def test_kmer_gbr_joblib_name_deprecated_written_as_skops_and_predicts(capsys, tmp_path):
    # 0.1's name for GBR models keeps working for one release; the file holds no pickle
    out = tmp_path / "g.joblib"
    rc, err = run_main(
        train.main,
        [TEST_DATA / "train_small.npz", "--arch", "kmer-gbr", "--val-fraction", "0.2", "--seed", "1", "-o", out],
        capsys,
    )
    assert rc == 0, err
    assert any("deprecated" in e and "g.skops" in e for e in err), err
    assert model_kind(str(out)) == "skops"
    rc, err = run_main(predict.main, ["-m", out, TEST_NPZ, "-o", tmp_path / "p.tsv"], capsys)
    assert rc == 0, err


@pytest.mark.parametrize(
    "src,name", [(KERAS, "renamed.joblib"), (KERAS, "renamed"), (GBR, "renamed.keras"), (GBR, "renamed.bin")]
)
def test_renamed_model_recognised_by_content(tmp_path, capsys, src, name):
    ref, got = tmp_path / "ref.tsv", tmp_path / "got.tsv"
    shutil.copy(src, tmp_path / name)
    rc, err = run_main(predict.main, ["-m", src, TEST_NPZ, "-o", ref], capsys)
    assert rc == 0, err
    rc, err = run_main(predict.main, ["-m", tmp_path / name, TEST_NPZ, "-o", got], capsys)
    assert rc == 0, err
    assert got.read_bytes() == ref.read_bytes()


@pytest.mark.parametrize(
    "content,words",
    [
        (b"\x89HDF\r\n\x1a\n" + b"\0" * 64, "legacy HDF5"),
        (b"#chrom\tstart\n", "not a model file"),
        (b"", "not a model file"),
    ],
)
def test_other_files_refused_with_one_line(tmp_path, capsys, content, words):
    model = tmp_path / "m.keras"
    model.write_bytes(content)
    rc, err = run_main(predict.main, ["-m", model, TEST_NPZ], capsys)
    assert rc == 1 and len(err) == 1 and words in err[0] and "train it again" not in err[0], err


def test_truncated_keras_model_says_damaged(tmp_path, capsys):
    model = tmp_path / "m.keras"
    model.write_bytes(KERAS.read_bytes()[:5000])
    rc, err = run_main(predict.main, ["-m", model, TEST_NPZ], capsys)
    assert rc == 1 and len(err) == 1 and str(model) in err[0] and "damaged" in err[0], err


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EFBIG])
def test_write_error_while_loading_is_not_called_a_damaged_model(monkeypatch, code):
    # the fast counterpart of the real file-size limit below: the error Keras meets while unpacking
    import keras

    def write_fails(*args, **kwargs):
        raise OSError(code, os.strerror(code), "/tmp/tmpabc")

    monkeypatch.setattr(keras.models, "load_model", write_fails)
    with pytest.raises(MrcnnError) as info:
        load_model(str(KERAS))
    text = str(info.value)
    assert "could not write" in text and os.strerror(code) in text and "TMPDIR" in text and "train" not in text


@pytest.mark.slow
def test_file_size_limit_while_loading_names_the_write(tmp_path):
    # Keras unpacks the model's extra entries into a temporary directory; RLIMIT_FSIZE makes that write fail

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    env = dict(os.environ, TMPDIR=str(tmp_path))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mrcnn_tools.cli.predict",
            "-m",
            str(KERAS),
            str(TEST_NPZ),
            "-o",
            str(tmp_path / "p.tsv"),
        ],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=limit,
    )
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert "could not write" in lines[0] and "train it again" not in lines[0], lines
