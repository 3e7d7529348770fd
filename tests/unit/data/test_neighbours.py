"""Observed neighbours (mrcnn-encode --context K): checked against a naive per-site computation on hand-made calls."""

import numpy as np
import pytest

from mrcnn_tools.data.dataset import Dataset, load_dataset, load_datasets
from mrcnn_tools.data.encode import encode_file
from mrcnn_tools.data.neighbours import add_context, check_context, chromosome_context, neighbour_average
from mrcnn_tools.data.options import EncodeOptions
from mrcnn_tools.errors import DatasetError
from mrcnn_tools.genome.fasta import Genome
from mrcnn_tools.genome.regions import IntervalSet, parse_region
from mrcnn_tools.models.context import build_context_model, context_layers, context_meta
from mrcnn_tools.models.context_inputs import context_tf_dataset
from mrcnn_tools.models.files import load_model, save_keras_model
from mrcnn_tools.prediction.predictors import ContextPredictor

try:
    from mrcnn_tools.genome.regions import Selection
except ImportError:  # before the selection moved to regions.py
    from mrcnn_tools.genome.regions import Selection

# CpGs (0-based C) of two hand-made chromosomes; every other base is A or T, so these are the only CpGs.
# 20 and 22 are a CGCG: the G of CpG 20 (21) sits one base from the C of CpG 22.
CPGS = {"chrA": [3, 10, 20, 22, 50, 80, 120, 200, 260, 296], "chrB": [5, 30, 290]}
LENGTH = {"chrA": 300, "chrB": 300}
# (chrom, 0-based position, strand, count_m, count_u): a G call is the '-' strand of the CpG at pos - 1
ROWS = [
    ("chrA", 3, "+", 4, 2),
    ("chrA", 4, "-", 1, 0),  # merged: 5/7
    ("chrA", 10, "+", 2, 1),  # 3 reads: below --min-coverage 5, never seen
    ("chrA", 20, "+", 3, 3),
    ("chrA", 21, "-", 6, 0),  # CGCG: the G of 20 ...
    ("chrA", 22, "+", 7, 12),  # ... and the C of 22 (planted: 7/19)
    ("chrA", 50, "+", 5, 5),
    ("chrA", 50, "+", 1, 1),  # a duplicated call: summed, 6/12
    ("chrA", 81, "-", 0, 9),  # only the G
    ("chrA", 120, "+", 8, 0),
    ("chrA", 121, "-", 1, 1),
    ("chrA", 200, "+", 2, 8),
    ("chrA", 296, "+", 9, 1),  # 2 bases from the chromosome end
    ("chrB", 5, "+", 10, 0),
    ("chrB", 30, "+", 0, 10),
    ("chrB", 291, "-", 3, 3),
]
PLANTED = 7 / 19


def make_genome(path):
    rng = np.random.default_rng(7)
    with open(path, "w") as fh:
        for chrom, cpgs in CPGS.items():
            seq = np.array(list(rng.choice(list("AT"), LENGTH[chrom])))
            for p in cpgs:
                seq[p], seq[p + 1] = "C", "G"
            fh.write(f">{chrom}\n{''.join(seq)}\n")
    return Genome(str(path))


def write_cov(path, strip_chr=False):
    """Bismark .cov: chrom, start, end (1-based), percent, count_m, count_u (chromosomes as A, B: *strip_chr*)."""
    with open(path, "w") as fh:
        for c, p, _, m, u in ROWS:
            fh.write(f"{c[3:] if strip_chr else c}\t{p + 1}\t{p + 1}\t{100 * m / (m + u):.4f}\t{m}\t{u}\n")
    return str(path)


def encode(genome, path, fmt, **options):
    """The calls at *path* (format *fmt*) encoded with these options, the others the defaults."""
    return encode_file(genome, path, EncodeOptions(calls_format=fmt, **options))


