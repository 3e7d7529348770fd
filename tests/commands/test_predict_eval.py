"""mrcnn-predict and mrcnn-eval: NPZ vs genome mode, shards, batch size, metrics against sklearn/scipy, errors."""

import gzip
import json
import math
import runpy
import shutil

import numpy as np
import pybigtools
import pytest
from helpers import TEST_DATA, bundled, run_main

from mrcnn_tools.cli.encode import main as encode
from mrcnn_tools.cli.evaluate import main as evaluate
from mrcnn_tools.cli.predict import main as predict
from mrcnn_tools.data.dataset import load_dataset
from mrcnn_tools.encoding import extract_windows
from mrcnn_tools.genome.fasta import Genome
from mrcnn_tools.genome.regions import IntervalSet, parse_region
from mrcnn_tools.models.files import load_model
from mrcnn_tools.prediction.predict import genome_chunks
from mrcnn_tools.prediction.predictors import PREDICT_ROWS, Predictor

GENOME = TEST_DATA / "22_20-21M.fa"
CALLS = TEST_DATA / "IMR90_r1_chr22_20-21M_GRCh37.bismark.cov"
CGI = TEST_DATA / "cpgIslands_hg19_chr22_20-21M.bed"
REGION = "chr22:20610001-20700000"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The bundled models (trained on the sites of chr22:20,000,001-20,200,000, test-data/README.md) beside test
    sites of REGION with CpG-island flags: what predict and eval need is a model, not a new training run."""
    d = tmp_path_factory.mktemp("pe")
    shutil.copy(bundled("model_small.keras"), d / "m.keras")
    shutil.copy(bundled("model_small_gbr.skops"), d / "g.skops")
    assert (
        encode(
            [
                "-q",
                "--genome",
                str(GENOME),
                "--calls",
                str(CALLS),
                "--cgi",
                str(CGI),
                "--region",
                REGION,
                "--max-n-fraction",
                "1",
                "-o",
                str(d / "te.npz"),
            ]
        )
        == 0
    )
    return d


def rows(path):
    lines = [ln.rstrip("\n").split("\t") for ln in open(path) if ln.strip() and not ln.startswith("##")]
    head = [h.lstrip("#") for h in lines[0]]
    return [dict(zip(head, r)) for r in lines[1:]]


def test_npz_and_genome_mode_agree_and_shards_concatenate(trained, tmp_path, capsys):
    d = trained
    rc, err = run_main(predict, ["-m", d / "m.keras", d / "te.npz", "-o", tmp_path / "npz.tsv"], capsys)
    assert rc == 0, err
    rc, err = run_main(
        predict,
        ["-m", d / "m.keras", "--genome", GENOME, "--region", REGION, "--chunk-size", 500, "-o", tmp_path / "g.tsv"],
        capsys,
    )
    assert rc == 0, err
    a = {(r["chrom"].removeprefix("chr"), int(r["start"])): r["prediction"] for r in rows(tmp_path / "npz.tsv")}
    g = {(r["chrom"].removeprefix("chr"), int(r["start"])): r["prediction"] for r in rows(tmp_path / "g.tsv")}
    assert set(a) <= set(g)
    assert all(a[k] == g[k] for k in a)
    full = (tmp_path / "g.tsv").read_text().splitlines()
    parts = []
    for i in (1, 2, 3, 4):
        rc, _ = run_main(
            predict,
            [
                "-m",
                d / "m.keras",
                "--genome",
                GENOME,
                "--region",
                REGION,
                "--shard",
                f"{i}/4",
                "--batch-size",
                33,
                "-o",
                tmp_path / f"s{i}.tsv",
            ],
            capsys,
        )
        assert rc == 0
        parts += [ln for ln in (tmp_path / f"s{i}.tsv").read_text().splitlines() if not ln.startswith("#")]
    assert parts == [ln for ln in full if not ln.startswith("#")]


def test_every_architecture_predicts_and_bedgraph_bigwig(trained, tmp_path, capsys):

    d = trained
    rc, err = run_main(
        predict,
        [
            "-m",
            d / "g.skops",
            d / "te.npz",
            "--output-format",
            "bedgraph",
            "-o",
            tmp_path / "p.bedGraph.gz",
            "--bigwig",
            tmp_path / "p.bw",
        ],
        capsys,
    )
    assert rc == 0, err

    lines = gzip.open(tmp_path / "p.bedGraph.gz", "rt").read().splitlines()
    assert len(lines[0].split("\t")) == 4 and not lines[0].startswith("#")
    bw = pybigtools.open(str(tmp_path / "p.bw"))
    recs = list(bw.records("22"))  # the genome's name (the FASTA says 22, the calls chr22): docs/FORMATS.md §3
    assert len(recs) == len(lines)
    c, s, e, v = lines[0].split("\t")
    assert (recs[0][0], recs[0][1]) == (int(s), int(e)) and recs[0][2] == pytest.approx(float(v), abs=1e-6)


def test_predict_refuses_mismatched_flank_and_bad_model(trained, tmp_path, capsys):
    d = trained
    assert (
        encode(
            [
                "-q",
                "--genome",
                str(GENOME),
                "--calls",
                str(CALLS),
                "--region",
                REGION,
                "--flank",
                "50",
                "-o",
                str(tmp_path / "f50.npz"),
            ]
        )
        == 0
    )
    rc, err = run_main(predict, ["-m", d / "m.keras", tmp_path / "f50.npz", "-o", tmp_path / "x.tsv"], capsys)
    assert rc == 1 and "flank 200" in err[-1] and "flank 50" in err[-1] and not (tmp_path / "x.tsv").exists()
    junk = tmp_path / "junk.keras"
    junk.write_text("not a model")
    rc, err = run_main(predict, ["-m", junk, d / "te.npz", "-o", tmp_path / "x.tsv"], capsys)
    assert rc == 1 and "not a model file" in err[-1] and not (tmp_path / "x.tsv").exists()
    rc, err = run_main(
        predict, ["-m", d / "m.keras", "--genome", GENOME, "--region", "chr22:1-1000", "-o", tmp_path / "x.tsv"], capsys
    )
    assert rc == 1 and "no CpG" in err[-1] and not (tmp_path / "x.tsv").exists()


def _write_pred(path, y, p, cgi=None):
    with open(path, "w") as fh:
        fh.write(
            "#chrom\tstart\tend\tstrand\tprediction\ty_true\tcoverage" + ("\tcgi" if cgi is not None else "") + "\n"
        )
        for i, (a, b) in enumerate(zip(y, p)):
            fh.write(
                f"chr1\t{10 * i}\t{10 * i + 1}\t.\t{b}\t{a}\t10" + (f"\t{cgi[i]}" if cgi is not None else "") + "\n"
            )


def _metrics(out):
    return {(r["model"], r["group"]): r for r in rows(out / "metrics.tsv")}


def test_metrics_equal_sklearn_scipy(tmp_path, capsys):
    from scipy import stats
    from sklearn.metrics import (
        average_precision_score,
        matthews_corrcoef,
        mean_absolute_error,
        mean_squared_error,
        r2_score,
        roc_auc_score,
    )

    rng = np.random.default_rng(0)
    y = np.round(rng.random(200), 3)
    p = np.round(np.clip(y + rng.normal(0, 0.2, 200), 0, 1), 3)
    p[:10] = 0.5  # ties
    cgi = (rng.random(200) < 0.3).astype(int)
    _write_pred(tmp_path / "p.tsv", y, p, cgi)
    rc, err = run_main(evaluate, [tmp_path / "p.tsv", "--labels", "m", "--out-dir", tmp_path / "ev"], capsys)
    assert rc == 0, err
    m = _metrics(tmp_path / "ev")
    a = m[("m", "all")]
    assert float(a["rmse"]) == pytest.approx(math.sqrt(mean_squared_error(y, p)), rel=1e-5)
    assert float(a["mae"]) == pytest.approx(mean_absolute_error(y, p), rel=1e-5)
    assert float(a["pearson"]) == pytest.approx(stats.pearsonr(y, p)[0], rel=1e-5)
    assert float(a["spearman"]) == pytest.approx(stats.spearmanr(y, p)[0], rel=1e-5)
    assert float(a["r2"]) == pytest.approx(r2_score(y, p), rel=1e-5)
    assert float(a["auc"]) == pytest.approx(roc_auc_score(y > 0.5, p), rel=1e-5)
    assert float(a["auprc"]) == pytest.approx(average_precision_score(y > 0.5, p), rel=1e-5)
    assert float(a["mcc"]) == pytest.approx(matthews_corrcoef(y > 0.5, p > 0.5), rel=1e-5)
    t, c = y > 0.5, p > 0.5
    assert float(a["sensitivity"]) == pytest.approx((t & c).sum() / t.sum(), rel=1e-5)
    assert float(a["specificity"]) == pytest.approx((~t & ~c).sum() / (~t).sum(), rel=1e-5)
    hyper = y > 0.9
    assert int(m[("m", "hyper")]["n"]) == hyper.sum()
    assert float(m[("m", "hyper")]["rmse"]) == pytest.approx(
        math.sqrt(mean_squared_error(y[hyper], p[hyper])), rel=1e-5
    )
    isl = cgi == 1
    assert float(m[("m", "cgi")]["auc"]) == pytest.approx(roc_auc_score(y[isl] > 0.5, p[isl]), rel=1e-5)
    report = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert report["sites"] == 200
    for png in (
        "error_by_group.png",
        "rmse_mae_by_group.png",
        "classification_cgi.png",
        "roc.png",
        "pred_vs_true.m.png",
        "calibration.png",
    ):
        assert (tmp_path / "ev" / png).stat().st_size > 1000


def test_hand_computed_empty_group_and_single_class(tmp_path, capsys):
    y = [1.0, 0.95, 0.8]  # no hypo, no mid site; one class at 0.5
    p = [0.9, 0.95, 0.6]
    _write_pred(tmp_path / "p.tsv", y, p)
    rc, err = run_main(
        evaluate, [tmp_path / "p.tsv", "--labels", "m", "--out-dir", tmp_path / "ev", "--no-plots"], capsys
    )
    assert rc == 0, err
    assert any("only one class" in e for e in err)
    m = _metrics(tmp_path / "ev")
    assert float(m[("m", "all")]["rmse"]) == pytest.approx(math.sqrt((0.01 + 0 + 0.04) / 3))
    assert float(m[("m", "all")]["mae"]) == pytest.approx(0.1)
    assert m[("m", "hypo")]["n"] == "0" and m[("m", "hypo")]["rmse"] == "NA"
    assert m[("m", "all")]["auc"] == "NA"


def test_side_by_side_on_shared_sites(tmp_path, capsys):
    _write_pred(tmp_path / "a.tsv", [0.0, 1.0, 0.5], [0.1, 0.9, 0.5])
    _write_pred(tmp_path / "b.tsv", [0.0, 1.0], [0.3, 0.6])
    rc, err = run_main(
        evaluate,
        [tmp_path / "a.tsv", tmp_path / "b.tsv", "--labels", "A,B", "--out-dir", tmp_path / "ev", "--no-plots"],
        capsys,
    )
    assert rc == 0, err
    m = _metrics(tmp_path / "ev")
    assert m[("A", "all")]["n"] == m[("B", "all")]["n"] == "2"
    assert float(m[("A", "all")]["mae"]) == pytest.approx(0.1)
    assert float(m[("B", "all")]["mae"]) == pytest.approx(0.35)


@pytest.mark.parametrize(
    "content,word",
    [
        ("#chrom\tstart\tend\tstrand\tprediction\n", "y_true"),
        ("#chrom\tstart\tend\tstrand\tprediction\ty_true\nchr1\t5\t6\t.\tabc\t0.5\n", "'abc' is not a number"),
        ("", "empty"),
    ],
)
def test_eval_bad_input(tmp_path, capsys, content, word):
    bad = tmp_path / "bad.tsv"
    bad.write_text(content)
    rc, err = run_main(evaluate, [bad, "--out-dir", tmp_path / "ev"], capsys)
    assert rc == 1 and word in err[-1] and "bad.tsv" in err[-1]
    assert not (tmp_path / "ev" / "metrics.tsv").exists()


def test_keras_model_always_runs_at_one_shape(trained):
    """Whatever the batch size and the number of rows, every call sees PREDICT_ROWS rows (the last block
    padded), and each row's prediction is the model's output for that row."""

    model, meta = load_model(str(trained / "m.keras"))
    rng = np.random.default_rng(1)
    seq = rng.integers(0, 5, (PREDICT_ROWS + 37, 400)).astype(np.uint8)
    for batch in (1, 37, 1000):
        p = Predictor(model, meta, batch_size=batch)
        shapes = []

        def spy(x):  # stands in for the model: the level of a row is its first code / 4
            shapes.append(tuple(x.shape))
            return type("T", (), {"numpy": lambda self: (np.asarray(x)[:, :1] / 4.0).astype(np.float32)})()

        p._fn = spy
        out = p.predict(seq)
        assert set(shapes) == {(PREDICT_ROWS, 400)} and len(shapes) == 2
        np.testing.assert_array_equal(out, np.clip(seq[:, 0] / 4.0, 0, 1).astype(np.float32))


def test_predictions_bit_identical_however_cut(trained):
    """Batch sizes 1, 37, 1000, chunk sizes 500 and 65536, four shards and NPZ vs genome mode give the same
    float32 bits for every site (no rounding in between)."""

    model, meta = load_model(str(trained / "m.keras"))
    data = load_dataset(str(trained / "te.npz"))
    by_batch = [Predictor(model, meta, batch_size=b).predict(data.seq) for b in (1, 37, 1000)]
    np.testing.assert_array_equal(by_batch[0], by_batch[1])
    np.testing.assert_array_equal(by_batch[0], by_batch[2])
    # one row at a time (every 8th: each call runs a whole padded block of PREDICT_ROWS), then in reverse order:
    # a row's value does not depend on its neighbours
    p = Predictor(model, meta)
    alone = np.concatenate([p.predict(data.seq[i : i + 1]) for i in range(0, len(data), max(1, len(data) // 10))])
    np.testing.assert_array_equal(alone, by_batch[0][:: max(1, len(data) // 10)])
    np.testing.assert_array_equal(p.predict(data.seq[::-1])[::-1], by_batch[0])
    npz = dict(zip(data.pos.tolist(), by_batch[0]))

    genome = Genome(str(GENOME))
    regions = IntervalSet([parse_region(REGION)])

    def genome_mode(chunk_size, shard=None, batch=2048):
        pred = Predictor(model, meta, batch_size=batch)
        out = {}
        for chrom, pos, strand in genome_chunks(genome, regions=regions, chunk_size=chunk_size, shard=shard):
            values = pred.predict(extract_windows(genome.codes(chrom), pos, 200, strand))
            out.update(zip(pos.tolist(), values))
        return out

    g500, g65536 = genome_mode(500, batch=37), genome_mode(65536)
    shards = {}
    for i in (1, 2, 3, 4):
        shards.update(genome_mode(777, shard=(i, 4), batch=1))
    assert g500.keys() == g65536.keys() == shards.keys() and set(npz) <= set(g500)
    for other in (g65536, shards):
        assert all(g500[k].tobytes() == other[k].tobytes() for k in g500)
    assert all(npz[k].tobytes() == g500[k].tobytes() for k in npz)


# --- golden files: mrcnn-eval's tables byte for byte (test-data/golden, provenance in test-data/README.md) ------

GOLDEN = TEST_DATA / "golden"


def test_golden_files_are_what_the_independent_script_computes(tmp_path):
    """make_golden.py computes the tables with scikit-learn/SciPy and the documented groups and bins, without
    mrcnn-tools: the committed files are its output, unedited."""

    runpy.run_path(str(bundled("golden", "make_golden.py")))["main"](str(tmp_path))
    for name in ("metrics.tsv", "calibration.tsv"):
        assert (tmp_path / name).read_bytes() == bundled("golden", name).read_bytes(), name


def test_eval_tables_equal_the_golden_files_byte_for_byte(tmp_path, capsys):
    rc, err = run_main(
        evaluate, [bundled("golden", "predictions.tsv"), "--out-dir", tmp_path / "ev", "--no-plots"], capsys
    )
    assert rc == 0, err
    assert any("skipped 1 sites without a label" in e for e in err), err
    assert any("only one class" in e and "cgi" in e for e in err), err  # the islands are all unmethylated
    for name in ("metrics.tsv", "calibration.tsv"):
        assert (tmp_path / "ev" / name).read_bytes() == (GOLDEN / name).read_bytes(), name
