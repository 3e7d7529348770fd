"""mrcnn-predict's chromosome names (issue 22, docs/FORMATS.md §3): one rule in both modes, the genome's names, and
--chrom-names ucsc/ensembl for every output (TSV, bedGraph, bigWig)."""

import numpy as np
import pybigtools
import pytest
from helpers import bundled, run_main

from mrcnn_tools.cli.encode import main as encode
from mrcnn_tools.cli.predict import main as predict

GBR = bundled("model_small_gbr.skops")  # flank 200, no TensorFlow: fast

# the FASTA's names -> the names the calls use for them (a UCSC-named calls file on an Ensembl-named genome)
FASTA_TO_CALLS = {"1": "chr1", "MT": "chrM", "GL000192.1": "GL000192.1", "chrUn_gl000220": "chrUn_gl000220"}
EXPECTED = {
    "genome": {"1", "MT", "GL000192.1", "chrUn_gl000220"},
    "ucsc": {"chr1", "chrM", "GL000192.1", "chrUn_gl000220"},  # an Ensembl contig name does not say its chromosome
    "ensembl": {"1", "MT", "GL000192.1", "GL000220.1"},
}


def _column1(path):
    return {ln.split("\t", 1)[0] for ln in open(path) if ln.strip() and not ln.startswith("#")}


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory):
    """A 4-record genome named the Ensembl way (with a UCSC contig among them), calls named the UCSC way, and the
    dataset mrcnn-encode makes of them."""
    d = tmp_path_factory.mktemp("names")
    rng = np.random.default_rng(7)
    with open(d / "g.fa", "w") as fa, open(d / "calls.tsv", "w") as calls:
        calls.write("chrom\tstart\tcount_m\tcount_u\n")
        for name, call_name in FASTA_TO_CALLS.items():
            seq = "".join(rng.choice(list("ACGT"), 1200))
            seq = seq[:500] + "ACGTTCGA" + seq[508:]  # at least one CpG in the middle
            fa.write(f">{name}\n{seq}\n")
            for i in range(450, 750):
                if seq[i : i + 2] == "CG":
                    calls.write(f"{call_name}\t{i}\t{rng.integers(0, 10)}\t{rng.integers(0, 10)}\n")
    argv = ["-q", "--genome", d / "g.fa", "--calls", d / "calls.tsv", "--calls-format", "tsv", "--min-coverage", "0"]
    assert encode([str(a) for a in [*argv, "--max-n-fraction", "1", "-o", d / "data.npz"]]) == 0
    return d


@pytest.mark.parametrize("style", ["genome", "ucsc", "ensembl"])
def test_both_modes_write_the_same_names_in_every_output(style, hand_made, tmp_path, capsys):
    d = hand_made
    names = ["--chrom-names", style] if style != "genome" else []  # genome: the default
    for mode, inputs in (("data", [d / "data.npz"]), ("genome", ["--genome", d / "g.fa"])):
        for fmt in ("tsv", "bedgraph"):
            out, bw = tmp_path / f"{mode}.{fmt}", tmp_path / f"{mode}.{fmt}.bw"
            argv = ["-m", GBR, *inputs, *names, "--output-format", fmt, "-o", out, "--bigwig", bw]
            rc, err = run_main(predict, argv, capsys)
            assert rc == 0, err
            assert _column1(out) == EXPECTED[style], (mode, fmt)
            assert set(pybigtools.open(str(bw)).chroms()) == EXPECTED[style], (mode, fmt)


def test_dataset_mode_names_are_the_genome_names_not_the_calls_names(hand_made, tmp_path, capsys):
    rc, err = run_main(predict, ["-m", GBR, hand_made / "data.npz", "-o", tmp_path / "p.tsv"], capsys)
    assert rc == 0, err
    assert "chr1" not in _column1(tmp_path / "p.tsv") and "chrM" not in _column1(tmp_path / "p.tsv")


def test_bundled_data_same_name_by_mode(td, tmp_path, capsys):
    """The acceptance check: test_small.npz (calls chr22, FASTA 22) and genome mode on its FASTA agree."""
    model = td / "model_small_gbr.skops"
    rc, err = run_main(predict, ["-m", model, td / "test_small.npz", "-o", tmp_path / "d.tsv"], capsys)
    assert rc == 0, err
    region = ["--region", "22:20610001-20620000"]
    rc, err = run_main(
        predict, ["-m", model, "--genome", td / "22_20-21M.fa", *region, "-o", tmp_path / "g.tsv"], capsys
    )
    assert rc == 0, err
    assert _column1(tmp_path / "d.tsv") == _column1(tmp_path / "g.tsv") == {"22"}
    rc, err = run_main(
        predict,
        ["-m", model, "--genome", td / "22_20-21M.fa", *region, "--chrom-names", "ucsc", "-o", tmp_path / "u.tsv"],
        capsys,
    )
    assert rc == 0, err
    assert _column1(tmp_path / "u.tsv") == {"chr22"}
    # the positions and predictions do not change with the names
    strip = [ln.split("\t", 1)[1] for ln in open(tmp_path / "g.tsv")][1:]
    assert strip == [ln.split("\t", 1)[1] for ln in open(tmp_path / "u.tsv")][1:]


def test_bad_style_is_a_usage_error(capsys):
    rc, err = run_main(predict, ["-m", GBR, "x.npz", "--chrom-names", "refseq"], capsys)
    assert rc == 2 and "ucsc" in err[-1]
