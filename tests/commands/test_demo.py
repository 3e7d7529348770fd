"""The demo-quick path of examples/demo.sh, end to end on the real data in test-data/."""

import os
import subprocess
import sys

import pytest
from helpers import ROOT

pytestmark = pytest.mark.slow  # the whole pipeline through the installed commands


def test_demo_quick(tmp_path):
    env = dict(os.environ, QUICK="1", PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    out = tmp_path / "demo-output"
    p = subprocess.run(
        ["bash", str(ROOT / "examples" / "demo.sh"), str(out)], env=env, capture_output=True, text=True, timeout=900
    )
    assert p.returncode == 0, p.stderr[-2000:]
    d = out / "quick"
    for name in (
        "eval/metrics.tsv",
        "eval/roc.png",
        "motifs/motifs.meme",
        "region.bedGraph.gz",
        "region.bw",
        "mrcnn.keras",
        "kmer-gbr.skops",
    ):
        assert (d / name).stat().st_size > 0, name
    # the summary and every promised output, as CI checks the full demo (examples/check-demo.sh)
    check = subprocess.run(
        ["bash", str(ROOT / "examples" / "check-demo.sh"), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]