def write_report(path):
    """Bismark CpG report: chrom, pos (1-based), strand, count_m, count_u, context, trinucleotide."""
    with open(path, "w") as fh:
        for c, p, s, m, u in ROWS:
            fh.write(f"{c}\t{p + 1}\t{s}\t{m}\t{u}\tCG\tCGA\n")
    return str(path)


def naive_observed(keep_strands, min_coverage=5):
    """{(chrom, pos, strand): (level, coverage)} summed by hand: per strand, or per CpG on its C."""
    sums = {}
    for c, p, s, m, u in ROWS:
        key = (c, p, s) if keep_strands else (c, p - (s == "-"), ".")
        a, b = sums.get(key, (0, 0))
        sums[key] = (a + m, b + u)
    return {k: (m / (m + u), m + u) for k, (m, u) in sums.items() if m + u >= min_coverage}


def naive_context(observed, chrom, pos, strand, k):
    """The K nearest other observed CpGs on each side, by a loop over every observed site."""
    cpg = pos - (strand == "-")
    left, right = [], []
    for (c, p, s), (level, cov) in observed.items():
        if c != chrom or p - (s == "-") == cpg:
            continue
        (left if p < pos else right).append((abs(p - pos), p - pos, level, cov))
    left, right = sorted(left)[:k], sorted(right)[:k]
    missing = (0, np.nan, 0)
    row = [missing] * (k - len(left)) + [t[1:] for t in reversed(left)] + [t[1:] for t in right]
    row += [missing] * (k - len(right))
    return np.array([r[0] for r in row]), np.array([r[1] for r in row]), np.array([r[2] for r in row])


def check_against_naive(data, observed, k):
    assert len(data) == len(observed)
    for i in range(len(data)):
        dist, level, cov = naive_context(observed, str(data.chrom[i]), int(data.pos[i]), str(data.strand[i]), k)
        np.testing.assert_array_equal(data.context_dist[i], dist, err_msg=f"site {data.pos[i]}")
        np.testing.assert_allclose(data.context_level[i], level, rtol=1e-6, equal_nan=True)
        np.testing.assert_array_equal(data.context_coverage[i], cov)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_merged_strands_equal_naive(tmp_path, k):
    genome = make_genome(tmp_path / "g.fa")
    data, summary = encode(genome, write_cov(tmp_path / "c.cov"), "bismark-cov", context=k, flank=5)
    observed = naive_observed(keep_strands=False)
    assert sorted(zip(data.chrom, data.pos)) == sorted((c, p) for c, p, _ in observed)
    check_against_naive(data, observed, k)
    assert data.context_level.dtype == np.float32 and data.context_dist.dtype == np.int32
    assert data.context_level.shape == (len(data), 2 * k) and data.meta["context"] == k


def test_keep_strands_equal_naive(tmp_path):
    genome = make_genome(tmp_path / "g.fa")
    path = write_report(tmp_path / "c.CpG_report.txt")
    data, _ = encode(genome, path, "bismark-cpg-report", context=3, flank=5, keep_strands=True, min_coverage=1)
    observed = naive_observed(keep_strands=True, min_coverage=1)
    check_against_naive(data, observed, 3)
    # the CGCG: C of 22 (+) and the G of 20 (21, -) are one base apart but two CpGs, so neighbours; the G of 22
    # is not observed; 21's own partner (20, +) never appears in its context
    i21 = np.flatnonzero((data.chrom == "chrA") & (data.pos == 21))[0]
    assert -1 not in data.context_dist[i21] and 1 in data.context_dist[i21]
    i20 = np.flatnonzero((data.chrom == "chrA") & (data.pos == 20))[0]
    assert 1 not in data.context_dist[i20]


def test_planted_label_never_in_own_context(tmp_path):
    genome = make_genome(tmp_path / "g.fa")
    data, _ = encode(genome, write_cov(tmp_path / "c.cov"), "bismark-cov", context=4, flank=5)
    own = np.isclose(data.y, PLANTED)
    assert own.sum() == 1
    assert not np.isclose(data.context_level[own], PLANTED).any()
    # ... while its neighbours do see it, so the search above can find it
    assert np.isclose(data.context_level[~own], PLANTED).sum() >= 2


