"""Genome-mode shards: ``--shard I/N`` parts concatenate to the unsharded predictions byte for byte, on a small
genome of several chromosomes (one without any CpG), whatever N, strands kept or not, with and without regions."""

import numpy as np
import pytest
from helpers import TEST_DATA

from mrcnn_tools.genome.fasta import Genome
from mrcnn_tools.genome.regions import IntervalSet
from mrcnn_tools.prediction import predict as predict_module
from mrcnn_tools.prediction.genome_sites import GenomeSites
from mrcnn_tools.prediction.options import PredictOptions
from mrcnn_tools.prediction.predict import predict_to_files

MODEL = str(TEST_DATA / "model_small_gbr.skops")  # its metadata; its model is replaced by WindowHash below


class WindowHash:
    """A stand-in predictor (no model to load or run in a fast test) whose value depends on every base of the
    window and its place: a window cut at the wrong place or from the wrong strand changes the output."""

    def __init__(self, model, meta, **kw):
        self.flank = int(meta["flank"])

    def predict_rows(self, rows):
        codes = rows.windows().astype(np.float64)
        weights = np.sin(np.arange(codes.shape[1]) + 1.0)
        return (0.5 + 0.5 * np.tanh(codes @ weights / 10)).astype(np.float32)


@pytest.fixture(scope="module")
def genome(tmp_path_factory):
    rng = np.random.default_rng(11)
    seqs = {
        "chrA": "".join(rng.choice(list("ACGTacgN"), 1500)),
        "chrNone": "AT" * 300,
        "chrB": "".join(rng.choice(list("ACGT"), 700)),
        "chrC": "CG" + "".join(rng.choice(list("CGTA"), 400)) + "CG",
    }
    fa = tmp_path_factory.mktemp("shards") / "three.fa"
    fa.write_text(
        "".join(f">{k}\n" + "\n".join(v[i : i + 70] for i in range(0, len(v), 70)) + "\n" for k, v in seqs.items())
    )
    return fa


def all_sites(genome, **kw):
    return [(c, p, s) for c, pos, strand in GenomeSites(genome, **kw).chunks(64) for p, s in zip(pos, strand)]


@pytest.mark.parametrize("keep_strands", [False, True])
def test_shard_sites_partition_the_genome(genome, keep_strands):

    genome = Genome(str(genome))
    whole = all_sites(genome, keep_strands=keep_strands)
    assert len(whole) > 150 and {c for c, _, _ in whole} == {"chrA", "chrB", "chrC"}
    regions = IntervalSet([("chrA", 100, 900), ("chrC", 0, 50)])
    within = all_sites(genome, keep_strands=keep_strands, regions=regions)
    assert 0 < len(within) < len(whole)
    for n in (1, 3, 7):
        parts = [all_sites(genome, keep_strands=keep_strands, shard=(i, n)) for i in range(1, n + 1)]
        assert [x for p in parts for x in p] == whole
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
    for n in (3, 7):
        parts = [all_sites(genome, keep_strands=keep_strands, regions=regions, shard=(i, n)) for i in range(1, n + 1)]
        assert [x for p in parts for x in p] == within
    few = IntervalSet([("chrB", 0, 60)])  # more shards than sites: some are empty
    within = all_sites(genome, keep_strands=keep_strands, regions=few)
    n = len(within) + 3
    parts = [all_sites(genome, keep_strands=keep_strands, regions=few, shard=(i, n)) for i in range(1, n + 1)]
    assert [x for p in parts for x in p] == within and [] in parts


@pytest.mark.parametrize("fmt", ["bedgraph", "tsv"])
def test_shard_outputs_concatenate_to_the_whole_byte_for_byte(genome, tmp_path, fmt, monkeypatch):

    monkeypatch.setattr(predict_module, "load_model", lambda path, threads=None: (None, {"flank": 50}))
    monkeypatch.setattr(predict_module, "Predictor", WindowHash)

    def run(name, **kw):
        out = tmp_path / name
        opts = PredictOptions(output_format=fmt, chunk_size=50, keep_strands=fmt == "tsv", **kw)
        predict_to_files(MODEL, genome_path=str(genome), output=str(out), options=opts)
        data = out.read_bytes()
        return data.split(b"\n", 1)[1] if fmt == "tsv" else data  # the TSV header once

    whole = run("whole")
    assert whole.count(b"\n") > 150
    for n in (1, 3, 7):
        assert b"".join(run(f"s{i}.{n}", shard=(i, n)) for i in range(1, n + 1)) == whole
