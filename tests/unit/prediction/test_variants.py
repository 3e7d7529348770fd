"""Variant effects (prediction/variants.py, vcf.py, variant_null.py): VCF reading, the CpGs and windows of both
alleles against a naive reference that builds the alternative chromosome by hand, deltas equal to genome-mode
predictions on the mutated genome, independence of chunk and batch sizes, REF mismatches, the null."""

import gzip

import numpy as np
import pytest

from mrcnn_tools.encoding import C, G, encode_bytes, extract_windows, find_cpgs
from mrcnn_tools.errors import GenomeMismatchError, InputFormatError, UsageError
from mrcnn_tools.prediction import predict as predict_module
from mrcnn_tools.prediction import variants as variants_module
from mrcnn_tools.prediction.options import PredictOptions
from mrcnn_tools.prediction.predict import predict_to_files
from mrcnn_tools.prediction.variant_null import percentiles
from mrcnn_tools.prediction.variants import check_variant_model, variant_effects_to_file, variant_sites
from mrcnn_tools.prediction.vcf import Variant, VariantReader, trim

FLANK = 6
HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def write_vcf(path, rows, header=HEADER):
    path.write_text(header + "".join("\t".join(map(str, r)) + "\n" for r in rows))
    return str(path)


def variant(pos0, ref, alt, chrom="c"):
    start, r, a = trim(pos0, ref, alt)
    return Variant(chrom, pos0 + 1, ".", ref, alt, "PASS", start, encode_bytes(r), encode_bytes(a))


class FakeModel:
    """A k-mer "model" that is a fixed function of the features: cheap, deterministic, row-independent."""

    def predict(self, x):
        w = np.cos(np.arange(x.shape[1]) * 0.37)
        return 1 / (1 + np.exp(-(x @ w) / 10))


META = {"arch": "kmer-gbr", "flank": FLANK}


@pytest.fixture
def fake_model(monkeypatch):
    for module in (variants_module, predict_module):
        monkeypatch.setattr(module, "read_model_meta", lambda path: dict(META))
        monkeypatch.setattr(module, "load_model", lambda path, **kw: (FakeModel(), dict(META)))
    return "fake.skops"


def test_trim_and_multiallelic_split(tmp_path):
    assert trim(9, "TG", "TGG") == (10, "", "G")  # a G inserted before the G at 10
    assert trim(9, "CTGG", "C") == (10, "TGG", "")
    assert trim(9, "A", "G") == (9, "A", "G")
    vcf = write_vcf(
        tmp_path / "v.vcf",
        [
            ("1", 10, "rs1", "TG", "TGG,T", ".", "PASS", "."),
            ("1", 20, ".", "A", "<DEL>", ".", "q10", "."),
            ("1", 30, "x", "C", "T", ".", ".", "."),
        ],
        header='##fileformat=VCFv4.2\n##FILTER=<ID=q10,Description="q">\n##contig=<ID=1>\n' + HEADER.split("\n", 1)[1],
    )
    reader = VariantReader(vcf)
    got = [(v.pos, v.id, v.ref_text, v.alt_text, v.filter, v.start, len(v.ref), len(v.alt)) for v in reader]
    assert got == [
        (10, "rs1", "TG", "TGG", "PASS", 10, 0, 1),
        (10, "rs1", "TG", "T", "PASS", 10, 1, 0),
        (30, "x", "C", "T", ".", 29, 1, 1),
    ]
    assert reader.records == 3 and reader.skipped == {"symbolic ALT": 1}