def test_chromosome_ends_and_coverage_filter(tmp_path):
    genome = make_genome(tmp_path / "g.fa")
    data, _ = encode(genome, write_cov(tmp_path / "c.cov"), "bismark-cov", context=2, flank=5)
    first = np.flatnonzero(data.chrom == "chrA")[0]
    assert data.pos[first] == 3
    assert (data.context_dist[first, :2] == 0).all() and np.isnan(data.context_level[first, :2]).all()
    assert (data.context_coverage[first, :2] == 0).all()
    # 10 has 3 reads: neither a site nor anybody's neighbour; 3's right neighbours are 20 and 50 (the CGCG
    # is one CpG per C: 20 and 22)
    assert 10 not in data.pos[data.chrom == "chrA"]
    assert list(data.context_dist[first, 2:]) == [17, 19]
    last = np.flatnonzero(data.chrom == "chrA")[-1]
    assert data.pos[last] == 296 and (data.context_dist[last, 2:] == 0).all()
    # chrB's sites never see chrA's
    b = data.chrom == "chrB"
    assert set(np.abs(data.context_dist[b][data.context_dist[b] != 0])) == {25, 260, 285}


def test_neighbour_average_by_hand():
    level = np.array([[np.nan, 0.2, 1.0, 0.5]], np.float32)
    dist = np.array([[0, -3, 1, 9]], np.int32)
    want = (0.2 / 4 + 1.0 / 2 + 0.5 / 10) / (1 / 4 + 1 / 2 + 1 / 10)
    np.testing.assert_allclose(neighbour_average(level, dist), [want], rtol=1e-6)
    assert np.isnan(neighbour_average(np.full((1, 2), np.nan), np.zeros((1, 2), np.int32)))[0]


def test_random_sites_equal_naive():
    rng = np.random.default_rng(3)
    cpg = np.sort(rng.choice(np.arange(0, 5000, 2), 300, replace=False))
    strand = rng.choice([1, -1], len(cpg))
    pos = cpg + (strand < 0)
    obs = rng.random(len(pos)) < 0.6
    level, cov = rng.random(len(pos)).astype(np.float32), rng.integers(1, 50, len(pos))
    out = chromosome_context(pos[obs], strand[obs], level[obs], cov[obs], pos, strand, 3)
    observed = {
        ("c", int(p), "+" if s > 0 else "-"): (float(v), int(n))
        for p, s, v, n in zip(pos[obs], strand[obs], level[obs], cov[obs])
    }
    for i in range(len(pos)):
        dist, lev, cv = naive_context(observed, "c", int(pos[i]), "+" if strand[i] > 0 else "-", 3)
        np.testing.assert_array_equal(out["context_dist"][i], dist)
        np.testing.assert_allclose(out["context_level"][i], lev, equal_nan=True)
        np.testing.assert_array_equal(out["context_coverage"][i], cv)


def test_all_cpgs_labelled_where_observed(tmp_path):
    genome = make_genome(tmp_path / "g.fa")
    data, _ = encode(genome, write_cov(tmp_path / "c.cov"), "bismark-cov", context=2, flank=5, all_cpgs=True)
    observed = naive_observed(keep_strands=False)
    assert sorted(zip(data.chrom, data.pos)) == sorted((c, p) for c, ps in CPGS.items() for p in ps)
    for i in range(len(data)):
        key = (str(data.chrom[i]), int(data.pos[i]), ".")
        if key in observed:
            assert data.y[i] == pytest.approx(observed[key][0]) and data.coverage[i] == observed[key][1]
        else:
            assert np.isnan(data.y[i])
    # an unobserved CpG (10) still gets its observed neighbours: 3 on the left, 20 and 22 on the right
    i10 = np.flatnonzero((data.chrom == "chrA") & (data.pos == 10))[0]
    assert list(data.context_dist[i10]) == [0, -7, 10, 12]
    # calls named A, B on a genome of chrA, chrB: the same neighbours
    other, _ = encode(
        make_genome(tmp_path / "g2.fa"),
        write_cov(tmp_path / "c2.cov", strip_chr=True),
        "bismark-cov",
        context=2,
        flank=5,
        all_cpgs=True,
    )
    np.testing.assert_array_equal(other.context_dist, data.context_dist)


