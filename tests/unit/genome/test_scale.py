"""Genome scale: windows cut from memory-mapped genome codes instead of stored, views instead of copies."""

import json
import multiprocessing
import os

import numpy as np
import pytest
from helpers import TEST_DATA, TINY_KERAS, bundled, run_main

from mrcnn_tools.cli.encode import main as encode
from mrcnn_tools.cli.predict import main as predict
from mrcnn_tools.cli.train import main as train
from mrcnn_tools.data.dataset import Dataset, Rows, load_dataset, load_datasets
from mrcnn_tools.data.splits import labelled, leaking_sites, split_validation
from mrcnn_tools.errors import DatasetError
from mrcnn_tools.genome import codes as genome_codes
from mrcnn_tools.genome.codes import open_genome_codes
from mrcnn_tools.genome.fasta import Genome
from mrcnn_tools.models.files import load_model
from mrcnn_tools.prediction.predict import Predictor

COMP = {"A": "T", "C": "G", "G": "C", "T": "A", "N": "N"}
CODE = {"T": 0, "C": 1, "G": 2, "A": 3, "N": 4}


def naive_window(seq, pos, flank, minus):
    """Window of one site from the chromosome string, by hand: N beyond the ends, site left out."""
    left = [seq[i] if 0 <= i < len(seq) else "N" for i in range(pos - flank, pos)]
    right = [seq[i] if 0 <= i < len(seq) else "N" for i in range(pos + 1, pos + flank + 1)]
    bases = [b.upper() if b.upper() in CODE else "N" for b in left + right]
    if minus:
        bases = [COMP[b] for b in reversed(bases)]
    return [CODE[b] for b in bases]


def sites_only(src, dst):
    """A sites-only dataset as mrcnn-encode --no-windows writes it: seq of shape (n, 0), meta windows false."""
    d = load_dataset(str(src))
    d.seq = d.seq[:, :0]
    d.meta["windows"] = False
    d.meta.pop("source", None)
    d.save(str(dst))
    return dst


@pytest.fixture
def two_chroms(tmp_path):
    """A FASTA of two short chromosomes (soft-masked and N bases included) and its sequences."""
    rng = np.random.default_rng(7)
    seqs = {"chrA": "".join(rng.choice(list("ACGTacgN"), 700)), "chrB": "".join(rng.choice(list("ACGT"), 260))}
    fa = tmp_path / "g" / "two.fa"
    fa.parent.mkdir()
    fa.write_text(
        "".join(f">{k}\n" + "\n".join(v[i : i + 60] for i in range(0, len(v), 60)) + "\n" for k, v in seqs.items())
    )
    return fa, seqs


def test_codes_built_once_and_windows_equal_hand_cut_ones(two_chroms, caplog):

    fa, seqs = two_chroms
    codes = open_genome_codes(str(fa))
    assert codes.path.startswith(str(fa.parent)) and codes.names == ["chrA", "chrB"]
    assert codes.lengths.tolist() == [700, 260] and codes.offsets.tolist() == [0, 700]
    assert not [f for f in os.listdir(fa.parent) if f.endswith(".part")]
    index = json.loads(open(codes.path + ".json").read())
    assert index["total"] == 960 and os.path.getsize(codes.path) == 960
    assert isinstance(codes.codes, np.memmap) and not codes.codes.flags.writeable
    # sites at both ends of both chromosomes (windows must not reach into the other one), on both strands
    chrom = np.array(["chrA"] * 6 + ["B"] * 5)  # "B" is chrB under another naming convention
    pos = np.array([0, 3, 150, 350, 698, 699, 0, 49, 50, 130, 259])
    strand = np.array(["+", "-", ".", "-", "+", "-", "-", "+", "+", "-", "+"])
    for flank in (50, 200):
        got = codes.windows(chrom, pos, strand, flank)
        want = [
            naive_window(seqs["chrA" if c == "chrA" else "chrB"], p, flank, s == "-")
            for c, p, s in zip(chrom, pos, strand)
        ]
        assert got.tolist() == want
    # a second open finds the file and does not rewrite it
    mtime = os.stat(codes.path).st_mtime_ns
    caplog.clear()
    with caplog.at_level("INFO", logger="mrcnn_tools"):
        again = open_genome_codes(str(fa))
    assert again.path == codes.path and os.stat(codes.path).st_mtime_ns == mtime
    assert not any("writing the genome's codes" in r.message for r in caplog.records)


