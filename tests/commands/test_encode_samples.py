"""mrcnn-encode with several samples: repeated --calls, --sample-names, a --calls-list sheet, mixed formats, and
--no-windows without --genome; the errors; one sample unchanged."""

import shutil

import numpy as np
import pytest
from helpers import bundled, load, run_main

from mrcnn_tools.cli.encode import main
from mrcnn_tools.data.dataset import load_dataset

WARNING = "placement on CpGs was not checked"


@pytest.fixture
def cohort(tmp_path):
    dst = tmp_path / "cohort"
    shutil.copytree(bundled("cohort"), dst)
    return sorted(dst.glob("*.cov.gz"))


def _calls(paths):
    return [a for p in paths for a in ("--calls", p)]


def test_repeated_calls_without_genome_warn_once(cohort, tmp_path, capsys):
    out = tmp_path / "c.npz"
    rc, err = run_main(
        main, [*_calls(cohort), "--no-windows", "--context", "2", "--min-samples", "2", "-o", out], capsys
    )
    assert rc == 0, err
    assert sum(WARNING in ln for ln in err) == 1 and not any("Traceback" in ln for ln in err)
    d = load_dataset(out)
    assert d.sample_names == ["T_cells", "brain", "hepatocytes", "lung", "placenta"]
    assert d.y.shape == (len(d), 5) and d.coverage.shape == (len(d), 5) and d.context_dist.shape == (len(d), 5, 4)
    assert d.meta["genome"] is None and d.seq.shape == (len(d), 0) and (np.isfinite(d.y).sum(axis=1) >= 2).all()
    assert ((d.coverage >= 5) == np.isfinite(d.y)).all()  # an entry under --min-coverage is not observed


def test_sample_names_and_a_sheet_give_the_same_dataset(cohort, tmp_path, capsys):
    names = ["t", "b", "h", "l", "p"]
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    rc, err = run_main(main, [*_calls(cohort), "--sample-names", ",".join(names), "--no-windows", "-o", a], capsys)
    assert rc == 0, err
    sheet = tmp_path / "cohort" / "sheet.tsv"  # relative paths are taken from the sheet's folder
    sheet.write_text("sample\tpath\n" + "".join(f"{n}\t{p.name}\n" for n, p in zip(names, cohort)))
    rc, err = run_main(main, ["--calls-list", sheet, "--no-windows", "-o", b], capsys)
    assert rc == 0, err
    x, y = load(a), load(b)
    assert list(x["samples"]) == names
    for key in ("y", "coverage", "pos", "chrom", "strand", "samples"):
        np.testing.assert_array_equal(x[key], y[key])


def test_mixed_formats_with_genome_in_a_sheet(td, tmp_path, capsys):
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(
        f"cov\t{td / 'toy.bismark.cov'}\tbismark-cov\nbm\t{td / 'toy.bedMethyl'}\n"
        f"md\t{td / 'toy.methyldackel.bedGraph'}\n"
    )
    out = tmp_path / "m.npz"
    argv = ["--genome", td / "toy.fa", "--calls-list", sheet, "--flank", "3", "--min-coverage", "2", "-o", out]
    rc, err = run_main(main, argv, capsys)
    assert rc == 0, err
    d = load_dataset(out)
    assert d.sample_names == ["cov", "bm", "md"] and d.seq.shape == (len(d), 6)
    assert d.meta["formats"] == ["bismark-cov", "bedmethyl", "methyldackel"] and d.meta["format"] == "mixed"
    # the toy files hold the same calls: every sample observes the same merged sites (test_encode.py's MERGED)
    assert list(d.pos) == [1, 5, 9, 13, 17]
    np.testing.assert_allclose(d.y[:, 0], [0.75, 0.7, 0.0, 2 / 6, 1.0], rtol=1e-6)
    assert all(np.array_equal(d.coverage[:, 0], d.coverage[:, t]) for t in range(3))


def test_a_sample_read_the_other_way_when_the_genome_says_so(td, tmp_path, capsys):
    # MethylDackel's bedGraph without its track line is detected as Bismark's merged .cov (1-based); the reference
    # settles it for that sample alone, as for one sample (README, mrcnn-encode)
    bare = tmp_path / "md.txt"
    bare.write_text("".join(ln for ln in (td / "toy.methyldackel.bedGraph").open() if not ln.startswith("track")))
    out = tmp_path / "m.npz"
    argv = ["--genome", td / "toy.fa", "--calls", td / "toy.bismark.cov", "--calls", bare, "--flank", "3", "-o", out]
    rc, err = run_main(main, [*argv, "--min-coverage", "2"], capsys)
    assert rc == 0 and any("reading them as methyldackel" in ln for ln in err)
    d = load_dataset(out)
    assert d.meta["formats"] == ["bismark-cov", "methyldackel"] and list(d.pos) == [1, 5, 9, 13, 17]
    np.testing.assert_array_equal(d.y[:, 0], d.y[:, 1])