def naive_sites(codes, v, flank, keep_strands):
    """The reference: the whole alternative chromosome built base by base, each base labelled with its reference
    position (inserted bases: the first reference base after them; substituted bases keep theirs)."""
    p, ref, alt = v.start, list(v.ref), list(v.alt)
    seq = [(int(b), i, i) for i, b in enumerate(codes[:p])]  # (code, place, reference index or -1)
    for k, b in enumerate(alt):
        seq.append((int(b), p + k if k < len(ref) else p + len(ref), -1))
    seq += [(int(b), p + len(ref) + i, p + len(ref) + i) for i, b in enumerate(codes[p + len(ref) :])]
    alt_codes = np.array([b for b, _, _ in seq], np.uint8)
    changed = set(range(p, p + len(ref)))

    def sites(c):
        cg = [int(x) for x in find_cpgs(c)]
        return [(x, 0) for x in cg] if not keep_strands else [s for x in cg for s in ((x, 1), (x + 1, -1))]

    def touches(s, ref_allele):
        window = set(range(s - flank, s + flank + 1))
        if ref_allele:
            return bool(changed & window) if changed else (p - 1 in window and p in window)
        # alternative allele: the alternative bases (or the junction of a deletion) in the window
        idx = [i for i, (_, _, r) in enumerate(seq) if r == -1]
        if idx:
            return bool(set(idx) & window)
        return (p - 1) in window and p in window

    alt_index = {r: i for i, (_, _, r) in enumerate(seq) if r >= 0}
    alt_sites = set(sites(alt_codes))
    rows, paired = [], set()
    for s, st in sites(codes):
        j = alt_index.get(s)
        has_alt = j is not None and (j, st) in alt_sites and s not in changed
        if has_alt:
            paired.add((j, st))
        if touches(s, True) or (has_alt and touches(j, False)):
            ref_w = extract_windows(codes, [s], flank, [st])[0]
            alt_w = extract_windows(alt_codes, [j], flank, [st])[0] if has_alt else None
            rows.append((s, st, ref_w, alt_w))
    for j, st in sorted(alt_sites - paired):
        if touches(j, False):
            rows.append((seq[j][1], st, None, extract_windows(alt_codes, [j], flank, [st])[0]))
    return sorted(rows, key=lambda r: (r[0], -r[1]))


@pytest.mark.parametrize("keep_strands", [False, True])
def test_sites_and_windows_match_a_naive_alt_haplotype(keep_strands):
    rng = np.random.default_rng(5)
    for trial in range(60):
        codes = rng.choice(4, size=60, p=[0.2, 0.3, 0.3, 0.2]).astype(np.uint8)
        p0 = int(rng.integers(5, 50))
        r, a = (int(x) for x in rng.integers(0, 4, size=2))
        ref = "".join("TCGA"[c] for c in codes[p0 : p0 + max(r, 1)])
        alt = (
            ref[0] + "".join("TCGA"[c] for c in rng.integers(0, 4, size=a))
            if r != 1 or a
            else "TCGA"[(codes[p0] + 1) % 4]
        )
        if ref == alt:
            continue
        v = variant(p0, ref, alt)
        rows, ref_w, alt_w = variant_sites(codes, v, FLANK, keep_strands)
        want = naive_sites(codes, v, FLANK, keep_strands)
        assert [(s, st) for s, st, _, _ in rows] == [(s, st) for s, st, _, _ in want], (trial, ref, alt)
        for (s, st, i, j), (_, _, rw, aw) in zip(rows, want):
            assert (i < 0) == (rw is None) and (j < 0) == (aw is None)
            if rw is not None:
                np.testing.assert_array_equal(ref_w[i], rw)
            if aw is not None:
                np.testing.assert_array_equal(alt_w[j], aw)


def test_lost_and_gained_cpgs_hand_checked():
    codes = encode_bytes("AAAAAACGAAAAAATAAAAA")  # one CpG, C at 6
    rows, ref_w, alt_w = variant_sites(codes, variant(6, "C", "T"), FLANK)
    assert [(s, i >= 0, j >= 0) for s, _, i, j in rows] == [(6, True, False)]  # lost
    rows, _, _ = variant_sites(codes, variant(11, "A", "G"), FLANK)  # in the window of the CpG at 6: kept
    assert [(s, i >= 0, j >= 0) for s, _, i, j in rows] == [(6, True, True)]
    rows, _, alt_w = variant_sites(codes, variant(14, "T", "C"), FLANK)  # C at 14 before an A: nothing gained
    assert [s for s, *_ in rows] == []  # beyond the window of the CpG at 6
    codes2 = encode_bytes("AAAAAACGAAAAAACAAAAA")
    rows, _, alt_w = variant_sites(codes2, variant(15, "A", "G"), FLANK)  # C at 14, G at 15: gained at 14
    assert [(s, i >= 0, j >= 0) for s, _, i, j in rows] == [(14, False, True)]  # 15 is beyond the window of 6
    assert alt_w[0][FLANK] == G and alt_w[0][FLANK - 1] == 3  # the G right after the site, an A before it
    assert codes2[14] == C


def fasta(path, seq, name="chrT"):
    path.write_text(f">{name}\n" + "\n".join(seq[i : i + 50] for i in range(0, len(seq), 50)) + "\n")
    return str(path)


def table(path):
    lines = [ln.rstrip("\n").split("\t") for ln in open(path)]
    head = [h.lstrip("#") for h in lines[0]]
    return [dict(zip(head, row)) for row in lines[1:]]


