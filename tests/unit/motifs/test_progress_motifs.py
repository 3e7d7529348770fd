"""Progress of mrcnn-filters2meme (issue 22): its groups, and Tomtom per query motif (~4 min on big runs), as log
lines without a terminal (the interval made tiny here through $MRCNN_PROGRESS_INTERVAL), nothing with -q; Tomtom in
chunks of queries gives the p-values of one call."""

import logging
import re

import numpy as np
import pytest
from helpers import bundled, run_main

from mrcnn_tools.cli.filters2meme import main as filters2meme
from mrcnn_tools.motifs import tomtom as motif_match
from mrcnn_tools.motifs.pwm import Motif, jaspar_motifs
from mrcnn_tools.progress import INTERVAL_VARIABLE


@pytest.fixture
def every_update(monkeypatch):
    """A log line at every update (interval 0), whatever the caller's environment says."""
    monkeypatch.setenv(INTERVAL_VARIABLE, "0")


def _motifs(n, seed=0):
    rng = np.random.default_rng(seed)
    return [Motif(f"m{i}", rng.dirichlet(np.full(4, 0.5), size=int(rng.integers(8, 16))), 10, "x") for i in range(n)]


def test_tomtom_reports_each_chunk_of_query_motifs(every_update, monkeypatch, caplog):
    """A stand-in for memelite's tomtom whose answer for a query depends on that query only: the chunks (2 queries
    each here) are put back in order, and each chunk is one log line with the motifs done of all."""
    calls = []

    def tomtom(queries, targets):
        calls.append(len(queries))
        p = np.array([[q.sum() * (j + 1) for j in range(len(targets))] for q in queries])
        offsets = np.array([[q.shape[1] + j for j in range(len(targets))] for q in queries])
        return p, p * 2, offsets, offsets + 1, offsets % 2 == 0

    pytest.importorskip("memelite")
    monkeypatch.setattr("memelite.tomtom", tomtom)
    motifs, database = _motifs(5), _motifs(3, seed=1)
    with caplog.at_level(logging.INFO, logger="mrcnn_tools"):
        chunked = motif_match.tomtom_pvalues(motifs, database, chunk=2)
    assert calls == [2, 2, 1]
    lines = [r.getMessage() for r in caplog.records]
    assert [re.match(r"Tomtom: (\d)/5 motif \(", ln)[1] for ln in lines] == ["2", "4", "5"], lines
    whole = motif_match.tomtom_pvalues(motifs, database, chunk=5)
    assert calls[3:] == [5]
    assert all(np.array_equal(a, b) for a, b in zip(chunked, whole))
    assert chunked[0].shape == (5, 3) and chunked[3].dtype == bool


@pytest.mark.slow
def test_tomtom_in_chunks_gives_the_p_values_of_one_call():
    """memelite itself: query motifs one at a time give the p-values, offsets, overlaps and strands of one call over
    all of them, bit for bit (its targets are the background; each query is scored alone)."""
    motifs, database = _motifs(6), jaspar_motifs()[:200]
    one_by_one = motif_match.tomtom_pvalues(motifs, database, chunk=1)
    at_once = motif_match.tomtom_pvalues(motifs, database, chunk=len(motifs))
    assert all(np.array_equal(a, b) for a, b in zip(one_by_one, at_once))


def test_filters2meme_logs_its_groups_and_quiet_silences_them(every_update, tmp_path, capsys):
    argv = ["-m", bundled("model_small.keras"), bundled("train_small.npz"), "--sites-per-group", "30"]
    rc, err = run_main(filters2meme, [*argv, "--n-motifs", "1", "--out-dir", tmp_path / "shown"], capsys)
    assert rc == 0, err
    groups = [
        m[1] for m in (re.match(r"mrcnn-filters2meme: motifs \(attribution\): (\d)/3 group", ln) for ln in err) if m
    ]
    assert groups == ["1", "2", "3"], err
    rc, quiet = run_main(filters2meme, [*argv, "-q", "--n-motifs", "1", "--out-dir", tmp_path / "quiet"], capsys)
    assert rc == 0 and quiet == [], quiet
