"""Several samples in one dataset (mrcnn_tools.data.samples, data.cohort): the union of sites, --min-coverage,
--min-samples and each sample's own neighbours, against hand-checked arrays and a naive Python reference."""

import numpy as np
import pytest
from helpers import bundled

from mrcnn_tools.data.encode import encode_dataset
from mrcnn_tools.data.options import EncodeOptions
from mrcnn_tools.data.samples import Sample, default_sample_name, read_sample_sheet, samples_from
from mrcnn_tools.errors import InputFormatError, UsageError

# three samples of Bismark .cov rows (1-based position, methylated, unmethylated) on chrZ, no genome: sample a has
# both strands of the CpG at 101 (101 and 102, taken as given), b one call under the coverage limit (2 reads)
COV = {
    "a": [(101, 3, 1), (102, 0, 4), (130, 5, 0), (180, 1, 3), (260, 2, 2)],
    "b": [(101, 1, 1), (130, 0, 6), (150, 4, 0), (260, 6, 2)],
    "c": [(150, 2, 3), (180, 0, 3), (300, 3, 0)],
}


def _write(tmp_path, cov=COV):
    paths = []
    for name, rows in cov.items():
        path = tmp_path / f"{name}.chrZ.cov"
        path.write_text("".join(f"chrZ\t{p}\t{p}\t{100 * m / (m + u):g}\t{m}\t{u}\n" for p, m, u in rows))
        paths.append(Sample(name, str(path)))
    return paths


def _naive(cov, min_coverage, min_samples, k):
    """The dataset worked out one entry at a time: union of observed positions, levels, coverage and each
    sample's K nearest observed other CpGs a side (a call one base from the site is its CpG's other strand)."""
    seen = {s: {p: (m / (m + u), m + u) for p, m, u in rows if m + u >= min_coverage} for s, rows in cov.items()}
    names = list(cov)
    sites = sorted({p for obs in seen.values() for p in obs})
    sites = [p for p in sites if sum(p in seen[s] for s in names) >= min_samples]
    n, s_ = len(sites), len(names)
    y, c = np.full((n, s_), np.nan), np.zeros((n, s_), int)
    lev, dist, ccov = np.full((n, s_, 2 * k), np.nan), np.zeros((n, s_, 2 * k), int), np.zeros((n, s_, 2 * k), int)
    for i, p in enumerate(sites):
        for t, s in enumerate(names):
            if p in seen[s]:
                y[i, t], c[i, t] = seen[s][p]
            left = [q for q in sorted(seen[s]) if q < p - 1][-k:]
            right = [q for q in sorted(seen[s]) if q > p + 1][:k]
            for j, q in zip(range(k - len(left), k), left):
                lev[i, t, j], dist[i, t, j], ccov[i, t, j] = seen[s][q][0], q - p, seen[s][q][1]
            for j, q in zip(range(k, k + len(right)), right):
                lev[i, t, j], dist[i, t, j], ccov[i, t, j] = seen[s][q][0], q - p, seen[s][q][1]
    return np.array(sites) - 1, y, c, lev, dist, ccov


@pytest.mark.parametrize("min_coverage, min_samples, k", [(3, 1, 2), (1, 2, 1), (4, 3, 2)])
def test_union_and_context_equal_naive(tmp_path, min_coverage, min_samples, k):
    opts = EncodeOptions(windows=False, min_coverage=min_coverage, min_samples=min_samples, context=k)
    data, _ = encode_dataset(None, _write(tmp_path), opts)
    pos, y, c, lev, dist, ccov = _naive(COV, min_coverage, min_samples, k)
    assert list(data.samples) == ["a", "b", "c"] and data.meta["genome"] is None and "genome_checksum" not in data.meta
    assert data.seq.shape == (len(pos), 0) and list(data.strand) == ["."] * len(pos) and set(data.chrom) <= {"chrZ"}
    np.testing.assert_array_equal(data.pos, pos)
    np.testing.assert_allclose(data.y, y, rtol=1e-6)
    np.testing.assert_array_equal(data.coverage, c)
    assert data.y.dtype == np.float32 and data.coverage.dtype == np.int32 and data.context_dist.dtype == np.int32
    np.testing.assert_allclose(data.context_level, lev, rtol=1e-6)
    np.testing.assert_array_equal(data.context_dist, dist)
    np.testing.assert_array_equal(data.context_coverage, ccov)


