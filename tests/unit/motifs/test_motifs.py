"""Motifs: the library pieces against hand-worked answers (fast); mrcnn-filters2meme on a planted CTCF motif,
recovered and matched, MEME output readable, bad input (slow: they train networks)."""

import importlib.util
import sys

import numpy as np
import pytest
from Bio import motifs as bio_motifs
from helpers import ROOT, run_main, shared_data

from mrcnn_tools import motifs as mo
from mrcnn_tools.cli.filters2meme import main as filters2meme
from mrcnn_tools.cli.train import main as train
from mrcnn_tools.data.dataset import Dataset
from mrcnn_tools.encoding import ALPHABET, decode, one_hot
from mrcnn_tools.errors import MrcnnError
from mrcnn_tools.models.files import load_model
from mrcnn_tools.motifs import discover as motif_discover
from mrcnn_tools.motifs import methods as motif_methods
from mrcnn_tools.motifs import modisco as motif_modisco
from mrcnn_tools.motifs import seqlet_clusters as motif_seqlets
from mrcnn_tools.motifs import tomtom as motif_match
from mrcnn_tools.motifs.modisco import hypothetical_contributions, require_modisco
from mrcnn_tools.motifs.pwm import Motif, information, jaspar_counts_motif, read_meme, trim, write_meme
from mrcnn_tools.motifs.tomtom import require_memelite

CODE = {b: i for i, b in enumerate(ALPHABET)}


def codes(text):
    return np.array([CODE[b] if b in CODE else 4 for b in text], np.uint8)


def rc_codes(c):
    return np.where(c < 4, 3 - c, 4)[::-1].astype(np.uint8)


# ---------------------------------------------------------------------------------------------------------------
# Fast: no TensorFlow, no training.


def test_benjamini_hochberg_q_values_by_hand(monkeypatch):
    """p = .01 .04 .03 .5 over 4 targets: sorted .01 .03 .04 .5 -> p*n/rank .04 .06 .0533 .5 -> running minimum
    from the top .04 .0533 .0533 .5; at q < .05 only the first is significant, and it alone is reported."""
    p = np.array([[0.01, 0.04, 0.03, 0.5], [0.3, 0.2, 0.9, 0.6]])
    zeros = np.zeros_like(p, int)
    monkeypatch.setattr(motif_match, "tomtom_pvalues", lambda m, d: (p, zeros, zeros + 7, zeros.astype(bool)))
    db = [Motif(f"t{j}", np.full((6, 4), 0.25), 0, f"T{j}") for j in range(4)]
    q = [Motif("a", np.full((6, 4), 0.25)), Motif("b", np.full((6, 4), 0.25))]
    rows = motif_match.match(q, db, q_threshold=0.05)
    assert [(r["motif"], r["match_id"], r["significant"]) for r in rows] == [("a", "t0", True), ("b", "t1", False)]
    assert rows[0]["q"] == pytest.approx(0.04) and rows[0]["E"] == pytest.approx(0.04)
    # b: sorted .2 .3 .6 .9 -> .8 .6 .8 .9 -> minimum from the top: .6 .6 .8 .9; its best (t1, p .2) has q .6
    assert rows[1]["q"] == pytest.approx(0.6)
    rows = motif_match.match(q[:1], db, q_threshold=0.055)
    assert [(r["match_id"], round(r["q"], 4)) for r in rows] == [("t0", 0.04), ("t2", 0.0533), ("t1", 0.0533)]


def test_jaspar_nsites_is_the_column_total():
    """A JASPAR matrix counts the same sites in every column; 0.1 read the A count at position 0 (here 3)."""

    class Record:
        matrix_id, name = "MA9999.1", "TOY"
        counts = {"A": [3, 0, 10], "C": [7, 0, 0], "G": [0, 10, 0], "T": [0, 0, 0]}

    m = jaspar_counts_motif(Record())
    assert (m.name, m.alt, m.nsites) == ("MA9999.1", "TOY", 10)
    assert np.allclose(m.pwm[0], np.array([3.1, 7.1, 0.1, 0.1]) / 10.4)


