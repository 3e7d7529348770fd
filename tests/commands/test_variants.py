"""mrcnn-predict --variants as users run it: VCF, bgzip VCF and BCF in, the effects table out; REF mismatch refused in
one line or counted with --skip-ref-mismatch; models over observed neighbours refused in one line."""

import shutil

import numpy as np
import pytest
from helpers import TINY_KERAS, bundled, run_main, run_quietly

from mrcnn_tools.cli.predict import main
from mrcnn_tools.cli.train import main as train
from mrcnn_tools.prediction import variants as variants_module
from mrcnn_tools.prediction.vcf import VariantReader

FLANK = 6
META = {"arch": "kmer-gbr", "flank": FLANK}
HEADER = "##fileformat=VCFv4.2\n##contig=<ID=chrT>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


class FakeModel:
    def predict(self, x):
        return 1 / (1 + np.exp(-(x @ np.cos(np.arange(x.shape[1]) * 0.37)) / 10))


@pytest.fixture
def fake_model(monkeypatch):
    monkeypatch.setattr(variants_module, "read_model_meta", lambda path: dict(META))
    monkeypatch.setattr(variants_module, "load_model", lambda path, **kw: (FakeModel(), dict(META)))
    return "fake.skops"


@pytest.fixture
def inputs(tmp_path):
    rng = np.random.default_rng(3)
    seq = "".join(rng.choice(list("ACGT"), size=300, p=[0.2, 0.3, 0.3, 0.2]))
    fa = tmp_path / "g.fa"
    fa.write_text(">chrT\n" + "\n".join(seq[i : i + 60] for i in range(0, len(seq), 60)) + "\n")
    rows = [f"chrT\t{i + 1}\tv{i}\t{seq[i]}\t{'A' if seq[i] != 'A' else 'G'}\t.\tPASS\t.\n" for i in range(20, 280, 23)]
    vcf = tmp_path / "v.vcf"
    vcf.write_text(HEADER + "".join(rows))
    return seq, fa, vcf


def test_vcf_bgzip_and_bcf_give_one_table(tmp_path, capsys, fake_model, inputs):
    import pysam  # noqa: PLC0415 (a test dependency of this file only)

    seq, fa, vcf = inputs
    gz, bcf = tmp_path / "v.vcf.gz", tmp_path / "v.bcf"
    pysam.tabix_compress(str(vcf), str(gz))
    with pysam.VariantFile(str(vcf)) as src, pysam.VariantFile(str(bcf), "wb", header=src.header) as dst:
        for rec in src:
            dst.write(rec)
    texts = []
    for k, path in enumerate((vcf, gz, bcf)):
        out = tmp_path / f"e{k}.tsv"
        rc, err = run_main(main, ["-m", fake_model, "--genome", fa, "--variants", path, "-o", out], capsys)
        assert rc == 0, err
        texts.append(out.read_text())
    assert texts[0] == texts[1] == texts[2]
    head = texts[0].splitlines()[0].lstrip("#").split("\t")
    assert head[:6] == ["chrom", "pos", "id", "ref", "alt", "filter"] and head[-1] == "cpg_change"
    assert "rows (variant, CpG) from 12 alleles of 12 VCF records" in err[-1]


def test_ref_mismatch_one_line_or_counted(tmp_path, capsys, fake_model, inputs):
    seq, fa, vcf = inputs
    bad = tmp_path / "bad.vcf"
    lines = vcf.read_text().splitlines(True)
    flip = {"A": "C", "C": "G", "G": "T", "T": "A"}
    body = []
    for ln in lines[3:]:
        f = ln.split("\t")
        f[3] = flip[f[3]]
        f[4] = flip[f[3]]
        body.append("\t".join(f))
    bad.write_text("".join(lines[:3] + body[:2] + lines[5:]))
    out = tmp_path / "e.tsv"
    rc, err = run_main(main, ["-m", fake_model, "--genome", fa, "--variants", bad, "-o", out], capsys)
    assert rc == 1 and len(err) == 1 and "REF disagrees with the genome" in err[0] and "Traceback" not in err[0]
    assert "chrT:21" in err[0] and not out.exists()
    rc, err = run_main(
        main, ["-m", fake_model, "--genome", fa, "--variants", bad, "--skip-ref-mismatch", "-o", out], capsys
    )
    assert rc == 0 and "2 REF disagrees with the genome" in err[-1]
    text = out.read_text()
    assert "\tv20\t" not in text and "\tv43\t" not in text and text.count("\n") > 2


def test_context_model_refused_in_one_line(tmp_path, capsys, inputs):
    seq, fa, vcf = inputs
    rc, err = run_main(
        main,
        ["-m", bundled("model_small_context.keras"), "--genome", fa, "--variants", vcf, "-o", tmp_path / "e"],
        capsys,
    )
    assert rc == 2 and len(err) == 1 and "observed neighbours" in err[0]


def test_variants_need_a_model_and_a_genome(tmp_path, capsys, inputs):
    seq, fa, vcf = inputs
    rc, err = run_main(main, ["--baseline", "neighbours", "--genome", fa, "--variants", vcf], capsys)
    assert rc == 2 and len(err) == 1


