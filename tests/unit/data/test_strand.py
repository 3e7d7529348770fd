"""Strand symmetry (--rc-augment): reverse complements by hand, the augmented batches, the metadata and the
averaged prediction of a model trained so."""

import numpy as np
import pytest

from mrcnn_tools.cli.train import main as train
from mrcnn_tools.data.dataset import Dataset
from mrcnn_tools.data.strand import reverse_complement, with_reverse_complements
from mrcnn_tools.encoding import decode, encode_bytes
from mrcnn_tools.models.files import load_model, read_model_meta
from mrcnn_tools.prediction.predict import Predictor


def test_reverse_complement_by_hand():
    # ACGTTN read backwards on the other strand: N A A C G T
    assert decode(reverse_complement(encode_bytes("ACGTTN")[None])[0]) == "NAACGT"
    x = encode_bytes("GATTACA")[None]
    assert np.array_equal(reverse_complement(reverse_complement(x)), x)


def test_augmented_batches_follow_each_batch_with_its_reverse_complement():
    tf = pytest.importorskip("tensorflow")

    x = np.stack([encode_bytes("ACGTAC"), encode_bytes("TTTGGN")])
    ds = with_reverse_complements(tf.data.Dataset.from_tensors((x, np.array([0.1, 0.9], np.float32))))
    xb, yb = next(iter(ds))
    assert [decode(r) for r in xb.numpy()] == ["ACGTAC", "TTTGGN", "GTACGT", "NCCAAA"]
    assert yb.numpy().tolist() == pytest.approx([0.1, 0.9, 0.1, 0.9])


def test_rc_augment_is_recorded_and_prediction_averages_both_strands(tmp_path):
    pytest.importorskip("tensorflow")

    rng = np.random.default_rng(0)
    n = 128
    seq = rng.integers(0, 4, (n, 400)).astype(np.uint8)
    Dataset(
        seq=seq,
        y=(0.3 + 0.2 * rng.random(n)).astype(np.float32),
        coverage=np.full(n, 9, np.int32),
        chrom=np.full(n, "c"),
        pos=np.arange(n, dtype=np.int64) * 20000,
        strand=np.full(n, "."),
        cgi=np.full(n, -1, np.int8),
        meta={"flank": 200, "encoding": "TCGA-N4", "genome": "synthetic"},
    ).save(str(tmp_path / "d.npz"))
    out = tmp_path / "m.keras"
    assert (
        train(
            [
                "-q",
                str(tmp_path / "d.npz"),
                "--arch",
                "simple-cnn",
                "--filters",
                "4",
                "--dense-units",
                "8",
                "--epochs",
                "10",
                "--batch-size",
                "32",
                "--learning-rate",
                "0.01",
                "--patience",
                "0",
                "--rc-augment",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert read_model_meta(str(out))["rc_augment"] is True
    model, meta = load_model(str(out))
    # the averaged prediction is the mean of the plain model on both orientations, computed here independently
    plain = Predictor(model, {**meta, "rc_augment": False}).predict
    expect = np.clip(
        0.5
        * (
            model(seq[:8], training=False).numpy().ravel()
            + model(reverse_complement(seq[:8]), training=False).numpy().ravel()
        ),
        0,
        1,
    )
    got = Predictor(model, meta).predict(seq[:8])
    assert np.allclose(got, expect, atol=1e-5)
    # strand-symmetric: a window and its reverse complement get the same prediction
    assert np.allclose(got, Predictor(model, meta).predict(reverse_complement(seq[:8])), atol=1e-5)
    assert 0 < got.min() and got.max() < 1  # not clipped: the comparisons above mean something
    assert not np.allclose(plain(seq[:8]), plain(reverse_complement(seq[:8])), atol=1e-5)
    rc = train(["-q", str(tmp_path / "d.npz"), "--arch", "kmer-gbr", "--rc-augment", "-o", str(tmp_path / "g.skops")])
    assert rc == 2