def test_meme_round_trip_and_trim(tmp_path):
    pwm = np.array([[0.25] * 4, [0.97, 0.01, 0.01, 0.01], [0.01, 0.97, 0.01, 0.01], [0.25] * 4])
    write_meme([Motif("m1", pwm, 12, "alt name")], tmp_path / "x.meme", [0.3, 0.2, 0.2, 0.3])
    (back,) = read_meme(tmp_path / "x.meme")
    assert (back.name, back.alt, back.nsites) == ("m1", "alt name", 12) and np.allclose(back.pwm, pwm, atol=1e-6)
    # information of a uniform row is 0 bits, of (.97, .01, .01, .01) 2 + .97 log2 .97 + 3 * .01 log2 .01
    assert information(pwm)[0] == pytest.approx(0)
    assert information(pwm)[1] == pytest.approx(2 + 0.97 * np.log2(0.97) + 0.03 * np.log2(0.01))
    assert trim(pwm, min_width=2).shape == (2, 4)


def test_orient_puts_reverse_complements_on_one_strand():

    site = codes("GGCACCAGGGGGCGC")
    x = one_hot(np.stack([site, rc_codes(site), site, rc_codes(site)]))
    out = motif_seqlets.orient(x)
    assert all(np.array_equal(o, out[0]) for o in out) and np.array_equal(out[0], x[0])


def test_peak_regions_and_seqlets_find_the_highest_window():
    seq = np.tile(codes("ACGT" * 10), (3, 1))
    scores = np.zeros((3, 40), np.float32)
    scores[0, 10:14] = 1.0  # window of width 4 at 10: sum 4
    scores[1, 30:34] = 0.5  # sum 2
    scores[2, 0:2] = 3.0  # width 4 at 0 sums 6; region reaches 2 bases before the start: N-padded
    regions = motif_seqlets.peak_regions(seq, scores, width=4, flank=2, keep_fraction=1.0)
    assert regions.shape == (3, 8)
    padded = np.pad(seq[0], 2, constant_values=4)
    assert np.array_equal(regions[0], padded[0:8])  # row 2 first (highest), then 0, then 1
    assert np.array_equal(regions[1], padded[10:18]) and np.array_equal(regions[2], padded[30:38])
    assert motif_seqlets.peak_regions(seq, scores, width=4, flank=2, keep_fraction=0.34).shape == (1, 8)
    lets = motif_seqlets.seqlets(seq, scores, width=4, keep_fraction=1.0)
    assert np.array_equal(lets, np.stack([seq[0, 0:4], seq[0, 10:14], seq[0, 30:34]]))


def test_kmer_ids_are_strand_free():
    # ACG reads CGT on the other strand; in code order T0 C1 G2 A3, ACG = 3*16 + 1*4 + 2 = 54, CGT = 16 + 8 = 24
    ids = motif_discover._kmer_ids(codes("ACGN").reshape(1, -1), 3)
    assert ids.tolist() == [[24, -1]]
    assert motif_discover._kmer_ids(codes("CGT").reshape(1, -1), 3).tolist() == [[24]]


def test_discover_finds_a_planted_site_in_either_orientation_and_nothing_in_noise():
    rng = np.random.default_rng(3)
    fg = rng.integers(0, 4, (300, 40)).astype(np.uint8)
    bg = rng.integers(0, 4, (600, 40)).astype(np.uint8)
    site = codes("TTGCCACCTAGTGGC")
    for i in range(0, 300, 2):  # half the regions, random offset and strand
        s = site if rng.random() < 0.5 else rc_codes(site)
        j = rng.integers(0, 40 - len(s) + 1)
        fg[i, j : j + len(s)] = s
    found = motif_discover.discover(fg, bg, n_motifs=2)
    assert len(found) >= 1
    pwm, nsites, logp = found[0]
    consensus = "".join("ACGT"[k] for k in pwm.argmax(1))
    rc = consensus[::-1].translate(str.maketrans("ACGT", "TGCA"))
    assert "TTGCCACCTAGTGGC" in (consensus, rc)
    assert 140 <= nsites <= 170 and logp < -20
    assert motif_discover.discover(rng.integers(0, 4, (300, 40)).astype(np.uint8), bg) == []


def _planted_group(rng, n, fraction, scores_at_site=1.0, width=200):
    """*n* random windows, TTGCCACCTAGTGGC (either strand) in *fraction* of them; contributions high on the
    site where planted, low noise elsewhere."""
    seq = rng.integers(0, 4, (n, width)).astype(np.uint8)
    scores = rng.random((n, width)).astype(np.float32) * 0.1
    site = codes("TTGCCACCTAGTGGC")
    for i in np.flatnonzero(rng.random(n) < fraction):
        s = site if rng.random() < 0.5 else rc_codes(site)
        j = rng.integers(0, width - len(s) + 1)
        seq[i, j : j + len(s)] = s
        scores[i, j : j + len(s)] = scores_at_site
    return seq, scores


