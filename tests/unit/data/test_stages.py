"""The stages of an encode, each against a small case worked by hand, and the one home of the encode defaults.

Genome (0-based positions; T=0 C=1 G=2 A=3 N=4):

    chrA  T T C G A A C G T T A  C  G  T  C  A  A  C  G  T      CpGs (their C) at 2, 6, 11, 17; the C at 14 is CpA
          0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19
    chrB  N N C G N A C G T T                                   CpGs at 2 and 6, N around them
"""

from dataclasses import replace

import numpy as np
import pytest
from helpers import load, run_main

from mrcnn_tools.calls.readers import Calls
from mrcnn_tools.cli.encode import get_parser, main, options_from
from mrcnn_tools.data.arrays import Summary, WindowCutter
from mrcnn_tools.data.encode import encode, encode_dataset
from mrcnn_tools.data.neighbours import add_neighbours
from mrcnn_tools.data.options import DEFAULTS, EncodeOptions
from mrcnn_tools.data.sites import PlacedCalls, Sites, all_cpg_sites
from mrcnn_tools.errors import GenomeMismatchError, UsageError
from mrcnn_tools.genome.fasta import Genome
from mrcnn_tools.genome.regions import IntervalSet, Selection

CHR_A = "TTCGAACGTTACGTCAACGT"
CHR_B = "NNCGNACGTT"
# (position, strand, methylated, unmethylated) on chrA, as a per-strand file gives them
CALLS = [
    (2, 1, 3, 1),
    (3, -1, 1, 1),  # the G of the CpG at 2: merged with it, 4/6
    (6, 1, 2, 0),
    (6, 1, 1, 1),  # a duplicated call: summed, 3/4
    (11, 1, 0, 1),  # 1 read: below --min-coverage 2
    (14, 1, 5, 5),  # a C outside CpG context (CpA)
    (18, -1, 0, 5),  # the G of the CpG at 17: 0/5
]


@pytest.fixture
def genome(tmp_path):
    path = tmp_path / "g.fa"
    path.write_text(f">chrA\n{CHR_A}\n>chrB\n{CHR_B}\n")
    return Genome(str(path))


def calls():
    rows = np.array(CALLS)
    return Calls(
        chrom_index=np.zeros(len(rows), np.int16),
        chrom_names=["chrA"],
        pos=rows[:, 0].astype(np.int32),
        strand=rows[:, 1].astype(np.int8),
        count_m=rows[:, 2].astype(np.float32),
        count_u=rows[:, 3].astype(np.float32),
        level=None,
        format="bismark-cpg-report",
        has_counts=True,
    )


def sites_of(placed, genome, name="chrA"):
    return placed.sites(name, genome.codes(placed.genome_name(name)))


# --- stage 1: sites placed, merged and filtered once ---------------------------------------------------------------


def test_placed_calls_merged_and_filtered(genome):
    summary = Summary()
    placed = PlacedCalls(genome, calls(), EncodeOptions(min_coverage=2), summary)
    assert placed.names == ["chrA"] and placed.upper == 7
    sites = sites_of(placed, genome)
    placed.check()
    # 2: (3+1)/(3+1+1+1); 6: (2+1)/(2+0+1+1); 11 has 1 read; 17 (from its G at 18): 0/5
    assert sites.pos.tolist() == [2, 6, 17] and sites.strand.tolist() == [0, 0, 0]
    assert sites.level.tolist() == [4 / 6, 3 / 4, 0.0] and sites.coverage.tolist() == [6, 4, 5]
    assert summary.calls == 7 and summary.duplicates == 1
    assert {k: v for k, v in summary.dropped.items() if v} == {"coverage": 1, "outside CpG context": 1}
    assert placed.observed == 3


def test_placed_calls_strands_kept(genome):
    placed = PlacedCalls(genome, calls(), EncodeOptions(min_coverage=2, keep_strands=True), Summary())
    sites = sites_of(placed, genome)
    assert list(zip(sites.pos.tolist(), sites.strand.tolist())) == [(2, 1), (3, -1), (6, 1), (18, -1)]
    assert sites.level.tolist() == [3 / 4, 1 / 2, 3 / 4, 0.0] and sites.coverage.tolist() == [4, 2, 4, 5]


