"""mrcnn-predict and mrcnn-eval on a dataset of several samples (the bundled cohort: 5 tissues, no sequence): the
long TSV, --impute-missing, one bedGraph and bigWig per sample in --out-dir, the baselines, and the refusals."""

import math

import numpy as np
import pandas as pd
import pybigtools
import pytest
from cohort_data import tiny_samples_model
from helpers import bundled, run_main

from mrcnn_tools.cli.encode import main as encode
from mrcnn_tools.cli.evaluate import main as evaluate
from mrcnn_tools.cli.predict import main as predict
from mrcnn_tools.data.dataset import load_dataset
from mrcnn_tools.prediction.samples import neighbours_per_sample, samples_average

HEADER = "#chrom\tstart\tend\tstrand\tsample\tprediction\ty_true\tcoverage"


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """The bundled cohort encoded as the acceptance check does (no --genome), once for this module."""
    tmp = tmp_path_factory.mktemp("cohort")
    calls = sorted(bundled("cohort").glob("*.cov.gz"))
    argv = [a for f in calls for a in ("--calls", f)]
    rc = encode(
        [str(a) for a in [*argv, "--context", "5", "--no-windows", "--min-coverage", "5", "-q"]]
        + ["-o", str(tmp / "co.npz")]
    )
    assert rc == 0
    return tmp / "co.npz", load_dataset(str(tmp / "co.npz"))


def _read(path):
    return pd.read_csv(path, sep="\t", dtype={"sample": str, "#chrom": str}, keep_default_na=False, na_values=["NA"])


def _naive(data, pred, impute):
    """(chrom, start, sample, prediction, y_true, coverage) of every written entry, by a plain loop."""
    rows = []
    for i in range(len(data)):
        for s, name in enumerate(data.sample_names):
            seen = not math.isnan(data.y[i, s])
            if seen or impute:
                p = round(float(pred[i, s]), 6) if not math.isnan(pred[i, s]) else None
                y = round(float(data.y[i, s]), 6) if seen else None
                rows.append((str(data.chrom[i]), int(data.pos[i]), name, p, y, int(data.coverage[i, s]) if seen else 0))
    return rows


def _rows(df):
    def num(v):
        return None if isinstance(v, float) and math.isnan(v) else v

    return [
        (str(c), int(s), str(n), num(float(p)), num(float(y)), int(v))
        for c, s, n, p, y, v in zip(df["#chrom"], df.start, df["sample"], df.prediction, df.y_true, df.coverage)
    ]


@pytest.mark.parametrize("baseline", ["samples", "neighbours"])
@pytest.mark.parametrize("impute", [False, True])
def test_long_tsv_of_the_baselines_against_a_naive_loop(cohort, tmp_path, capsys, baseline, impute):
    npz, data = cohort
    out = tmp_path / "p.tsv"
    rc, err = run_main(
        predict, [npz, "--baseline", baseline, "-o", out, "-q"] + (["--impute-missing"] if impute else []), capsys
    )
    assert rc == 0, err
    assert out.read_text().splitlines()[0] == HEADER
    if baseline == "samples":
        pred = samples_average(data.y)
    else:
        pred = neighbours_per_sample(data.context_level, data.context_dist)
    got = _rows(_read(out))
    assert got == _naive(data, pred, impute)
    assert len(got) == (data.y.size if impute else int(np.isfinite(data.y).sum()))


