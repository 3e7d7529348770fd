"""The imputation commands end to end: mrcnn-encode --context, mrcnn-train --arch context-only/mrcnn-context
(--context-dropout), mrcnn-predict (imputed levels, --baseline neighbours) and their refusals."""

import shutil

import numpy as np
import pytest
from helpers import TEST_DATA

from mrcnn_tools.cli.encode import main as encode
from mrcnn_tools.cli.predict import main as predict
from mrcnn_tools.cli.train import main as train
from mrcnn_tools.data.dataset import load_dataset
from mrcnn_tools.models.files import read_model_meta


def read_tsv(path):
    rows = [ln.rstrip("\n").split("\t") for ln in open(path) if ln.strip()]
    head = [h.lstrip("#") for h in rows[0]]
    return {h: np.array([r[i] for r in rows[1:]]) for i, h in enumerate(head)}


@pytest.fixture(scope="module")
def encoded(tmp_path_factory):
    """Train and test datasets with --context 3 from the real 1 Mb IMR90 region (flank 50: 10x10 for MRCNN)."""

    td, tmp = TEST_DATA, tmp_path_factory.mktemp("ctx")
    shutil.copy(td / "22_20-21M.fa", tmp / "g.fa")
    base = ["--genome", tmp / "g.fa", "--calls", td / "IMR90_r1_chr22_20-21M_GRCh37.bismark.cov", "--flank", "50"]
    for name, region in (("tr", "chr22:20000001-20300000"), ("te", "chr22:20700001-21000000")):
        assert encode([str(a) for a in base + ["--region", region, "--context", "3", "-o", tmp / f"{name}.npz"]]) == 0
    assert encode([str(a) for a in base + ["--region", "chr22:20700001-21000000", "-o", tmp / "plain.npz"]]) == 0
    return tmp


def test_encode_context_arrays_in_the_npz(encoded):
    data = load_dataset(str(encoded / "te.npz"))
    assert data.context_k == 3 and data.meta["context"] == 3 and len(data) > 1000
    # every site's nearest neighbours are other sites of the same calls: never itself
    assert (data.context_dist != 0).any(axis=1).all()
    plain = load_dataset(str(encoded / "plain.npz"))
    assert plain.context_k is None
    np.testing.assert_array_equal(plain.pos, data.pos)


def test_train_predict_context_only_and_baseline(encoded, capsys):
    pytest.importorskip("tensorflow")

    model = encoded / "c.keras"
    assert (
        train(
            [
                str(a)
                for a in [
                    encoded / "tr.npz",
                    "--arch",
                    "context-only",
                    "--epochs",
                    "2",
                    "--context-dropout",
                    "0.2",
                    "-o",
                    model,
                ]
            ]
        )
        == 0
    )
    # a model that reads no sequence has no window-overlap leak to warn of (random validation split here)
    assert "lie within" not in capsys.readouterr().err
    meta = read_model_meta(str(model))
    assert meta["context"]["k"] == 3 and meta["context"]["context_dropout"] == 0.2
    assert predict([str(a) for a in ["-m", model, encoded / "te.npz", "-o", encoded / "p.tsv"]]) == 0
    te = load_dataset(str(encoded / "te.npz"))
    p = read_tsv(encoded / "p.tsv")
    assert len(p["prediction"]) == len(te)
    np.testing.assert_allclose(p["y_true"].astype(float), te.y, atol=1e-6)
    # the baseline, no model: the weighted average worked out here from the arrays
    assert predict([str(a) for a in ["--baseline", "neighbours", encoded / "te.npz", "-o", encoded / "b.tsv"]]) == 0
    b = read_tsv(encoded / "b.tsv")["prediction"].astype(float)
    w = np.where(te.context_dist != 0, 1.0 / (1 + np.abs(te.context_dist)), 0)
    want = (w * np.nan_to_num(te.context_level)).sum(1) / w.sum(1)
    np.testing.assert_allclose(b, want, atol=2e-6)
    capsys.readouterr()
    # a context model on a dataset without context: refused, naming the arrays and the fix
    assert predict([str(a) for a in ["-m", model, encoded / "plain.npz", "-o", encoded / "x.tsv"]]) == 1
    err = capsys.readouterr().err
    assert "context_level" in err and "--context 3" in err and "Traceback" not in err
    assert train([str(a) for a in [encoded / "plain.npz", "--arch", "context-only", "-o", encoded / "y.keras"]]) == 1
    assert "--context" in capsys.readouterr().err


@pytest.mark.slow  # 15 s; context-only training and prediction stay in the fast tier
def test_train_mrcnn_context_one_epoch(encoded):
    pytest.importorskip("tensorflow")

    model = encoded / "mc.keras"
    assert train([str(a) for a in [encoded / "tr.npz", "--arch", "mrcnn-context", "--epochs", "1", "-o", model]]) == 0
    assert predict([str(a) for a in ["-m", model, encoded / "te.npz", "-o", encoded / "mc.tsv"]]) == 0
    pred = read_tsv(encoded / "mc.tsv")["prediction"].astype(float)
    assert len(pred) == len(load_dataset(str(encoded / "te.npz"))) and ((pred >= 0) & (pred <= 1)).all()


def test_sites_only_context_needs_no_genome_where_no_sequence_is_read(encoded, capsys):
    """context-only and the neighbour average read the neighbours, never the windows: a sites-only dataset
    (--no-windows) trains and predicts without --genome, with the same predictions as with it; MRCNN-context
    still asks for the genome."""
    pytest.importorskip("tensorflow")

    td = TEST_DATA
    base = [
        "--genome",
        encoded / "g.fa",
        "--calls",
        td / "IMR90_r1_chr22_20-21M_GRCh37.bismark.cov",
        "--flank",
        "50",
        "--context",
        "3",
        "--no-windows",
    ]
    for name, region in (("str", "chr22:20000001-20300000"), ("ste", "chr22:20700001-21000000")):
        assert encode([str(a) for a in base + ["--region", region, "-o", encoded / f"{name}.npz"]]) == 0
    assert not load_dataset(str(encoded / "ste.npz")).has_windows
    model = encoded / "s.keras"
    assert train([str(a) for a in [encoded / "str.npz", "--arch", "context-only", "--epochs", "1", "-o", model]]) == 0
    for args, out in ((["-m", model], "s"), (["--baseline", "neighbours"], "sb")):
        assert predict([str(a) for a in [*args, encoded / "ste.npz", "-o", encoded / f"{out}.tsv"]]) == 0
        assert (
            predict(
                [
                    str(a)
                    for a in [*args, encoded / "ste.npz", "--genome", encoded / "g.fa", "-o", encoded / f"{out}_g.tsv"]
                ]
            )
            == 0
        )
        assert (encoded / f"{out}.tsv").read_text() == (encoded / f"{out}_g.tsv").read_text()
    capsys.readouterr()
    assert (
        train(
            [
                str(a)
                for a in [encoded / "str.npz", "--arch", "mrcnn-context", "--epochs", "1", "-o", encoded / "smc.keras"]
            ]
        )
        == 1
    )
    assert "--genome" in capsys.readouterr().err