def test_placed_calls_within_a_region(genome):
    summary = Summary()
    opts = EncodeOptions(min_coverage=2, selection=Selection(regions=IntervalSet([("chrA", 0, 10)])))
    sites = sites_of(PlacedCalls(genome, calls(), opts, summary), genome)
    # the CpGs at 11 and 17 lie outside; the CpA call at 14 is counted as outside CpG context first
    assert sites.pos.tolist() == [2, 6] and summary.dropped["outside regions"] == 2


def test_placed_calls_refused_off_the_genome(genome):
    bad = calls()
    bad.pos = bad.pos + 1  # a one-base shift: nothing sits on a C (+) or G (-) any more
    placed = PlacedCalls(genome, bad, EncodeOptions(min_cpg_fraction=0.8), Summary())
    assert len(sites_of(placed, genome)) == 0
    # shifted back, 6 of the 7 calls sit on a CpG (not the CpA one): over 0.8, so the message says so
    with pytest.raises(GenomeMismatchError, match="Shifting positions by -1 would put 85.7% on CpGs"):
        placed.check()


def test_all_cpg_sites_labelled_where_observed(genome):
    opts = EncodeOptions(min_coverage=2)
    observed = sites_of(PlacedCalls(genome, calls(), opts, Summary()), genome)
    summary = Summary()
    sites = all_cpg_sites(genome.codes("chrA"), "chrA", opts, summary, observed)
    assert sites.pos.tolist() == [2, 6, 11, 17] and summary.calls == 4
    # 11 was called but with too few reads: not observed
    np.testing.assert_array_equal(sites.level, [4 / 6, 3 / 4, np.nan, 0.0])
    assert sites.coverage.tolist() == [6, 4, 0, 5]
    # --keep-strands: each strand of each CpG, labelled by the call on that strand
    opts = replace(opts, keep_strands=True)
    observed = sites_of(PlacedCalls(genome, calls(), opts, Summary()), genome)
    both = all_cpg_sites(genome.codes("chrA"), "chrA", opts, Summary(), observed)
    assert both.pos.tolist() == [2, 3, 6, 7, 11, 12, 17, 18] and both.strand.tolist() == [1, -1] * 4
    np.testing.assert_array_equal(both.level, [3 / 4, 1 / 2, 3 / 4, np.nan, np.nan, np.nan, np.nan, 0.0])


# --- stage 2: the observed neighbours ------------------------------------------------------------------------------


def test_add_neighbours_by_hand(genome):
    observed = sites_of(PlacedCalls(genome, calls(), EncodeOptions(min_coverage=2), Summary()), genome)
    sites = add_neighbours(observed.subset(slice(None)), observed, 1)
    # sites 2, 6, 17: each one's nearest other observed site on each side, never itself
    assert sites.context["context_dist"].tolist() == [[0, 4], [-4, 11], [-11, 0]]
    np.testing.assert_array_equal(
        sites.context["context_level"], np.array([[np.nan, 3 / 4], [4 / 6, 0], [3 / 4, np.nan]], np.float32)
    )
    assert sites.context["context_coverage"].tolist() == [[0, 4], [6, 5], [4, 0]]
    # an unobserved CpG (11) between them: 6 on the left, 17 on the right
    cpgs = all_cpg_sites(genome.codes("chrA"), "chrA", DEFAULTS, Summary(), observed)
    assert add_neighbours(cpgs, observed, 1).context["context_dist"].tolist()[2] == [-5, 6]
    # no observed site on the chromosome: every neighbour missing
    none = add_neighbours(Sites("chrB", np.array([2, 6]), np.zeros(2, np.int8), np.zeros(2), np.zeros(2)), None, 2)
    assert (none.context["context_dist"] == 0).all() and np.isnan(none.context["context_level"]).all()


# --- stage 3: N filter, windows, subsample ------------------------------------------------------------------------