def genome_levels(path, out, keep_strands=False):
    predict_to_files("fake.skops", genome_path=path, output=str(out), options=PredictOptions(keep_strands=keep_strands))
    return {(int(r["start"]), r["strand"]): r["prediction"] for r in table(out)}


@pytest.fixture
def genome(tmp_path):
    rng = np.random.default_rng(11)
    seq = "".join(rng.choice(list("ACGT"), size=400, p=[0.2, 0.3, 0.3, 0.2]))
    return seq, fasta(tmp_path / "g.fa", seq)


def test_deltas_equal_genome_mode_on_the_mutated_genome(tmp_path, fake_model, genome):
    seq, ref_fa = genome
    cpgs = [i for i in range(20, 380) if seq[i : i + 2] == "CG"]
    cases = [  # (0-based position, REF, ALT)
        (cpgs[3] - 4, seq[cpgs[3] - 4], "A" if seq[cpgs[3] - 4] != "A" else "T"),  # a SNV
        (cpgs[6] - 3, seq[cpgs[6] - 3 : cpgs[6]], seq[cpgs[6] - 3]),  # a deletion of 2 bases
        (cpgs[9] + 4, seq[cpgs[9] + 4], seq[cpgs[9] + 4] + "TTA"),  # an insertion of 3 bases
    ]
    for k, (p0, ref, alt) in enumerate(cases):
        vcf = write_vcf(tmp_path / f"v{k}.vcf", [("chrT", p0 + 1, f"v{k}", ref, alt, ".", "PASS", ".")])
        out = tmp_path / f"e{k}.tsv"
        variant_effects_to_file(fake_model, ref_fa, vcf, str(out))
        alt_fa = fasta(tmp_path / f"alt{k}.fa", seq[:p0] + alt + seq[p0 + len(ref) :])
        before = genome_levels(ref_fa, tmp_path / "r.tsv")
        after = genome_levels(alt_fa, tmp_path / f"a{k}.tsv")
        shift = len(alt) - len(ref)
        rows = table(out)
        assert rows
        for row in rows:
            s = int(row["cpg_start"])
            x = s if s <= p0 else s + shift
            if row["cpg_change"] != "none":  # the level of the allele that has the CpG, the other one empty
                has, level = (
                    ("ref", before.get((s, "."))) if row["cpg_change"] == "lost" else ("alt", after.get((x, ".")))
                )
                assert row[f"{has}_prediction"] == level and row["delta"] == ""
                continue
            assert row["ref_prediction"] == before[(s, ".")]
            assert row["alt_prediction"] == after[(x, ".")]
            assert float(row["delta"]) == pytest.approx(float(after[(x, ".")]) - float(before[(s, ".")]), abs=2e-6)
        # every CpG within the flank of the variant is reported
        near = {s for s, _ in before if abs(s - (p0 + 1)) <= FLANK - 1}
        assert near <= {int(r["cpg_start"]) for r in rows}


def test_chunk_and_batch_size_do_not_change_the_table(tmp_path, fake_model, genome):
    seq, ref_fa = genome
    rows = [
        ("chrT", i + 1, f"s{i}", seq[i], "A" if seq[i] != "A" else "C", ".", "PASS", ".") for i in range(10, 390, 7)
    ]
    vcf = write_vcf(tmp_path / "v.vcf", rows)
    outs = []
    for chunk, batch in ((65536, 2048), (5, 3), (1, 1)):
        out = tmp_path / f"e{chunk}.tsv"
        variant_effects_to_file(
            fake_model, ref_fa, vcf, str(out), options=PredictOptions(chunk_size=chunk, batch_size=batch)
        )
        outs.append(out.read_text())
    assert outs[0] == outs[1] == outs[2] and outs[0].count("\n") > len(rows)


def test_ref_mismatch_stops_or_is_counted(tmp_path, fake_model, genome):
    seq, ref_fa = genome
    wrong = {b: "ACGT"[("ACGT".index(b) + 1) % 4] for b in "ACGT"}  # a REF that is not the genome's base
    bad = [("chrT", i + 1, f"b{i}", wrong[seq[i]], wrong[wrong[seq[i]]], ".", "PASS", ".") for i in (30, 60, 90, 120)]
    vcf = write_vcf(tmp_path / "bad.vcf", bad)
    with pytest.raises(GenomeMismatchError) as err:
        variant_effects_to_file(fake_model, ref_fa, vcf, str(tmp_path / "e.tsv"))
    msg = str(err.value)
    assert "\n" not in msg and "chrT:31" in msg and "another assembly" in msg and "--skip-ref-mismatch" in msg
    assert not (tmp_path / "e.tsv").exists()
    res = variant_effects_to_file(
        fake_model, ref_fa, vcf, str(tmp_path / "e.tsv"), options=PredictOptions(skip_ref_mismatch=True)
    )
    assert res.ref_mismatches == 4 and res.rows == 0 and "4 REF disagrees" in res.summary()


