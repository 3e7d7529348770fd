"""The summary that examples/demo.sh prints: each model's test figures beside their references.

Usage: python3 examples/demo_summary.py OUTDIR > OUTDIR/summary.txt

Reads OUTDIR/{h1_chr20,imr90_chr22,quick}/eval/metrics.tsv (whichever exist, as mrcnn-eval wrote them) and prints,
per data set, one table of ROC AUC and RMSE on all test sites and AUC on CpG-island / other sites, 3 significant
digits. Under each model's figures stand its references: the k-mer GBR model and the neighbour average (the
imputation that needs no training: mrcnn-predict --baseline neighbours), both measured in the same run on the same
sites, and the paper's figure where one is comparable. Standard library only.
"""

import csv
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPRODUCTION = HERE.parent / "docs" / "REPRODUCTION.md"

# Tian et al. 2019 (Results): MRCNN trained on H1 WGBS, ~10M CpGs, random site split. AUC on island / other
# sites of H1, and on the lung tissue it was applied to (no per-island figure there). Not recomputed here.
PAPER = {
    "h1": ("paper: MRCNN, H1 WGBS, random split", {"auc_cgi": 0.96, "auc_non_cgi": 0.97}),
    "imr90": ("paper: MRCNN from H1, lung tissue", {"auc": 0.925}),
}

SECTIONS = [
    ("h1_chr20", "h1", "H1 RRBS (ENCODE), hg19 chr20: trained below 45 Mb, tested above (region split)"),
    ("imr90_chr22", "imr90", "IMR90 WGBS (Lister 2009), hg19 chr22: trained below 31 Mb, tested on 32.1-35 Mb"),
    ("quick", "imr90", "quick: IMR90 WGBS on 1 Mb of chr22 (one epoch): trained below 20.5 Mb, tested above 20.61 Mb"),
]
# (column title, metrics.tsv group, metrics.tsv column)
COLUMNS = [
    ("ROC AUC", "all", "auc"),
    ("RMSE", "all", "rmse"),
    ("AUC island", "cgi", "auc"),
    ("AUC other", "non-cgi", "auc"),
]
PAPER_KEYS = {("all", "auc"): "auc", ("cgi", "auc"): "auc_cgi", ("non-cgi", "auc"): "auc_non_cgi"}
REFERENCES = {"kmer-gbr": "k-mer GBR (reference)", "neighbours": "neighbour average (reference)"}


def sig3(value):
    """3 significant digits, trailing zeros kept (0.900, 0.0512); '-' for no value."""
    if value is None or value != value:
        return "-"
    return f"{value:#.3g}"


def read_metrics(path):
    """{model: {(group, column): float or None}} and {model: n of 'all'} from a metrics.tsv."""
    rows = [r for r in csv.reader(path.open(), delimiter="\t") if r and not r[0].startswith("##")]
    header = [h.lstrip("#") for h in rows[0]]
    table, n = {}, {}
    for row in rows[1:]:
        rec = dict(zip(header, row))
        cells = table.setdefault(rec["model"], {})
        for key, val in rec.items():
            if key not in ("model", "group"):
                cells[(rec["group"], key)] = None if val in ("NA", "") else float(val)
        if rec["group"] == "all":
            n[rec["model"]] = int(float(rec["n"]))
    return table, n


def reproduction_auc(section, model):
    """The mean ROC AUC that docs/REPRODUCTION.md's imputation table gives *model* with all neighbours kept
    (``| 1 | model | 0.917 ± 0.001 |``), or None where the report has no such row."""
    if not REPRODUCTION.exists():
        return None
    text = REPRODUCTION.read_text(encoding="utf-8")
    start = text.find(f"## {section}")
    if start < 0:
        return None
    m = re.search(rf"^\| 1 \| {re.escape(model)} \| ([0-9.]+)", text[start:], re.M)
    return m.group(1) if m else None


def reproduction_sequence_auc():
    """mrcnn's region-split ROC AUC on IMR90 from docs/REPRODUCTION.md (``| mrcnn | all (n=...) | ... | AUC |``)."""
    if not REPRODUCTION.exists():
        return None
    text = REPRODUCTION.read_text(encoding="utf-8")
    start = text.find("## IMR90 WGBS, chr22: region split")
    if start < 0:
        return None
    m = re.search(r"^\| mrcnn \| all \(n=\d+\) \|.*\| ([0-9.]+ ± [0-9.]+) \|$", text[start:], re.M)
    return m.group(1) if m else None


def imr90_meaning():
    """One line: what the IMR90 figures mean, quoting docs/REPRODUCTION.md's measured numbers where it has them."""
    rep_seq = reproduction_sequence_auc()
    rep_ctx, rep_nb = (reproduction_auc("Imputation", m) for m in ("mrcnn-context", "neighbours"))
    line = "  What it means: IMR90's WGBS levels follow the sequence only weakly; sequence alone cannot do much better"
    if rep_seq:
        line += f" (docs/REPRODUCTION.md, 3 seeds: mrcnn ROC AUC {rep_seq})"
    line += "; the observed neighbours can"
    if rep_ctx and rep_nb:
        line += f" (there: neighbour average {rep_nb}, --arch mrcnn-context {rep_ctx})"
    return line + ": impute with mrcnn-encode --context (README, 'Imputation from neighbours and sequence')."


def section_lines(title, kind, table, n):
    models = [m for m in table if m not in REFERENCES] + [m for m in REFERENCES if m in table]
    width = max(len(REFERENCES.get(m, m)) for m in models)
    width = max(width, len(PAPER[kind][0]))
    counts = sorted(set(n.values()))
    sites = "/".join(f"{c:,}" for c in counts)
    lines = [f"{title}; {sites} test CpGs", "  " + "model".ljust(width) + "".join(f"{c[0]:>12}" for c in COLUMNS)]
    for m in models:
        cells = "".join(f"{sig3(table[m].get((g, col))):>12}" for _, g, col in COLUMNS)
        lines.append("  " + REFERENCES.get(m, m).ljust(width) + cells)
    label, figures = PAPER[kind]
    cells = "".join(f"{sig3(figures.get(PAPER_KEYS.get((g, col)))):>12}" for _, g, col in COLUMNS)
    lines.append("  " + label.ljust(width) + cells)
    if kind == "imr90":
        lines.append(imr90_meaning())
    return lines


def main(argv):
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    out = Path(argv[0])
    lines = [
        "Test sites; ROC AUC: higher is better (0.5 = no information), RMSE: lower is better. Under each data set's",
        "models stand their references: k-mer GBR and the neighbour average (no training) on the same sites, and",
        "the paper's figure where one is comparable (its data and split differ: docs/REPRODUCTION.md).",
    ]
    found = False
    for folder, kind, title in SECTIONS:
        path = out / folder / "eval" / "metrics.tsv"
        if path.exists():
            found = True
            table, n = read_metrics(path)
            lines += ["", *section_lines(title, kind, table, n)]
    if not found:
        print(f"demo_summary: no */eval/metrics.tsv under {out}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