@pytest.mark.parametrize("fraction, kept", [(0.0, []), (0.5, [6]), (1.0, [2, 6])])
def test_window_cutter_n_filter(genome, fraction, kept):
    # flank 2, windows of 4: the CpG at 2 reads N N | G N (3 N), the one at 6 N A | G T (1 N)
    opts = EncodeOptions(flank=2, max_n_fraction=fraction)
    summary = Summary()
    cutter = WindowCutter(opts, summary)
    cutter.add(all_cpg_sites(genome.codes("chrB"), "chrB", opts, Summary()), genome.codes("chrB"))
    data = cutter.dataset({})
    assert data.pos.tolist() == kept and summary.dropped["N-rich"] == 2 - len(kept)
    windows = {2: [4, 4, 2, 4], 6: [4, 3, 2, 0]}
    assert data.seq.tolist() == [windows[p] for p in kept]


def test_window_cutter_windows_strands_and_ends(genome):
    opts = EncodeOptions(flank=2, keep_strands=True, min_coverage=2)
    observed = sites_of(PlacedCalls(genome, calls(), opts, Summary()), genome)
    cutter = WindowCutter(opts, Summary())
    cutter.add(observed, genome.codes("chrA"))
    data = cutter.dataset({})
    assert data.strand.tolist() == ["+", "-", "+", "-"] and data.cgi.tolist() == [-1] * 4
    # + at 2: T T | G A; - at 3 (the G): reverse complement of T C | A A = T T | G A; + at 6: A A | G T;
    # - at 18: reverse complement of C(17 excluded)... 16 17 | 19 (20 beyond the end, N) = A C | T N
    assert data.seq.tolist() == [[0, 0, 2, 3], [0, 0, 2, 3], [3, 3, 2, 0], [4, 3, 2, 0]]
    # no windows: the same sites, seq (n, 0)
    sites_only = WindowCutter(replace(opts, windows=False), Summary())
    sites_only.add(observed, genome.codes("chrA"))
    assert sites_only.dataset({}).seq.shape == (4, 0)


def test_window_cutter_subsamples_in_order(genome):
    codes = genome.codes("chrA")
    opts = EncodeOptions(flank=2, keep_strands=True, max_sites=3, seed=4)
    summary = Summary()
    cutter = WindowCutter(opts, summary)
    cutter.add(all_cpg_sites(codes, "chrA", opts, Summary()), codes)
    data = cutter.dataset({})
    every = [2, 3, 6, 7, 11, 12, 17, 18]
    want = np.sort(np.random.default_rng(4).choice(8, size=3, replace=False))
    assert data.pos.tolist() == [every[i] for i in want] and summary.dropped["subsampled"] == 5


# --- the pipeline: one for every mode ------------------------------------------------------------------------------


def test_encode_all_modes_are_the_stages(genome):
    opts = EncodeOptions(flank=2, min_coverage=2, context=1)
    data, summary = encode(genome, calls(), opts)
    assert data.chrom.tolist() == ["chrA"] * 3 and data.pos.tolist() == [2, 6, 17]
    assert data.context_dist.tolist() == [[0, 4], [-4, 11], [-11, 0]] and data.meta["context"] == 1
    assert summary.kept == 3 and summary.groups == {"hypo": 1, "mid": 0, "hyper": 0}
    # every CpG of both chromosomes; chrB's at 2 is N-rich at 0.5
    cpgs, summary = encode(genome, calls(), replace(opts, all_cpgs=True))
    assert list(zip(cpgs.chrom.tolist(), cpgs.pos.tolist())) == [("chrA", p) for p in (2, 6, 11, 17)] + [("chrB", 6)]
    assert summary.calls == 6 and summary.dropped["N-rich"] == 1 and summary.duplicates == 1
    assert cpgs.context_dist.tolist()[2] == [-5, 6] and cpgs.context_dist.tolist()[4] == [0, 0]
    assert cpgs.meta["all_cpgs"] is True and cpgs.meta["format"] == "bismark-cpg-report"
    unlabelled, _ = encode(genome, None, replace(opts, all_cpgs=True, context=0))
    assert unlabelled.pos.tolist() == cpgs.pos.tolist() and np.isnan(unlabelled.y).all()
    with pytest.raises(UsageError, match="--context needs --calls"):
        encode(genome, None, replace(opts, all_cpgs=True))
    with pytest.raises(UsageError, match="--all-cpgs"):
        encode(genome, None, DEFAULTS)


