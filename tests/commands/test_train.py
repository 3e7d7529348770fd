"""mrcnn-train: model shapes, real training, determinism, resume, bad input."""

import json

import numpy as np
import pytest
from helpers import TEST_DATA, bundled, load, run_main

from mrcnn_tools.cli.encode import main as encode
from mrcnn_tools.cli.train import main as train
from mrcnn_tools.data.dataset import Dataset, load_dataset
from mrcnn_tools.data.splits import split_validation
from mrcnn_tools.models.architectures import build_mrcnn, one_hot_layer
from mrcnn_tools.models.backend import load_tensorflow
from mrcnn_tools.models.files import load_model
from mrcnn_tools.prediction.predict import Predictor
from mrcnn_tools.training.fit import TrainConfig, train_keras


@pytest.fixture(scope="module")
def h1(tmp_path_factory, examples):
    """H1 RRBS (true zeros) on the whole chr20: train below 45 Mb, test above."""
    d = tmp_path_factory.mktemp("h1")

    calls = TEST_DATA / "rrbsH1hESC_hg19_chr20-22Y.bedMethyl"
    for name, region in (("train", "chr20:1-45000000"), ("test", "chr20:45000001-63025520")):
        assert (
            encode(
                [
                    "-q",
                    "--genome",
                    str(examples / "GRCh37_chr20.fa.gz"),
                    "--calls",
                    str(calls),
                    "--chroms",
                    "chr20",
                    "--region",
                    region,
                    "-o",
                    str(d / f"{name}.npz"),
                ]
            )
            == 0
        )
    return d


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """IMR90 WGBS, 0.5 Mb of chr22: enough for quick training runs."""

    d = tmp_path_factory.mktemp("small")
    assert (
        encode(
            [
                "-q",
                "--genome",
                str(TEST_DATA / "22_20-21M.fa"),
                "--calls",
                str(TEST_DATA / "IMR90_r1_chr22_20-21M_GRCh37.bismark.cov"),
                "--region",
                "chr22:20000001-20300000",
                "-o",
                str(d / "tr.npz"),
            ]
        )
        == 0
    )
    return d / "tr.npz"


def test_mrcnn_layer_shapes_as_in_paper():

    load_tensorflow()

    m = build_mrcnn(400)
    shapes = {layer.name: tuple(layer.output.shape) for layer in m.layers}
    assert shapes["one_hot"] == (None, 400, 4)
    assert shapes["conv1"] == (None, 400, 1, 16)  # 1x4 convolution, 16 filters, no pooling
    assert shapes["fold"] == (None, 20, 20, 16)  # reshaped to 20x20
    assert shapes["conv2"][1:3] == (20, 20)
    assert shapes["pool"][1:3] == (6, 6)  # 3x3 max pooling, stride 3
    assert shapes["conv3"][1:3] == shapes["conv4"][1:3] == (6, 6)
    assert shapes["level"] == (None, 1)
    assert m.get_layer("conv1").activation.__name__ == "linear"
    assert m.get_layer("conv2").activation.__name__ == "relu"
    assert m.get_layer("conv3").activation.__name__ == m.get_layer("conv4").activation.__name__ == "linear"


def test_one_hot_layer_matches_paper_encoding():

    load_tensorflow()

    got = np.asarray(one_hot_layer()()(np.array([[0, 1, 2, 3, 4]], np.uint8)))[0]
    # T=[1,0,0,0], C=[0,1,0,0], G=[0,0,1,0], A=[0,0,0,1], N=0
    assert got.tolist() == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]


@pytest.mark.slow
@pytest.mark.parametrize(
    "arch,ext,epochs", [("mrcnn", "keras", 15), ("simple-cnn", "keras", 15), ("kmer-gbr", "skops", 1)]
)
def test_each_architecture_beats_training_mean_on_h1(h1, tmp_path, capsys, arch, ext, epochs):
    # end to end on real data with true zeros; test_each_architecture_trains_through_main is the fast counterpart
    from sklearn.metrics import roc_auc_score

    out = tmp_path / f"m.{ext}"
    rc, err = run_main(
        train,
        [
            h1 / "train.npz",
            "--arch",
            arch,
            "--epochs",
            epochs,
            "--seed",
            1,
            "--batch-size",
            32,
            "--history",
            tmp_path / "h.tsv",
            "-o",
            out,
        ],
        capsys,
    )
    assert rc == 0, err
    model, meta = load_model(str(out))
    assert meta["arch"] == arch and meta["flank"] == 200 and meta["encoding"] == "TCGA-N4"
    assert meta["training"]["n_train"] > 400
    te, tr = load_dataset(str(h1 / "test.npz")), load_dataset(str(h1 / "train.npz"))
    pred = Predictor(model, meta).predict(te.seq)
    assert pred.min() >= 0 and pred.max() <= 1
    rmse = float(np.sqrt(np.mean((pred - te.y) ** 2)))
    baseline = float(np.sqrt(np.mean((tr.y.mean() - te.y) ** 2)))
    assert rmse < baseline, (rmse, baseline)
    assert roc_auc_score(te.y > 0.5, pred) > 0.8
    rows = (tmp_path / "h.tsv").read_text().splitlines()
    assert rows[0].startswith("#epoch\tloss") and len(rows) >= 2