@pytest.mark.slow  # 12 s on 800 windows (runs in test-slow); discovery itself stays fast: test_discover_finds_...
def test_a_motif_of_the_other_group_is_not_reported_for_this_one(monkeypatch):
    """A network that learned "site -> hyper" puts hypo windows' highest contributions on the site where it
    occurs by chance. Here 25% of the hypo windows and 80% of the hyper windows hold it: the hypo peaks are
    enriched over random hyper regions (discover alone reports it), but the site occurs in far fewer hypo than
    hyper windows, so find_group_motifs does not report it for hypo; for hyper it does."""

    rng = np.random.default_rng(5)
    hypo, s_hypo = _planted_group(rng, 400, 0.25)
    hyper, s_hyper = _planted_group(rng, 400, 0.8)
    fg = motif_seqlets.peak_regions(hypo, s_hypo, width=20, flank=20, keep_fraction=0.5)
    bg = motif_seqlets.random_regions(hyper, 60, 2 * len(fg), np.random.default_rng(0))
    ((pwm, _, logp),) = motif_discover.discover(fg, bg)
    assert logp < -4
    assert motif_discover.group_enrichment(pwm, hypo, hyper) > -1  # hypo holds it less often: no enrichment
    assert motif_discover.group_enrichment(pwm, hyper, hypo) < -20
    # find_group_motifs signs hypo's contributions negative; the stand-in returns them pre-negated
    scores = {id(hypo): -s_hypo, id(hyper): s_hyper}
    monkeypatch.setattr(motif_methods, "attributions", lambda model, seq, batch_size: scores[id(seq)])
    assert motif_methods.find_group_motifs("attribution", None, hypo, "hypo", hyper) == []
    ((found, n, label),) = motif_methods.find_group_motifs("attribution", None, hyper, "hyper", hypo)
    consensus = "".join("ACGT"[k] for k in found.argmax(1))
    assert "CCACCTAGTGG" in consensus + consensus[::-1].translate(str.maketrans("ACGT", "TGCA"))
    # TF-MoDISco's patterns are checked the same way

    monkeypatch.setattr(motif_modisco, "modisco_motifs", lambda model, seq, sign, batch_size: [(found, 99)])
    assert motif_methods.find_group_motifs("modisco", None, hypo, "hypo", hyper) == []
    assert [n for _, n, _ in motif_methods.find_group_motifs("modisco", None, hyper, "hyper", hypo)] == [99]


def test_best_scores_in_chunks_equal_the_whole():
    rng = np.random.default_rng(0)
    regions = rng.integers(0, 5, (50, 30)).astype(np.uint8)
    logodds = rng.normal(size=(7, 4))
    whole = motif_discover._best_sites(regions, logodds)[0]
    assert np.array_equal(motif_discover._best_scores(regions, logodds, chunk=8), whole)


def test_hypothetical_contributions_are_centred_per_position():
    g = np.array([[[1.0, 2.0, 3.0, 6.0], [0.0, 0.0, 0.0, 4.0]]])
    assert hypothetical_contributions(g).tolist() == [[[-2.0, -1.0, 0.0, 3.0], [-1.0, -1.0, -1.0, 3.0]]]


# ---------------------------------------------------------------------------------------------------------------
# Slow: each trains two networks on the planted set and runs filters2meme.