def test_hand_checked_arrays(tmp_path):
    # min coverage 3: b's 101 (2 reads) is not observed; a's 102 is the other strand of its 101, never a neighbour
    data, summary = encode_dataset(None, _write(tmp_path), EncodeOptions(windows=False, min_coverage=3, context=1))
    assert list(data.pos) == [100, 101, 129, 149, 179, 259, 299]
    nan = np.nan
    np.testing.assert_array_equal(data.coverage[0], [4, 0, 0])
    np.testing.assert_allclose(data.y[:, 0], [0.75, 0.0, 1.0, nan, 0.25, 0.5, nan])
    np.testing.assert_allclose(data.y[3], [nan, 1.0, 0.4])
    # sample a at its site 101 (row 0): left none, right 130 (the 102 call is skipped); at 102 (row 1) the same
    np.testing.assert_array_equal(data.context_dist[0, 0], [0, 29])
    np.testing.assert_array_equal(data.context_dist[1, 0], [0, 28])
    # sample c at 150 (row 3): its own call is skipped: right 180, no left
    np.testing.assert_array_equal(data.context_dist[3, 2], [0, 30])
    np.testing.assert_allclose(data.context_level[3, 2], [nan, 0.0])
    assert summary.dropped["coverage"] == 1 and summary.kept == 7


def test_no_entry_sees_its_own_value(tmp_path):
    data, _ = encode_dataset(None, _write(tmp_path), EncodeOptions(windows=False, min_coverage=1, context=3))
    for t in range(data.n_samples):
        own = data.pos[np.isfinite(data.y[:, t])]
        present = data.context_dist[:, t] != 0
        neighbour_pos = (data.pos[:, None] + data.context_dist[:, t])[present]
        rows = np.repeat(np.arange(len(data)), present.sum(axis=1))
        assert (np.abs(neighbour_pos - data.pos[rows]) > 1).all()  # never the site, nor its CpG's other strand
        assert np.isin(neighbour_pos, own).all()  # only the sample's own observations


def test_each_sample_equals_its_one_sample_encode(td):
    # with a genome: a sample's column of the joined dataset is what encoding its file alone gives, site by site
    genome = str(td / "toy.fa")
    files = {"cov": "toy.bismark.cov", "bm": "toy.bedMethyl"}
    samples = [Sample(n, str(td / f)) for n, f in files.items()]
    opts = EncodeOptions(flank=3, min_coverage=2, context=1)
    joint, _ = encode_dataset(genome, samples, opts)
    assert joint.seq.shape == (len(joint), 6) and joint.meta["genome"] == "toy.fa"
    for t, name in enumerate(files):
        alone, _ = encode_dataset(genome, str(td / files[name]), opts)
        rows = np.searchsorted(joint.pos, alone.pos)
        np.testing.assert_array_equal(joint.pos[rows], alone.pos)
        np.testing.assert_array_equal(joint.seq[rows], alone.seq)
        np.testing.assert_array_equal(joint.y[rows, t], alone.y)
        np.testing.assert_array_equal(joint.coverage[rows, t], alone.coverage)
        np.testing.assert_array_equal(joint.context_dist[rows, t], alone.context_dist)
        np.testing.assert_array_equal(joint.context_level[rows, t], alone.context_level)
        others = np.setdiff1d(np.arange(len(joint)), rows)
        assert np.isnan(joint.y[others, t]).all() and (joint.coverage[others, t] == 0).all()