# --- one home of each default ---------------------------------------------------------------------------------------


def test_command_defaults_are_the_options_defaults():
    parser = get_parser()
    args = parser.parse_args(["--genome", "g.fa", "--calls", "c.cov", "-o", "o.npz"])
    for name in (
        "all_cpgs",
        "context",
        "calls_format",
        "mod_code",
        "level_scale",
        "min_cpg_fraction",
        "skip_missing_chroms",
        "keep_strands",
        "min_coverage",
        "flank",
        "max_n_fraction",
        "max_sites",
        "seed",
    ):
        assert getattr(args, name) == getattr(DEFAULTS, name), name
    assert args.no_windows is (not DEFAULTS.windows)
    assert DEFAULTS.max_n_fraction == 0.5
    options = options_from(args)
    assert options == replace(DEFAULTS, selection=options.selection)


def test_options_refused_out_of_range():
    for bad in (dict(max_n_fraction=1.5), dict(flank=0), dict(min_coverage=-1), dict(max_sites=0)):
        with pytest.raises(UsageError):
            EncodeOptions(**bad)
    with pytest.raises(UsageError, match="not to its selection"):
        EncodeOptions(selection=Selection(max_sites=3))


def test_library_default_n_filter_is_the_commands(tmp_path, capsys):
    # two N blocks with a CpG between them: its 400-base window holds 391 N (over half: dropped by default);
    # the CpGs at 100 and 900 have 101 and 100 N in theirs
    rng = np.random.default_rng(1)
    seq = np.array(list(rng.choice(list("AT"), 1100)))
    seq[200:500] = seq[510:800] = "N"
    for p in (100, 505, 900):
        seq[p], seq[p + 1] = "C", "G"
    (tmp_path / "g.fa").write_text(">chrN\n" + "".join(seq) + "\n")
    (tmp_path / "c.cov").write_text("".join(f"chrN\t{p + 1}\t{p + 1}\t50\t5\t5\n" for p in (100, 505, 900)))
    genome, calls_path = str(tmp_path / "g.fa"), str(tmp_path / "c.cov")
    rc, err = run_main(main, ["--genome", genome, "--calls", calls_path, "-o", tmp_path / "cmd.npz"], capsys)
    assert rc == 0, err
    command = load(tmp_path / "cmd.npz")
    library, summary = encode_dataset(genome, calls_path, EncodeOptions())
    assert command["pos"].tolist() == library.pos.tolist() == [100, 900] and summary.dropped["N-rich"] == 1
    for key in ("seq", "y", "coverage", "strand", "cgi"):
        np.testing.assert_array_equal(command[key], getattr(library, key))
    assert encode_dataset(genome, calls_path)[0].pos.tolist() == [100, 900]
    assert encode_dataset(genome, calls_path, EncodeOptions(max_n_fraction=1.0))[0].pos.tolist() == [100, 505, 900]


def test_context_of_chosen_sites_is_that_of_every_site(genome):
    # with --max-sites the context waits for the sites to be chosen: the same arrays, for the kept sites only
    opts = EncodeOptions(flank=2, min_coverage=2, context=1, all_cpgs=True)
    every, _ = encode(genome, calls(), opts)
    some, summary = encode(genome, calls(), replace(opts, max_sites=3, seed=1))
    keep = np.sort(np.random.default_rng(1).choice(len(every), size=3, replace=False))
    assert summary.dropped["subsampled"] == len(every) - 3
    for key in ("pos", "y", "coverage", "context_level", "context_dist", "context_coverage"):
        np.testing.assert_array_equal(getattr(some, key), getattr(every, key)[keep], err_msg=key)