def _ctcf_pwm():
    from pyjaspar import jaspardb

    m = jaspardb().fetch_motif_by_id("MA0139.1")  # CTCF, as bundled offline by pyjaspar
    counts = np.array([m.counts[b] for b in ALPHABET], float).T  # code order T, C, G, A
    return counts / counts.sum(1, keepdims=True)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """3,000 random windows; half carry a CTCF instance sampled from MA0139 near the site and are methylated."""
    d = tmp_path_factory.mktemp("planted")
    rng = np.random.default_rng(7)
    n, w = 3000, 400
    seq = rng.integers(0, 4, (n, w)).astype(np.uint8)
    y = np.zeros(n, np.float32)
    pwm = _ctcf_pwm()
    for i in range(0, n, 2):
        start = 170 + int(rng.integers(-15, 16))
        seq[i, start : start + len(pwm)] = [rng.choice(4, p=row) for row in pwm]
        y[i] = 1.0
    data = Dataset(
        seq=seq,
        y=y,
        coverage=np.full(n, 20, np.int32),
        chrom=np.full(n, "chrP"),
        pos=np.arange(n, dtype=np.int64) * 1000,
        strand=np.full(n, "."),
        cgi=np.full(n, -1, np.int8),
        meta={"flank": 200, "encoding": "TCGA-N4", "genome": "synthetic"},
    )
    data.save(str(d / "planted.npz"))
    for arch in ("mrcnn", "simple-cnn"):
        assert (
            train(
                [
                    "-q",
                    str(d / "planted.npz"),
                    "--arch",
                    arch,
                    "--epochs",
                    "8",
                    "--batch-size",
                    "64",
                    "--val-fraction",
                    "0.1",
                    "--seed",
                    "1",
                    "-o",
                    str(d / f"{arch}.keras"),
                ]
            )
            == 0
        )
    return d, seq


def _best(path):
    rows = [ln.rstrip("\n").split("\t") for ln in open(path)]
    head = [h.lstrip("#") for h in rows[0]]
    return [dict(zip(head, r)) for r in rows[1:]]


@pytest.mark.slow
@pytest.mark.parametrize("arch,method", [("mrcnn", "attribution"), ("simple-cnn", "activation")])
def test_planted_ctcf_is_recovered(planted, tmp_path, capsys, arch, method):
    d, _ = planted
    out = tmp_path / "out"
    rc, err = run_main(
        filters2meme,
        [
            "-m",
            d / f"{arch}.keras",
            d / "planted.npz",
            "--out-dir",
            out,
            "--method",
            method,
            "--groups",
            "hyper,mid",
            "--jaspar",
        ],
        capsys,
    )
    assert rc == 0, err
    assert any("group mid has no sites" in e for e in err)
    rows = _best(out / "motifs.tsv")
    hits = [r for r in rows if r["best_match_name"].upper().startswith("CTCF") and float(r["q"]) < 0.05]
    assert hits, rows
    if method == "attribution":
        # the biggest cluster of the methylated group is the planted motif
        assert rows[0]["best_match_name"].upper().startswith("CTCF"), rows[0]
    matches = (out / "matches.tsv").read_text()
    assert "CTCF" in matches
    assert "| logo |" in (out / "matches.md").read_text()
    assert all((out / "logos" / f"{r['motif']}.png").stat().st_size > 500 for r in rows)


@pytest.mark.slow
def test_meme_file_is_readable_and_tsne(planted, tmp_path, capsys):
    from memelite.io import read_meme

    d, seq = planted
    out = tmp_path / "out"
    rc, err = run_main(
        filters2meme,
        [
            "-m",
            d / "mrcnn.keras",
            d / "planted.npz",
            "--out-dir",
            out,
            "--groups",
            "hyper,hypo",
            "--tsne",
            tmp_path / "tsne.png",
        ],
        capsys,
    )
    assert rc == 0, err
    with open(out / "motifs.meme") as fh:
        parsed = bio_motifs.parse(fh, "minimal")
    names = [m.name for m in parsed]
    assert len(names) == len(set(names)) >= 1
    for m in parsed:
        pwm = np.array([m.pwm[b] for b in "ACGT"]).T
        assert np.allclose(pwm.sum(1), 1, atol=1e-4)
    assert len(read_meme(str(out / "motifs.meme"))) == len(names)
    tsne = _best(out / "tsne.tsv")
    assert [r["panel"] for r in tsne] == ["one-hot input", "first-layer features", "last hidden layer"]
    # the network separates methylated from unmethylated windows better than the raw input does
    assert float(tsne[2]["silhouette"]) > float(tsne[0]["silhouette"])
    assert (tmp_path / "tsne.png").stat().st_size > 1000


@pytest.mark.slow
def test_weighted_sequences(planted, tmp_path, capsys):

    d, seq = planted
    out = tmp_path / "out"
    rc, err = run_main(
        filters2meme,
        [
            "-m",
            d / "mrcnn.keras",
            d / "planted.npz",
            "--out-dir",
            out,
            "--groups",
            "hyper",
            "--method",
            "weighted-sequences",
            "--max-sites",
            50,
        ],
        capsys,
    )
    assert rc == 0, err
    text = (out / "hyper.weighted.fa").read_text().splitlines()
    weights = [float(v) for ln in text if ln.startswith(">WEIGHTS") for v in ln.split()[1:]]
    assert len(weights) == 50 and all(0 < v <= 1 for v in weights)
    records, cur = {}, None
    for ln in text:
        if ln.startswith(">WEIGHTS"):
            continue
        if ln.startswith(">"):
            cur = ln[1:]
            records[cur] = ""
        else:
            records[cur] += ln
    windows = {decode(s) for s in seq}
    assert len(records) == 50 and all(s in windows for s in records.values())
    assert "meme " in (out / "run_meme_hyper.sh").read_text()


