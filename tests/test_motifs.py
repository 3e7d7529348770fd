"""mrcnn-filters2meme: a planted CTCF motif is recovered and matched; MEME output is readable; bad input."""

import numpy as np
import pytest

from mrcnn_tools.cli.filters2meme import main as filters2meme
from mrcnn_tools.cli.train import main as train
from mrcnn_tools.dataset import Dataset
from mrcnn_tools.encoding import ALPHABET

from conftest import run_main

# each trains two networks on the planted set and runs filters2meme
pytestmark = pytest.mark.slow


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
        seq[i, start:start + len(pwm)] = [rng.choice(4, p=row) for row in pwm]
        y[i] = 1.0
    data = Dataset(seq=seq, y=y, coverage=np.full(n, 20, np.int32), chrom=np.full(n, "chrP"),
                   pos=np.arange(n, dtype=np.int64) * 1000, strand=np.full(n, "."), cgi=np.full(n, -1, np.int8),
                   meta={"flank": 200, "encoding": "TCGA-N4", "genome": "synthetic"})
    data.save(str(d / "planted.npz"))
    for arch in ("mrcnn", "simple-cnn"):
        assert train(["-q", str(d / "planted.npz"), "--arch", arch, "--epochs", "8", "--batch-size", "64",
                      "--val-fraction", "0.1", "--seed", "1", "-o", str(d / f"{arch}.keras")]) == 0
    return d, seq


def _best(path):
    rows = [ln.rstrip("\n").split("\t") for ln in open(path)]
    head = [h.lstrip("#") for h in rows[0]]
    return [dict(zip(head, r)) for r in rows[1:]]


@pytest.mark.parametrize("arch,method", [("mrcnn", "attribution"), ("simple-cnn", "activation")])
def test_planted_ctcf_is_recovered(planted, tmp_path, capsys, arch, method):
    d, _ = planted
    out = tmp_path / "out"
    rc, err = run_main(filters2meme, ["-m", d / f"{arch}.keras", d / "planted.npz", "--out-dir", out,
                                      "--method", method, "--groups", "hyper,mid", "--jaspar"], capsys)
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


def test_meme_file_is_readable_and_tsne(planted, tmp_path, capsys):
    from Bio import motifs as bio_motifs
    from memelite.io import read_meme

    d, seq = planted
    out = tmp_path / "out"
    rc, err = run_main(filters2meme, ["-m", d / "mrcnn.keras", d / "planted.npz", "--out-dir", out,
                                      "--groups", "hyper,hypo", "--tsne", tmp_path / "tsne.png"], capsys)
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


def test_weighted_sequences(planted, tmp_path, capsys):
    from mrcnn_tools.encoding import decode

    d, seq = planted
    out = tmp_path / "out"
    rc, err = run_main(filters2meme, ["-m", d / "mrcnn.keras", d / "planted.npz", "--out-dir", out, "--groups",
                                      "hyper", "--method", "weighted-sequences", "--max-sites", 50], capsys)
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


def test_bad_inputs(planted, tmp_path, capsys):
    d, _ = planted
    notmeme = tmp_path / "db.meme"
    notmeme.write_text(">seq\nACGT\n")
    rc, err = run_main(filters2meme, ["-m", d / "mrcnn.keras", d / "planted.npz", "--out-dir", tmp_path / "o",
                                      "--motif-db", notmeme], capsys)
    assert rc == 1 and "not a MEME motif file" in err[-1] and not (tmp_path / "o").exists()
    gbr = tmp_path / "g.skops"
    assert train(["-q", str(d / "planted.npz"), "--arch", "kmer-gbr", "-o", str(gbr)]) == 0
    rc, err = run_main(filters2meme, ["-m", gbr, d / "planted.npz", "--out-dir", tmp_path / "o",
                                      "--method", "weighted-sequences"], capsys)
    assert rc == 1 and "no convolution" in err[-1]
    rc, err = run_main(filters2meme, ["-m", d / "mrcnn.keras", d / "planted.npz", "--out-dir", tmp_path / "o",
                                      "--method", "activation"], capsys)
    assert rc == 1 and "wider than 1 bp" in err[-1]