# the paper's network is the slow case (5 s); simple-cnn keeps the Keras path in the fast tier
@pytest.mark.parametrize("arch", [pytest.param("mrcnn", marks=pytest.mark.slow), "simple-cnn", "kmer-gbr"])
def test_each_architecture_trains_through_main(trained, arch):
    """main() writes a model of the architecture that loads with its metadata, uses every labelled site for
    training or validation, predicts a level in [0, 1] for every test site, and writes its history."""

    run = trained(arch)
    assert run.rc == 0, run.err
    model, meta = load_model(str(run.model))
    assert meta["arch"] == arch and meta["flank"] == 200 and meta["window"] == 400
    assert meta["encoding"] == "TCGA-N4"
    labelled = int(np.isfinite(load(bundled("train_small.npz"))["y"]).sum())
    assert labelled == 2802
    assert meta["training"]["n_train"] + meta["training"]["n_val"] == labelled and meta["training"]["n_val"] > 0
    te = load(bundled("test_small.npz"))
    pred = Predictor(model, meta).predict(te["seq"])
    assert pred.shape == (len(te["y"]),) == (87,)
    assert pred.min() >= 0 and pred.max() <= 1 and pred.std() > 0
    rows = run.history.read_text().splitlines()
    assert rows[0].startswith("#epoch\tloss")
    if arch != "kmer-gbr":  # 2 epochs, patience 5: no early stop
        assert [r.split("\t")[0] for r in rows[1:]] == ["1", "2"]
    else:
        assert len(rows) >= 2


# 9 s (three trainings); the fast tier keeps batch/chunk-independent predictions (test_options)
@pytest.mark.slow
def test_same_seed_same_weights_under_either_strategy_and_batch_size_independent_predictions(trained, tmp_path, capsys):
    # the second run under MirroredStrategy (one device here): the same seed gives the same weights whichever
    # strategy runs the steps

    first = trained("mrcnn")
    assert first.rc == 0, first.err
    again = [str(a) for a in first.argv[: first.argv.index("--history")]]
    rc, err = run_main(train, [*again, "--strategy", "mirrored", "-o", tmp_path / "b.keras"], capsys)
    assert rc == 0, err
    (ma, meta), (mb, meta_b) = load_model(str(first.model)), load_model(str(tmp_path / "b.keras"))
    assert meta_b["arch"] == "mrcnn" and meta_b["training"] == meta["training"]
    weights = list(zip(ma.get_weights(), mb.get_weights()))
    assert weights and all(np.array_equal(wa, wb) for wa, wb in weights)
    seq = load(bundled("train_small.npz"))["seq"]  # 2,802 rows: two whole prediction blocks and a part
    p = [Predictor(ma, meta, batch_size=bs).predict(seq) for bs in (1000, 37, 1)]
    assert np.array_equal(p[0], p[1]) and np.array_equal(p[0], p[2])


def test_leak_warning_and_split_by_chromosome_refused_when_single(trained, tmp_path, capsys):
    run = trained("mrcnn")  # --val-fraction 0.3 in random 10-kb blocks: neighbours of held-out blocks leak
    assert run.rc == 0, run.err
    assert any("lie within 400 bp of a training site" in e for e in run.err), run.err
    rc, err = run_main(
        train, [bundled("train_small.npz"), "--epochs", 1, "--val-chroms", "chr22", "-o", tmp_path / "x.keras"], capsys
    )
    assert rc == 2 and "every site" in err[-1]
    assert not (tmp_path / "x.keras").exists()