def test_min_samples_keeps_neighbours_from_every_observation(tmp_path):
    # --min-samples selects the sites; a site it drops is still a neighbour of the others
    data, summary = encode_dataset(None, _write(tmp_path), EncodeOptions(windows=False, min_coverage=1, context=1))
    kept, summary = encode_dataset(
        None, _write(tmp_path), EncodeOptions(windows=False, min_coverage=1, context=1, min_samples=2)
    )
    assert list(kept.pos) == [100, 129, 149, 179, 259] and summary.dropped["min samples"] == 2
    rows = np.searchsorted(data.pos, kept.pos)
    np.testing.assert_array_equal(kept.context_dist, data.context_dist[rows])


def test_one_sample_without_genome_keeps_the_one_sample_layout(tmp_path):
    data, _ = encode_dataset(None, _write(tmp_path)[:1], EncodeOptions(windows=False, min_coverage=1, context=1))
    assert data.samples is None and data.y.shape == (5,) and data.context_dist.shape == (5, 2)
    assert data.context_dist[0].tolist() == [0, 29]  # 102 is 101's other strand


def test_default_names_sheet_and_errors(tmp_path):
    assert default_sample_name("/x/brain.hg38_chr1.cov.gz") == "brain" and default_sample_name("-") == "stdin"
    assert [s.name for s in samples_from(["d/a.cov", "e/b.x.gz"])] == ["a", "b"]
    assert [s.name for s in samples_from(["a.cov", "b.cov"], "x, y")] == ["x", "y"]
    with pytest.raises(UsageError, match="'a' is given twice"):
        samples_from(["d/a.cov", "e/a.cov.gz"])
    with pytest.raises(UsageError, match="2 names for 3 --calls"):
        samples_from(["a", "b", "c"], "x,y")
    (tmp_path / "sub").mkdir()
    sheet = tmp_path / "sub" / "sheet.tsv"
    for name in ("sub/l.cov", "g.bed", "x.cov", "y.cov", "z.cov"):
        (tmp_path / name).write_text("")
    sheet.write_text(f"sample\tpath\tformat\n# comment\n\nliver\tl.cov\tbismark-cov\nlung\t{tmp_path / 'g.bed'}\n")
    got = read_sample_sheet(str(sheet), "bedmethyl")
    assert got == [
        Sample("liver", str(tmp_path / "sub" / "l.cov"), "bismark-cov"),
        Sample("lung", str(tmp_path / "g.bed"), "bedmethyl"),
    ]
    sheet.write_text("a\t../x.cov\nb\tnosuch.cov\n")
    with pytest.raises(InputFormatError, match=r"sheet.tsv line 2: .*nosuch.cov: no such file"):
        read_sample_sheet(str(sheet))
    sheet.write_text("a/b\t../x.cov\n")
    with pytest.raises(UsageError, match=r"sample name 'a/b' \(line 1\) cannot name a file"):
        read_sample_sheet(str(sheet))
    sheet.write_text("a\t../x.cov\nb ../y.cov\n")
    with pytest.raises(InputFormatError, match=r"sheet.tsv line 2: expected 'sample<TAB>path"):
        read_sample_sheet(str(sheet))
    sheet.write_text("a\t../x.cov\nb\t../y.cov\tnosuch\n")
    with pytest.raises(InputFormatError, match="line 2: unknown format 'nosuch'"):
        read_sample_sheet(str(sheet))
    sheet.write_text("a\t../x.cov\nb\t../y.cov\na\t../z.cov\n")
    with pytest.raises(UsageError, match=r"'a' is given twice \(lines 1 and 3\)"):
        read_sample_sheet(str(sheet))


def test_bundled_cohort_without_genome():
    files = sorted(bundled("cohort").glob("*.cov.gz"))
    samples = samples_from([str(f) for f in files])
    data, _ = encode_dataset(None, samples, EncodeOptions(windows=False, context=2))
    assert data.sample_names == ["T_cells", "brain", "hepatocytes", "lung", "placenta"]
    assert data.y.shape == (len(data), 5) and data.context_level.shape == (len(data), 5, 4)
    assert (np.isfinite(data.y).sum(axis=1) >= 1).all() and len(data) > 250