@pytest.mark.slow
@pytest.mark.parametrize("model", ["model_small.keras", "model_small_gbr.skops"])
def test_real_models_batch_size_independent(tmp_path, capsys, model):
    fa = bundled("22_20-21M.fa")
    seq = "".join(ln.strip() for ln in open(fa) if not ln.startswith(">")).upper()
    off = 20_000_000
    rows = [
        f"chr22\t{off + i + 1}\tv{i}\t{seq[i]}\t{'A' if seq[i] != 'A' else 'C'}\t.\tPASS\t.\n"
        for i in range(100_000, 130_000, 997)
    ]
    vcf = tmp_path / "v.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "".join(rows))
    texts = []
    for bs, cs in ((2048, 65536), (7, 300)):
        out = tmp_path / f"e{bs}.tsv"
        argv = [
            "-m",
            bundled(model),
            "--genome",
            fa,
            "--variants",
            vcf,
            "-o",
            out,
            "--batch-size",
            bs,
            "--chunk-size",
            cs,
        ]
        rc, err = run_main(main, argv, capsys)
        assert rc == 0, err
        texts.append(out.read_text())
    assert texts[0] == texts[1] and texts[0].count("\n") > len(rows)


def test_real_indels_and_multiallelic_record(tmp_path, capsys, monkeypatch):
    """Debian vt-examples on hg19 chr20: one insertion written two ways scores alike; a multi-allelic record splits."""
    meta = {"arch": "kmer-gbr", "flank": 200}
    monkeypatch.setattr(variants_module, "read_model_meta", lambda path: dict(meta))
    monkeypatch.setattr(variants_module, "load_model", lambda path, **kw: (FakeModel(), dict(meta)))
    fake_model = "fake.skops"
    for name in ("20_46.65-46.7M.fa", "vt_chr20_46.65-46.7M.vcf.gz"):
        shutil.copy(bundled("variants", name), tmp_path / name)
    out = tmp_path / "e.tsv"
    argv = ["-m", fake_model, "--genome", tmp_path / "20_46.65-46.7M.fa", "--variants"]
    rc, err = run_main(main, [*argv, tmp_path / "vt_chr20_46.65-46.7M.vcf.gz", "-o", out], capsys)
    assert rc == 0 and "from 3 alleles of 3 VCF records" in err[-1]
    rows = [ln.split("\t") for ln in out.read_text().splitlines()[1:]]
    two_ways = {p: [r[6:] for r in rows if r[1] == p] for p in ("46687122", "46687123")}
    assert two_ways["46687122"] and two_ways["46687122"] == two_ways["46687123"]
    assert {r[0] for r in rows} == {"20"} and all(r[4] in ("CTCC", "TTA", "TAT") for r in rows)
    alleles = [
        (v.ref_text, v.alt_text, v.start, len(v.ref), len(v.alt))
        for v in VariantReader(str(bundled("variants", "vt_decompose_multi.vcf")))
    ]
    assert alleles == [("TG", "TGG", 1219477, 0, 1), ("TG", "T", 1219477, 1, 0)]


@pytest.mark.slow
def test_rc_augment_model_deltas_equal_genome_mode(tmp_path, capsys):
    """A model trained with --rc-augment (both orientations averaged): the deltas are genome mode's on the mutated
    genome, CpG by CpG."""
    model = tmp_path / "rc.keras"
    argv = [bundled("train_small.npz"), "--arch", "simple-cnn", *TINY_KERAS, "--rc-augment", "--seed", "1", "-o", model]
    assert run_quietly(train, argv)[0] == 0
    fa = bundled("22_20-21M.fa")
    head, *lines = open(fa).read().splitlines()
    seq = "".join(lines)
    off, i = 20_000_000, 100_000
    while seq[i : i + 2] != "CG":
        i += 1
    q = i + 7  # a SNV 7 bp downstream of the C
    alt = "A" if seq[q].upper() != "A" else "C"
    vcf = tmp_path / "v.vcf"
    vcf.write_text(HEADER.replace("chrT", "chr22") + f"chr22\t{off + q + 1}\tx\t{seq[q]}\t{alt}\t.\tPASS\t.\n")
    mutated = tmp_path / "alt.fa"
    mutated.write_text(head + "\n" + seq[:q] + alt + seq[q + 1 :] + "\n")
    rc, err = run_main(main, ["-m", model, "--genome", fa, "--variants", vcf, "-o", tmp_path / "e.tsv"], capsys)
    assert rc == 0, err
    region = f"chr22:{off + q - 400}-{off + q + 400}"
    levels = {}
    for name, genome in (("ref", tmp_path / "ref.fa"), ("alt", mutated)):
        if name == "ref":
            shutil.copy(fa, genome)
        out = tmp_path / f"{name}.tsv"
        assert run_main(main, ["-m", model, "--genome", genome, "--region", region, "-o", out], capsys)[0] == 0
        levels[name] = {int(r.split("\t")[1]): r.split("\t")[4] for r in out.read_text().splitlines()[1:]}
    rows = [r.split("\t") for r in (tmp_path / "e.tsv").read_text().splitlines()[1:]]
    assert any(int(r[6]) == off + i for r in rows)
    for r in rows:
        s = int(r[6])
        assert (r[9], r[10]) == (levels["ref"][s], levels["alt"][s])


@pytest.mark.parametrize(
    "extra, named",
    [
        (["--shard", "1/2"], "--shard"),
        (["--output-format", "bedgraph"], "--output-format"),
        (["--out-dir", "d"], "--out-dir"),
    ],
)
def test_options_of_predictions_refused_with_variants(tmp_path, capsys, extra, named):
    argv = ["-m", bundled("model_small.keras"), "--genome", "g.fa", "--variants", "v.vcf", "-o", tmp_path / "e.tsv"]
    rc, err = run_main(main, [*argv, *extra], capsys)
    assert rc == 2 and len(err) == 1 and named in err[0] and "does not apply" in err[0]
    assert not (tmp_path / "e.tsv").exists()