class _Kill:
    """Raise KeyboardInterrupt after a given epoch, as a kill would."""

    def __new__(cls, after):
        import keras

        class Kill(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch + 1 == after:
                    raise KeyboardInterrupt

        return Kill()


@pytest.mark.slow
def test_resume_after_kill(small, tmp_path, capsys):

    load_tensorflow()
    data = load_dataset(str(small))
    tr, va, _ = split_validation(data, val_fraction=0.2, seed=0)
    ckpt = tmp_path / "ckpt"
    config = TrainConfig(epochs=3, patience=0, seed=0, batch_size=64, checkpoint_dir=str(ckpt))
    with pytest.raises(KeyboardInterrupt):
        train_keras(tr, va, config, meta={}, extra_callbacks=[_Kill(1)])
    state = json.loads((ckpt / "state.json").read_text())
    assert state["state"]["epoch"] == 1 and len(state["history"]) == 1
    args = [
        small,
        "--epochs",
        3,
        "--patience",
        0,
        "--val-fraction",
        0.2,
        "--seed",
        0,
        "--batch-size",
        64,
        "--checkpoint-dir",
        ckpt,
    ]
    rc, err = run_main(
        train, args + ["--resume", "--history", tmp_path / "res.tsv", "-o", tmp_path / "r.keras"], capsys
    )
    assert rc == 0, err
    assert any("resuming after epoch 1 of 3" in e for e in err)
    rc, err = run_main(
        train,
        [
            small,
            "--epochs",
            3,
            "--patience",
            0,
            "--val-fraction",
            0.2,
            "--seed",
            0,
            "--batch-size",
            64,
            "--history",
            tmp_path / "full.tsv",
            "-o",
            tmp_path / "f.keras",
        ],
        capsys,
    )
    assert rc == 0, err
    resumed = (tmp_path / "res.tsv").read_text().splitlines()
    full = (tmp_path / "full.tsv").read_text().splitlines()
    assert len(resumed) == len(full) == 4
    assert resumed[-1].split("\t")[0] == full[-1].split("\t")[0] == "3"
    # the first epoch is the same run in both
    assert resumed[1].split("\t")[1] == full[1].split("\t")[1]
    # a damaged checkpoint is refused clearly
    (ckpt / "last.keras").write_bytes(b"not a zip")
    rc, err = run_main(train, args + ["--resume", "-o", tmp_path / "bad.keras"], capsys)
    assert rc == 1 and "checkpoint is unreadable" in err[-1] and not (tmp_path / "bad.keras").exists()


def _bad(capsys, tmp_path, args, code=1):
    out = tmp_path / "bad.keras"
    rc, err = run_main(train, [*args, "-o", out], capsys)
    assert rc == code, err
    assert not out.exists() and len(err) <= 3
    return err[-1]


def test_bad_inputs(td, tmp_path, capsys):
    other = tmp_path / "other.npz"
    np.savez(other, schema=np.array("something/2"), seq=np.zeros((3, 400), np.uint8))
    assert "schema 'something/2'" in _bad(capsys, tmp_path, [other])
    garbage = tmp_path / "garbage.npz"
    garbage.write_text("hello")
    assert "not a readable NPZ" in _bad(capsys, tmp_path, [garbage])
    nolabel = tmp_path / "all.npz"
    assert (
        encode(
            [
                "-q",
                "--genome",
                str(td / "22_20-21M.fa"),
                "--all-cpgs",
                "--region",
                "chr22:20000001-20100000",
                "-o",
                str(nolabel),
            ]
        )
        == 0
    )
    assert "no site has a label" in _bad(capsys, tmp_path, [nolabel])
    empty = tmp_path / "empty.npz"
    Dataset.empty(200).save(str(empty))
    assert "empty" in _bad(capsys, tmp_path, [empty])
    f100 = tmp_path / "f100.npz"
    assert (
        encode(
            [
                "-q",
                "--genome",
                str(td / "22_20-21M.fa"),
                "--calls",
                str(td / "IMR90_r1_chr22_20-21M_GRCh37.bismark.cov"),
                "--region",
                "chr22:20000001-20300000",
                "--flank",
                "100",
                "-o",
                str(f100),
            ]
        )
        == 0
    )
    msg = _bad(capsys, tmp_path, [f100, "--arch", "mrcnn"])
    assert "not a perfect square" in msg and "--flank 200" in msg
    msg = _bad(capsys, tmp_path, [td / "train_small.npz", "--val-fraction", 0], code=2)
    assert "early stopping" in msg