def test_codes_rebuilt_when_fasta_changes_and_cache_dir_fallbacks(two_chroms, tmp_path, monkeypatch):

    fa, seqs = two_chroms
    env_dir = tmp_path / "env-cache"
    monkeypatch.setenv("MRCNN_CACHE_DIR", str(env_dir))
    explicit = open_genome_codes(str(fa), cache_dir=str(tmp_path / "explicit"))
    assert os.path.dirname(explicit.path) == str(tmp_path / "explicit")
    os.remove(explicit.path + ".json")  # an index-less file is not a cache: built again where it belongs
    codes = open_genome_codes(str(fa))
    assert os.path.dirname(codes.path) == str(env_dir)
    # an existing cache anywhere on the search path is used rather than built again
    assert os.path.dirname(open_genome_codes(str(fa), cache_dir=str(tmp_path / "x")).path) == str(env_dir)
    # the FASTA's own directory unwritable (tests run as root, so permissions cannot show it): the user cache
    monkeypatch.delenv("MRCNN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    real = genome_codes._writable
    monkeypatch.setattr(genome_codes, "_writable", lambda d: d != str(fa.parent) and real(d))
    fallback = open_genome_codes(str(fa))
    assert os.path.dirname(fallback.path) == str(tmp_path / "xdg" / "mrcnn-tools")
    # same names and lengths, other bases: the FASTA's size/mtime stamp makes it rebuild
    seqA = "C" * 700
    fa.write_text(f">chrA\n{seqA}\n>chrB\n{seqs['chrB']}\n")
    os.utime(fa, ns=(1, 1))
    os.remove(str(fa) + ".fai")
    rebuilt = open_genome_codes(str(fa))
    assert rebuilt.path == fallback.path
    assert rebuilt.windows(np.array(["chrA"]), np.array([300]), None, 5).tolist() == [[1] * 10]


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The same 0.3 Mb of IMR90 WGBS sites, with stored windows and sites-only, plus the genome."""
    d = tmp_path_factory.mktemp("pair")
    fa = d / "22_20-21M.fa"
    fa.write_bytes((TEST_DATA / "22_20-21M.fa").read_bytes())
    assert (
        encode(
            [
                "-q",
                "--genome",
                str(fa),
                "--calls",
                str(TEST_DATA / "IMR90_r1_chr22_20-21M_GRCh37.bismark.cov"),
                "--region",
                "chr22:20000001-20300000",
                "--keep-strands",
                "-o",
                str(d / "w.npz"),
            ]
        )
        == 0
    )
    sites_only(d / "w.npz", d / "s.npz")
    return d


def test_sites_only_dataset_windows_equal_stored(pair):

    w, s = load_dataset(str(pair / "w.npz")), load_dataset(str(pair / "s.npz"))
    assert w.has_windows and not s.has_windows and s.window == w.window == 400
    s.use_genome(open_genome_codes(str(pair / "22_20-21M.fa")))
    assert np.array_equal(s.windows(), w.seq)
    rows = s.rows(np.arange(0, len(s), 7))
    assert np.array_equal(rows.windows(), w.seq[::7]) and np.array_equal(rows.y, w.y[::7], equal_nan=True)


# 9 s; the fast tier keeps the sites-only windows against stored ones (above) and the k-mer GBR case (below)
@pytest.mark.slow
def test_train_and_predict_sites_only_equal_stored_windows(pair, tmp_path, capsys):

    fa = str(pair / "22_20-21M.fa")
    for name, extra in (("w", []), ("s", ["--genome", fa])):
        rc, err = run_main(
            train,
            [
                pair / f"{name}.npz",
                *extra,
                "--arch",
                "simple-cnn",
                *TINY_KERAS,
                "--seed",
                5,
                "--val-fraction",
                0.1,
                "-o",
                tmp_path / f"{name}.keras",
            ],
            capsys,
        )
        assert rc == 0, err
        rc, err = run_main(
            predict,
            ["-m", tmp_path / f"{name}.keras", pair / f"{name}.npz", *extra, "-o", tmp_path / f"{name}.tsv"],
            capsys,
        )
        assert rc == 0, err
    (mw, _), (ms, _) = load_model(str(tmp_path / "w.keras")), load_model(str(tmp_path / "s.keras"))
    weights = list(zip(mw.get_weights(), ms.get_weights()))
    assert weights and all(np.array_equal(a, b) for a, b in weights)
    text = (tmp_path / "w.tsv").read_bytes()
    assert text.count(b"\n") == len(load_dataset(str(pair / "w.npz"))) + 1
    assert (tmp_path / "s.tsv").read_bytes() == text


def test_wrong_or_missing_genome_refused(pair, td, tmp_path, capsys):
    other = tmp_path / "other.fa"
    other.write_text(">chr22\n" + "ACGT" * 1000 + "\n")
    for cmd, args in ((train, ["--epochs", 1, "-o", tmp_path / "m.keras"]),):
        rc, err = run_main(cmd, [pair / "s.npz", "--genome", other, *args], capsys)
        assert rc == 1 and len(err) == 1
        assert "s.npz was encoded on genome 22_20-21M.fa" in err[0] and "give the FASTA" in err[0]
        rc, err = run_main(cmd, [pair / "s.npz", *args], capsys)
        assert rc == 1 and "holds sites only" in err[-1] and "--genome" in err[-1]
    assert not (tmp_path / "m.keras").exists()
    model = bundled("model_small.keras")  # any model of flank 200: the dataset is refused, not the model
    rc, err = run_main(predict, ["-m", model, pair / "s.npz", "--genome", other], capsys)
    assert rc == 1 and "checksum" in err[-1]
    rc, err = run_main(predict, ["-m", model, pair / "s.npz"], capsys)
    assert rc == 1 and "holds sites only" in err[-1]


def test_sites_only_shards_and_mixed_shards(pair, tmp_path):

    s = load_dataset(str(pair / "s.npz"))
    paths = s.save_shards(str(tmp_path / "part"), 1000)
    joined = load_datasets(paths)
    assert len(joined) == len(s) and joined.seq.shape == (len(s), 0)
    joined.use_genome(open_genome_codes(str(pair / "22_20-21M.fa")))
    assert np.array_equal(joined.windows(), load_dataset(str(pair / "w.npz")).seq)
    with pytest.raises(DatasetError, match="stored windows"):
        load_datasets([paths[0], str(pair / "w.npz")])


def _old_split_mask(chrom, pos, val_fraction, seed, block=10_000):
    """The string-keyed split of earlier versions, as a reference for the vectorised one."""
    keys = np.array([f"{c}:{p // block}" for c, p in zip(chrom, pos)])
    blocks, inverse = np.unique(keys, return_inverse=True)
    order = np.random.default_rng(seed).permutation(len(blocks))
    sizes = np.bincount(inverse, minlength=len(blocks))[order]
    take = order[: int(np.searchsorted(np.cumsum(sizes), val_fraction * len(chrom))) + 1]
    return np.isin(inverse, take)


def _toy(n, chroms, rng, sort=True):
    chrom = rng.choice(chroms, n)
    pos = rng.integers(0, 300_000, n)
    if sort:
        order = np.lexsort((pos, chrom))
        chrom, pos = chrom[order], pos[order]
    return Dataset(
        seq=np.zeros((n, 0), np.uint8),
        y=rng.random(n).astype(np.float32),
        coverage=np.zeros(n, np.int32),
        chrom=chrom,
        pos=pos.astype(np.int64),
        strand=np.full(n, "+"),
        cgi=np.zeros(n, np.int8),
        meta={"flank": 200},
    )


@pytest.mark.parametrize("sort", [True, False])
def test_split_is_views_and_matches_string_keyed_split(sort):

    rng = np.random.default_rng(1)
    data = _toy(5000, np.array(["chr1", "chr10", "chr2", "chrX"]), rng, sort)
    data.y[::10] = np.nan
    lab = labelled(data)
    assert isinstance(lab, Rows) and lab.base is data
    tr, va, _ = split_validation(lab, val_fraction=0.2, seed=4)
    assert isinstance(tr, Rows) and tr.base is data and tr.index.dtype == np.int32
    keep = np.flatnonzero(np.isfinite(data.y))
    mask = _old_split_mask(data.chrom[keep], data.pos[keep], 0.2, 4)
    assert np.array_equal(tr.index, keep[~mask]) and np.array_equal(va.index, keep[mask])
    tr, va, _ = split_validation(lab, val_chroms=["10", "X"])
    assert set(va.chrom) == {"chr10", "chrX"} and set(tr.chrom) == {"chr1", "chr2"}
    assert len(tr) + len(va) == len(keep)


def test_leaking_sites_equals_brute_force():

    rng = np.random.default_rng(2)
    tr = _toy(3000, np.array(["chr1", "chr2", "chr3"]), rng, sort=False)
    va = _toy(800, np.array(["chr1", "chr3", "chr9"]), rng)
    want = 0
    for c, p in zip(va.chrom, va.pos):
        same = tr.pos[tr.chrom == c]
        want += int(len(same) > 0 and np.abs(same - p).min() < 400)
    assert 0 < want < len(va)
    assert leaking_sites(tr, va, 400) == want
    assert leaking_sites(tr.rows(np.arange(0, 3000, 2)), va, 400) == sum(
        int(np.any((tr.chrom[::2] == c) & (np.abs(tr.pos[::2] - p) < 400))) for c, p in zip(va.chrom, va.pos)
    )


def test_kmer_gbr_and_separate_validation_from_sites_only(pair, tmp_path, capsys):

    w = load_dataset(str(pair / "w.npz"))
    w.subset(w.pos >= 20_200_000).save(str(tmp_path / "wv.npz"))
    w.subset(w.pos < 20_200_000).save(str(tmp_path / "wt.npz"))
    for name in ("wv", "wt"):
        sites_only(tmp_path / f"{name}.npz", tmp_path / f"s{name[1]}.npz")
    fa = str(pair / "22_20-21M.fa")
    for name, extra in (("w", []), ("s", ["--genome", fa])):
        rc, err = run_main(
            train,
            [
                tmp_path / f"{name}t.npz",
                "--validation",
                tmp_path / f"{name}v.npz",
                *extra,
                "--arch",
                "kmer-gbr",
                "--seed",
                2,
                "--patience",
                1,
                "--learning-rate",
                0.5,
                "-o",
                tmp_path / f"{name}.skops",
            ],
            capsys,
        )
        assert rc == 0, err
    (mw, meta), (ms, _) = load_model(str(tmp_path / "w.skops")), load_model(str(tmp_path / "s.skops"))
    assert meta["training"]["n_val"] == int((w.pos >= 20_200_000).sum()) > 0
    pw, ps = Predictor(mw, meta).predict(w.seq), Predictor(ms, meta).predict(w.seq)
    assert np.array_equal(pw, ps) and pw.std() > 0


def test_dropping_site_details_keeps_split_and_leaks(pair):

    s = load_dataset(str(pair / "s.npz")).use_genome(open_genome_codes(str(pair / "22_20-21M.fa")))
    s.y[::5] = np.nan  # labelled() then gives a view

    before = split_validation(labelled(s), val_fraction=0.3, seed=9)
    leaks = leaking_sites(before[0], before[1], 400)
    windows = labelled(s).windows()
    s.drop_site_details()
    assert s.chrom is None and s.strand is None
    after = split_validation(labelled(s), val_fraction=0.3, seed=9)
    assert np.array_equal(before[0].index, after[0].index) and np.array_equal(before[1].index, after[1].index)
    assert leaking_sites(after[0], after[1], 400) == leaks > 0
    assert np.array_equal(labelled(s).windows(), windows)


def _open_codes(fasta):

    codes = open_genome_codes(fasta)
    return codes.path, bytes(codes.codes[:50]), len(codes)


def test_jobs_that_start_together_build_one_whole_file(tmp_path):
    """Four processes build the codes of one genome at once: each gets a whole, equal file; no temporary is left."""

    rng = np.random.default_rng(3)
    seq = np.frombuffer(b"ACGT", np.uint8)[rng.integers(0, 4, 3_000_000)].tobytes().decode()
    fa = tmp_path / "big.fa"
    fa.write_text(">chr1\n" + "\n".join(seq[i : i + 80] for i in range(0, len(seq), 80)) + "\n")

    Genome(str(fa))  # the .fai first: its own atomic build is genome.py's business
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        got = pool.map(_open_codes, [str(fa)] * 4)
    assert len({g[0] for g in got}) == 1
    want = bytes(CODE[b] for b in seq[:50])
    assert all(g[1] == want and g[2] == len(seq) for g in got)
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["big.fa", "big.fa.fai", os.path.basename(got[0][0]), os.path.basename(got[0][0]) + ".json"]
    )