def test_region_selects_targets_and_neighbours(tmp_path):

    genome = make_genome(tmp_path / "g.fa")
    sel = Selection(regions=IntervalSet([parse_region("chrA:1-100")]))
    data, _ = encode(genome, write_cov(tmp_path / "c.cov"), "bismark-cov", context=2, flank=5, selection=sel)
    assert list(data.pos) == [3, 20, 22, 50, 80]
    assert (data.context_dist[-1, 2:] == 0).all()  # 120 lies outside the region


def test_dataset_round_trip_and_refusals(tmp_path):
    genome = make_genome(tmp_path / "g.fa")
    data, _ = encode(genome, write_cov(tmp_path / "c.cov"), "bismark-cov", context=2, flank=5)
    data.save(str(tmp_path / "d.npz"))
    back = load_dataset(str(tmp_path / "d.npz"))
    assert back.context_k == 2 and back.meta["context"] == 2
    for key in ("context_level", "context_dist", "context_coverage"):
        np.testing.assert_array_equal(getattr(back, key), getattr(data, key))
    sub = back.rows(np.array([1, 3]))
    np.testing.assert_array_equal(sub.context()["context_dist"], data.context_dist[[1, 3]])
    np.testing.assert_array_equal(back.subset([0, 2]).context_level, data.context_level[[0, 2]])
    check_context(back, 2)
    with pytest.raises(DatasetError, match="--context 3"):
        check_context(back, 3)
    with pytest.raises(DatasetError, match="context_level, context_dist, context_coverage.*--context 2"):
        check_context(Dataset.empty(5), 2)
    arrays = dict(np.load(str(tmp_path / "d.npz")))
    del arrays["context_coverage"]
    np.savez(str(tmp_path / "broken.npz"), **arrays)
    with pytest.raises(DatasetError, match="context_coverage are missing"):
        load_dataset(str(tmp_path / "broken.npz"))


def test_add_context_ignores_unlabelled_observations():
    def ds(pos, y):
        n = len(pos)
        return Dataset(
            seq=np.empty((n, 0), np.uint8),
            y=np.array(y, np.float32),
            coverage=np.full(n, 9, np.int32),
            chrom=np.array(["c"] * n),
            pos=np.array(pos, np.int64),
            strand=np.array(["."] * n),
            cgi=np.full(n, -1, np.int8),
        )

    targets = add_context(ds([10, 20, 30], [0.1, np.nan, 0.3]), ds([30, 10, 20], [0.3, 0.1, np.nan]), 1)
    np.testing.assert_array_equal(targets.context_dist, [[0, 20], [-10, 10], [-20, 0]])
    np.testing.assert_allclose(targets.context_level, [[np.nan, 0.3], [0.1, 0.3], [0.1, np.nan]])


# --- models (TensorFlow) ---------------------------------------------------------------------------------------


def synthetic(n=300, k=3, seed=0):
    """A Dataset of random windows and contexts (some neighbours missing) with labels."""
    rng = np.random.default_rng(seed)
    dist = rng.integers(1, 400, (n, 2 * k)).astype(np.int32) * np.r_[[-1] * k, [1] * k]
    dist[rng.random((n, 2 * k)) < 0.2] = 0
    level = np.where(dist != 0, rng.random((n, 2 * k)), np.nan).astype(np.float32)
    return Dataset(
        seq=rng.integers(0, 4, (n, 100), dtype=np.uint8),
        y=rng.random(n).astype(np.float32),
        coverage=np.full(n, 9, np.int32),
        chrom=np.array(["c"] * n),
        pos=np.arange(n, dtype=np.int64) * 50,
        strand=np.array(["."] * n),
        cgi=np.full(n, -1, np.int8),
        meta={"flank": 50},
        context_level=level,
        context_dist=dist,
        context_coverage=np.where(dist != 0, rng.integers(1, 60, dist.shape), 0),
    )