def test_chromosome_names_harmonised(tmp_path, fake_model, genome):
    seq, _ = genome
    ref_fa = fasta(tmp_path / "g22.fa", seq, name="22")
    i = next(i for i in range(20, 380) if seq[i : i + 2] == "CG")
    vcf = write_vcf(tmp_path / "v.vcf", [("chr22", i + 1, "x", "C", "T", ".", "PASS", ".")])
    variant_effects_to_file(fake_model, ref_fa, vcf, str(tmp_path / "e.tsv"))
    rows = table(tmp_path / "e.tsv")
    assert rows[0]["chrom"] == "chr22" and any(r["cpg_change"] == "lost" and int(r["cpg_start"]) == i for r in rows)
    other = write_vcf(tmp_path / "o.vcf", [("chr5", i + 1, "x", "C", "T", ".", "PASS", ".")])
    with pytest.raises(GenomeMismatchError, match="none of its chromosomes"):
        variant_effects_to_file(fake_model, ref_fa, other, str(tmp_path / "o.tsv"))


def test_null_percentiles_follow_the_seed(tmp_path, fake_model, genome):
    seq, ref_fa = genome
    rows = [
        ("chrT", i + 1, f"s{i}", seq[i], "A" if seq[i] != "A" else "C", ".", "PASS", ".") for i in range(10, 390, 9)
    ]
    vcf = write_vcf(tmp_path / "v.vcf", rows)
    texts = []
    for k, seed in enumerate((1, 1, 2)):
        out = tmp_path / f"n{k}.tsv"
        variant_effects_to_file(fake_model, ref_fa, vcf, str(out), seed=seed, options=PredictOptions(null=50))
        texts.append(out.read_text())
    assert texts[0] == texts[1]
    got = table(tmp_path / "n0.tsv")
    assert "percentile" in got[0]
    pct = [float(r["percentile"]) for r in got if r["delta"]]
    assert pct and all(0 <= x <= 100 for x in pct)
    assert all(r["percentile"] == "" for r in got if not r["delta"])
    np.testing.assert_array_equal(
        percentiles(np.array([0.1, 0.2, 0.3, 0.4]), [0.0, 0.2, 1.0, np.nan])[:3], [0, 50, 100]
    )


def test_context_models_are_refused():
    with pytest.raises(UsageError, match="observed neighbours"):
        check_variant_model({"arch": "context-only"}, "m.keras")
    with pytest.raises(UsageError, match="observed neighbours"):
        check_variant_model({"arch": "mrcnn-context"}, "m.keras")
    check_variant_model({"arch": "simple-cnn"}, "m.keras")


def test_plain_gzip_and_a_vcf_without_fileformat_line_are_read(tmp_path):
    body = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nc\t5\tx\tA\tG,T\t.\tPASS\t.\n"
    bare = tmp_path / "bare.vcf"
    bare.write_text(body)
    plain = tmp_path / "plain.vcf.gz"
    plain.write_bytes(gzip.compress((HEADER.split("\n", 1)[0] + "\n" + body).encode(), mtime=0))
    for path in (bare, plain):
        assert [(v.pos, v.alt_text) for v in VariantReader(str(path))] == [(5, "G"), (5, "T")]
    junk = tmp_path / "junk.vcf"
    junk.write_text("hello\n")
    with pytest.raises(InputFormatError, match="not a readable VCF/BCF file; give a VCF"):
        list(VariantReader(str(junk)))


@pytest.mark.parametrize("damage", ["truncated", "not a VCF"])
def test_a_bad_plain_gzip_vcf_leaves_no_temporary_copy(tmp_path, monkeypatch, damage):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    body = (
        b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        + b"22\t10\t.\tA\tC\t.\tPASS\t.\n" * 500
    )
    whole = gzip.compress(body)
    data = whole[: len(whole) // 2] if damage == "truncated" else gzip.compress(b"\x00\x01 not text" * 100)
    path = tmp_path / "v.vcf.gz"
    path.write_bytes(data)
    with pytest.raises(InputFormatError) as info:  # held, as a caller that reports it does: the copy is gone already
        list(VariantReader(str(path)))
    assert list(scratch.iterdir()) == [] and "not a readable" in str(info.value)