@pytest.mark.slow
def test_bad_inputs(planted, tmp_path, capsys):
    d, _ = planted
    notmeme = tmp_path / "db.meme"
    notmeme.write_text(">seq\nACGT\n")
    rc, err = run_main(
        filters2meme,
        ["-m", d / "mrcnn.keras", d / "planted.npz", "--out-dir", tmp_path / "o", "--motif-db", notmeme],
        capsys,
    )
    assert rc == 1 and "not a MEME motif file" in err[-1] and not (tmp_path / "o").exists()
    gbr = tmp_path / "g.skops"
    assert train(["-q", str(d / "planted.npz"), "--arch", "kmer-gbr", "-o", str(gbr)]) == 0
    rc, err = run_main(
        filters2meme,
        ["-m", gbr, d / "planted.npz", "--out-dir", tmp_path / "o", "--method", "weighted-sequences"],
        capsys,
    )
    assert rc == 1 and "no convolution" in err[-1]
    rc, err = run_main(
        filters2meme,
        ["-m", d / "mrcnn.keras", d / "planted.npz", "--out-dir", tmp_path / "o", "--method", "activation"],
        capsys,
    )
    assert rc == 1 and "wider than 1 bp" in err[-1]


@pytest.mark.slow
def test_modisco_finds_the_planted_motif(planted):
    """TF-MoDISco on the hypothetical contributions of the planted-set model: a hyper pattern matches CTCF."""
    pytest.importorskip("modiscolite")

    d, seq = planted
    model, _ = load_model(str(d / "simple-cnn.keras"))
    found = mo.find_group_motifs("modisco", model, seq[0::2][:1000], "hyper", seq[1::2][:1000])
    assert found and all(label.startswith("modisco") for _, _, label in found)
    motifs = [mo.Motif(f"hyper_{label}", pwm, n) for pwm, n, label in found]
    hits = [r for r in mo.match(motifs, mo.jaspar_motifs()) if r["significant"] and r["match_name"] == "CTCF"]
    assert hits, [(m.name, m.nsites) for m in motifs]


@pytest.mark.slow
def test_benchmark_reduced_case(tmp_path, capsys, monkeypatch):
    """benchmarks/motifs.py on one motif, one architecture, one seed: CTCF planted into the hyper windows of real
    chr20 sequence is recovered by the default method, for hyper and not for hypo."""

    shared_data("genome", "GRCh37_chr20.fa.gz")
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # as `python benchmarks/motifs.py` has it: its _common
    spec = importlib.util.spec_from_file_location("bench_motifs", ROOT / "benchmarks" / "motifs.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert (
        bench.main(
            [
                "--motifs",
                "CTCF:hyper",
                "--archs",
                "simple-cnn",
                "--seeds",
                "1",
                "--methods",
                "attribution",
                "--sites",
                "2000",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    rows = [ln.split("\t") for ln in (tmp_path / "results.tsv").read_text().splitlines()]
    head = rows[0]
    (row,) = [dict(zip(head, r)) for r in rows[1:]]
    assert (row["motif"], row["method"], row["recovered"], row["q_wrong"]) == ("CTCF", "attribution", "1", "None")
    assert float(row["q_right"]) < 0.05
    (line,) = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| CTCF (hyper) | simple-cnn |")]
    assert line.split(" | ")[3].startswith("1/1 (")  # motif, arch, learned, attribution


def test_missing_optional_packages_are_one_error_with_the_install_command(monkeypatch):

    for name in ("memelite", "modiscolite"):
        monkeypatch.setitem(sys.modules, name, None)  # import of a None entry raises ImportError
    with pytest.raises(
        MrcnnError, match=r"pip install memelite \(or, in a checkout of mrcnn-tools, pip install '\.\[motifs\]'\)"
    ):
        require_memelite()
    with pytest.raises(MrcnnError, match="pip install modisco-lite"):
        require_modisco()