def test_bedgraph_and_bigwig_per_sample_into_a_new_out_dir(cohort, tmp_path, capsys):
    npz, data = cohort
    out_dir = tmp_path / "tracks" / "cohort"  # created with its parents
    rc, err = run_main(
        predict, [npz, "--baseline", "samples", "-o", tmp_path / "p.tsv", "--out-dir", out_dir, "-q"], capsys
    )
    assert rc == 0, err
    table = _read(tmp_path / "p.tsv").dropna(subset=["prediction"])
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        f"{n}.{ext}" for n in data.sample_names for ext in ("bedGraph", "bw")
    )
    for name in data.sample_names:
        mine = table[table["sample"] == name].sort_values("start")
        lines = [ln.split("\t") for ln in (out_dir / f"{name}.bedGraph").read_text().splitlines()]
        assert [ln[:3] for ln in lines] == [[c, str(s), str(s + 1)] for c, s in zip(mine["#chrom"], mine.start)]
        assert [float(ln[3]) for ln in lines] == mine.prediction.tolist()
        with pybigtools.open(str(out_dir / f"{name}.bw")) as bw:
            got = [(s, v) for c in bw.chroms() for s, _, v in bw.records(c)]
        np.testing.assert_allclose([v for _, v in got], mine.prediction.to_numpy(), atol=1e-6)
        assert [s for s, _ in got] == mine.start.tolist()
    # --output-format bedgraph with --out-dir: the tracks only, no long table on stdout
    rc, err = run_main(
        predict,
        [npz, "--baseline", "samples", "--output-format", "bedgraph", "--out-dir", tmp_path / "bg", "-q"],
        capsys,
    )
    assert rc == 0 and len(list((tmp_path / "bg").iterdir())) == 2 * data.n_samples


@pytest.mark.slow  # ~1 s: evaluate_files on the long table is checked fast in tests/unit/evaluation/test_samples.py
def test_eval_reads_the_long_tsv_pooled_and_per_sample(cohort, tmp_path, capsys):
    npz, data = cohort
    for b in ("samples", "neighbours"):
        assert run_main(predict, [npz, "--baseline", b, "-o", tmp_path / f"{b}.tsv", "-q"], capsys)[0] == 0
    rc, err = run_main(
        evaluate,
        [tmp_path / "samples.tsv", tmp_path / "neighbours.tsv", "--out-dir", tmp_path / "ev", "--no-plots"],
        capsys,
    )
    assert rc == 0, err
    table = pd.read_csv(tmp_path / "ev" / "metrics.tsv", sep="\t", comment=None, skiprows=1)
    assert list(table.columns[:3]) == ["#model", "sample", "group"]
    alls = table[table.group == "all"]
    assert list(alls["sample"]) == ["pooled", *sorted(data.sample_names)] * 2
    pooled = alls[alls["sample"] == "pooled"]
    per = alls[alls["sample"] != "pooled"]
    assert (pooled.n.to_numpy() == per.groupby("#model", sort=False).n.sum().to_numpy()).all()


@pytest.mark.parametrize(
    "extra, code, words",
    [
        (["--output-format", "bedgraph"], 2, "give --out-dir DIR for one SAMPLE.bedGraph per sample"),
        (["--bigwig", "x.bw"], 2, "give --out-dir DIR for one SAMPLE.bw per sample, not --bigwig"),
    ],
)
def test_one_file_for_several_samples_is_refused(cohort, tmp_path, capsys, monkeypatch, extra, code, words):
    monkeypatch.chdir(tmp_path)
    npz, _ = cohort
    rc, err = run_main(predict, [npz, "--baseline", "samples", "-o", "p.out", *extra], capsys)
    assert rc == code and len(err) == 1 and words in err[0], err
    assert not (tmp_path / "p.out").exists() and not (tmp_path / "x.bw").exists()


def test_refusals_in_one_line(cohort, tmp_path, capsys):
    npz, _ = cohort
    rc, err = run_main(
        predict, [bundled("test_small_context.npz"), "--baseline", "samples", "-o", tmp_path / "p"], capsys
    )
    assert rc == 1 and len(err) == 1 and "--baseline samples needs a dataset of several samples" in err[0], err
    model = tiny_samples_model(tmp_path / "m.keras", ["brain", "lung"], 5)
    rc, err = run_main(predict, [npz, "-m", model, "-o", tmp_path / "p"], capsys)
    assert rc == 1 and len(err) == 1 and "sample(s) T_cells, hepatocytes, placenta unknown to" in err[0], err
    assert not (tmp_path / "p").exists()
