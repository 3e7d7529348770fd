"""The demo's summary (examples/demo_summary.py) and its output check (examples/check-demo.sh), on metrics written
by hand: 3 significant digits, each model's figures above its references, the IMR90 line with the measured numbers
of docs/REPRODUCTION.md. The whole demo and the check on its real outputs run in CI (.ci/run) and make test-slow."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADER = (
    "## mrcnn-eval: 3 models\n#model\tgroup\tn\trmse\tmae\tpearson\tspearman\tr2\tn_pos\tn_neg\tsensitivity"
    "\tspecificity\taccuracy\tauc\tauprc\tmcc\n"
)


def _metrics(path, rows):
    path.parent.mkdir(parents=True)
    lines = [
        f"{m}\t{g}\t{n}\t{rmse}\t0.2\t0.5\t0.5\t0.1\t10\t10\t0.5\t0.5\t0.5\t{auc}\t0.5\t0.1"
        for m, g, n, rmse, auc in rows
    ]
    path.write_text(HEADER + "\n".join(lines) + "\n")


def _summary(out):
    p = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo_summary.py"), str(out)], capture_output=True, text=True
    )
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_summary_three_digits_and_references(tmp_path):
    rows = []
    for m, rmse, auc in (("mrcnn", 0.3356669874, 0.9210903874), ("kmer-gbr", 0.273511089, 0.9473188666)):
        rows += [(m, "all", 532, rmse, auc), (m, "cgi", 317, 0.25, 0.8462719298), (m, "non-cgi", 215, 0.43, "NA")]
    rows += [("neighbours", "all", 532, 0.2921, 0.932), ("neighbours", "hyper", 125, 0.5, "NA")]
    _metrics(tmp_path / "h1_chr20" / "eval" / "metrics.tsv", rows)
    text = _summary(tmp_path)
    assert not re.search(r"\d\.\d{4,}", text), text
    lines = text.splitlines()
    mrcnn = next(ln for ln in lines if ln.startswith("  mrcnn "))
    assert mrcnn.split()[1:] == ["0.921", "0.336", "0.846", "-"]
    order = [ln.split("  ")[1] for ln in lines if ln.startswith("  ") and not ln.startswith("  model")]
    assert order[:3] == ["mrcnn", "k-mer GBR (reference)", "neighbour average (reference)"], order
    assert "paper: MRCNN, H1 WGBS, random split" in text and "0.960       0.970" in text
    assert "What it means" not in text  # the IMR90 line belongs to the IMR90 sections only


def test_imr90_line_quotes_the_reproduction_report(tmp_path):
    rows = [("mrcnn", "all", 17885, 0.312, 0.635), ("neighbours", "all", 17885, 0.2, 0.904)]
    _metrics(tmp_path / "imr90_chr22" / "eval" / "metrics.tsv", rows)
    text = _summary(tmp_path)
    line = next(ln for ln in text.splitlines() if "What it means" in ln)
    report = (ROOT / "docs" / "REPRODUCTION.md").read_text(encoding="utf-8")
    for model in ("mrcnn-context", "neighbours"):
        m = re.search(rf"^\| 1 \| {model} \| ([0-9.]+)", report, re.M)
        if m:  # only numbers the report has are quoted
            assert m.group(1) in line, (model, line)
    assert "--context" in line


def test_summary_of_nothing_fails(tmp_path):
    p = subprocess.run([sys.executable, str(ROOT / "examples" / "demo_summary.py"), str(tmp_path)], capture_output=True)
    assert p.returncode == 1


def test_check_demo_lists_what_is_missing(tmp_path):
    (tmp_path / "quick").mkdir()
    p = subprocess.run(
        ["bash", str(ROOT / "examples" / "check-demo.sh"), str(tmp_path)],
        capture_output=True,
        text=True,
        env={"QUICK": "1", "PATH": "/usr/bin:/bin"},
    )
    assert p.returncode == 1
    assert "quick/mrcnn.keras: missing or empty" in p.stderr and "summary.txt: missing or empty" in p.stderr