@pytest.mark.parametrize("arch", ["context-only", "mrcnn-context"])
def test_untrained_model_is_the_neighbour_average_and_survives_saving(tmp_path, arch):
    pytest.importorskip("tensorflow")

    data = synthetic()
    data.context_dist[0] = 0  # no neighbour at all: the average is 0, the baseline NaN
    model = build_context_model(arch, 100, 3, context_dropout=0.5, seed=1)
    meta = {"arch": arch, "flank": 50, "context": context_meta(3, 0.5)}
    pred = ContextPredictor(model, meta).predict(data)
    w = np.where(data.context_dist != 0, 1 / (1 + np.abs(data.context_dist.astype(float))), 0)
    want = (w * np.nan_to_num(data.context_level)).sum(1) / np.maximum(w.sum(1), 1e-12)
    np.testing.assert_allclose(pred, want, atol=1e-6)
    assert pred[0] == 0 and np.isnan(ContextPredictor(None, {"arch": "neighbours"}).predict(data)[0])
    # one row alone and the same row among others: the same bits (one fixed shape)
    np.testing.assert_array_equal(ContextPredictor(model, meta).predict(data, [7]), pred[[7]])
    path = str(tmp_path / "m.keras")
    save_keras_model(model, path, meta)
    loaded, back = load_model(path)
    assert back["context"]["k"] == 3
    np.testing.assert_array_equal(ContextPredictor(loaded, back).predict(data), pred)


def test_neighbour_dropout_in_training_only():
    pytest.importorskip("tensorflow")

    layer = context_layers()["NeighbourDropout"](0.5, seed=3)
    dist = np.arange(1, 20001, dtype=np.int32).reshape(100, 200)
    np.testing.assert_array_equal(np.asarray(layer(dist, training=False)), dist)
    out = np.asarray(layer(dist, training=True))
    hidden = out == 0
    assert 0.45 < hidden.mean() < 0.55
    np.testing.assert_array_equal(out[~hidden], dist[~hidden])  # hidden, never altered


def test_pipeline_batches_are_the_rows():
    pytest.importorskip("tensorflow")

    data = synthetic(n=50)
    view = data.rows(np.arange(10, 50, 2))
    x, y = next(iter(context_tf_dataset(view, 8, with_codes=True)))
    rows = np.arange(10, 26, 2)
    np.testing.assert_array_equal(y.numpy(), data.y[rows])
    np.testing.assert_array_equal(x["codes"].numpy(), data.seq[rows])
    np.testing.assert_array_equal(x["context_dist"].numpy(), data.context_dist[rows])
    np.testing.assert_array_equal(x["context_level"].numpy(), np.nan_to_num(data.context_level[rows]))
    shuffled = [t.numpy() for _, t in context_tf_dataset(view, 8, shuffle=True, seed=2).take(3)]
    assert sorted(np.concatenate(shuffled).tolist()) == sorted(view.y.tolist())


def test_shards_keep_the_context(tmp_path):

    data, _ = encode(make_genome(tmp_path / "g.fa"), write_cov(tmp_path / "c.cov"), "bismark-cov", context=2, flank=5)
    paths = data.save_shards(str(tmp_path / "s"), 4)
    back = load_datasets(paths)
    assert len(paths) == 3
    np.testing.assert_array_equal(back.context_dist, data.context_dist)
    np.testing.assert_array_equal(back.context_level, data.context_level)
    plain = data.subset(slice(0, 3))
    plain.context_level = plain.context_dist = plain.context_coverage = None  # the same sites, no context
    plain.save(str(tmp_path / "plain.npz"))
    with pytest.raises(DatasetError, match="same --context"):
        load_datasets([paths[0], str(tmp_path / "plain.npz")])