def test_cells_with_their_sequence(tmp_path, capsys):
    cells = sorted(bundled("cells").glob("cell_*.cov.gz"))
    fasta = tmp_path / "19.fa"
    shutil.copy(bundled("cells", "19_3885001-3915000.fa"), fasta)
    out = tmp_path / "cells.npz"
    argv = [*_calls(cells), "--genome", fasta, "--min-coverage", "1", "--context", "1", "-o", out]
    rc, err = run_main(main, argv, capsys)
    assert rc == 0, err
    assert not any(WARNING in ln for ln in err)
    d = load_dataset(out)
    assert d.sample_names == [f"cell_0{i}" for i in range(1, 7)] and d.seq.shape == (len(d), 400)
    assert set(np.unique(d.y[np.isfinite(d.y)])) <= {0.0, 1.0} and len(d) > 50


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--sample-names", "a,a,b,c,d"], "the sample name 'a' is given twice"),
        (["--sample-names", "a,b"], "--sample-names gives 2 names for 5 --calls files"),
        ([], "--genome FASTA is needed to cut the windows"),
        (["--no-windows", "--min-samples", "6"], "--min-samples 6 is more than the 5 sample(s) given"),
    ],
)
def test_errors_are_one_line(cohort, tmp_path, capsys, extra, message):
    out = tmp_path / "x.npz"
    rc, err = run_main(main, [*_calls(cohort), *extra, "-o", out], capsys)
    assert rc != 0 and not out.exists()
    assert message in err[-1] and not any("Traceback" in ln for ln in err)


def test_bad_sheet_line_is_named(cohort, tmp_path, capsys):
    sheet = tmp_path / "s.tsv"
    sheet.write_text(f"a\t{cohort[0]}\nb {cohort[1]}\n")
    rc, err = run_main(main, ["--calls-list", sheet, "--no-windows", "-o", tmp_path / "x.npz"], capsys)
    assert rc != 0 and f"{sheet} line 2: expected 'sample<TAB>path" in err[-1]


def test_one_sample_unchanged(td, tmp_path, capsys):
    # the bundled sites-only dataset (make_galaxy_inputs.sh) comes out again array for array, given by --calls or
    # by a one-line sheet
    sheet = tmp_path / "one.tsv"
    sheet.write_text(f"imr90\t{td / 'IMR90_r1_chr22_20-21M_GRCh37.bismark.cov'}\n")
    common = ["--genome", td / "22_20-21M.fa", "--cgi", td / "cpgIslands_hg19_chr22_20-21M.bed"]
    common += ["--region", "chr22:20610001-20700000", "--no-windows"]
    want = load(bundled("test_small_sites.npz"))
    for source in (["--calls", td / "IMR90_r1_chr22_20-21M_GRCh37.bismark.cov"], ["--calls-list", sheet]):
        out = tmp_path / "s.npz"
        rc, err = run_main(main, [*common, *source, "-o", out], capsys)
        assert rc == 0, err
        got = load(out)
        assert set(got) == set(want) and "samples" not in got
        for key in set(want) - {"meta"}:
            assert got[key].dtype == want[key].dtype
            np.testing.assert_array_equal(got[key], want[key])


def test_one_sample_without_genome(td, tmp_path, capsys):
    out = tmp_path / "g.npz"
    rc, err = run_main(
        main, ["--calls", td / "toy.bedMethyl", "--no-windows", "--min-coverage", "1", "-o", out], capsys
    )
    assert rc == 0 and sum(WARNING in ln for ln in err) == 1
    d = load_dataset(out)
    # bedMethyl gives strands: the - calls are moved onto their CpG's C and merged, as with a genome; unchecked, the
    # call on a T (0-based 3; test-data/README.md) stays, where the genome drops it
    assert d.samples is None and d.y.ndim == 1 and list(d.pos) == [1, 3, 5, 9, 13, 17] and d.meta["genome"] is None
