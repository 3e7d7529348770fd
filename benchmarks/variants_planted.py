#!/usr/bin/env python
"""Variant effects on the planted-motif set (issue 26): do SNVs that break a planted CTCF instance lower the
predicted level of its CpG more than control SNVs at the same distance, and do the deltas equal genome-mode
predictions on the mutated genome? For both networks and three seeds; writes its section of docs/REPRODUCTION.md.

Inputs: the acceptance set ``../shared/acceptance/planted_ctcf`` (chrP.fa: 2,000 blocks of 1 kb of real hg19 sequence,
a CpG at offset 500 of each, a JASPAR MA0139.1 (CTCF) instance near it in the hyper blocks; calls.tsv) and
``planted_variants.py`` beside it (one SNV breaking each planted instance of blocks 1600-1999 at the motif's most
informative position, one control at the same distance on the other side); ``--acceptance DIR`` points elsewhere.
Per (network, seed): mrcnn-encode blocks 0-1599, mrcnn-train (--epochs 15 --val-fraction 0.2), mrcnn-predict
--variants, and genome-mode predictions of chrP:1600001-2000000 on the reference and on the genome with every
breaking (or every control) SNV applied. Figures: Pearson r of the tool's deltas with the genome-mode differences at
each block's CpG, ROC AUC of -delta for break vs control, median deltas.
Usage: python benchmarks/variants_planted.py [--seeds 1,2,3] [--archs simple-cnn,mrcnn] [--epochs 15] [--no-write]
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks._common import write_section  # noqa: E402

ACCEPTANCE = os.path.join(os.path.dirname(ROOT), "shared", "acceptance")
BIN = os.path.dirname(sys.executable)


def sh(*args):
    p = subprocess.run([os.path.join(BIN, args[0]), *map(str, args[1:])], capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(f"{args[0]}: {(p.stderr.strip().splitlines() or ['?'])[-1]}")


def table(path):
    rows = [r for r in csv.reader(open(path), delimiter="\t") if r and not r[0].startswith("##")]
    head = [x.lstrip("#").strip() for x in rows[0]]
    return [dict(zip(head, r)) for r in rows[1:]]


def apply_snvs(fa, vcf, kind, out):
    seq = list("".join(ln.strip() for ln in open(fa) if not ln.startswith(">")))
    for ln in open(vcf):
        if ln.startswith("#"):
            continue
        _, p, i, r, a = ln.split()[:5]
        if i.startswith(kind):
            assert seq[int(p) - 1].upper() == r
            seq[int(p) - 1] = a
    with open(out, "w") as f:
        f.write(">chrP\n" + "\n".join("".join(seq[i : i + 60]) for i in range(0, len(seq), 60)) + "\n")


def score(work, effects):
    from sklearn.metrics import roc_auc_score  # noqa: PLC0415 (heavy)

    g = {
        k: {int(r["start"]): float(r["prediction"]) for r in table(f"{work}/g_{k}.tsv")}
        for k in ("chrP", "break", "control")
    }
    tool, ref = {}, {}
    for r in table(effects):
        kind = "break" if r["id"].startswith("break") else "control"
        cpg = int(r["id"][len(kind) :]) * 1000 + 500
        if int(r["cpg_start"]) == cpg:
            tool[r["id"]], ref[r["id"]] = float(r["delta"]), g[kind][cpg] - g["chrP"][cpg]
    ids = sorted(tool)
    t, e = np.array([tool[i] for i in ids]), np.array([ref[i] for i in ids])
    lab = np.array([i.startswith("break") for i in ids])
    return {
        "r": float(np.corrcoef(t, e)[0, 1]),
        "auc": float(roc_auc_score(lab, -t)),
        "n": (int(lab.sum()), int((~lab).sum())),
        "median": (float(np.median(t[lab])), float(np.median(t[~lab]))),
        "max_abs_diff": float(np.abs(t - e).max()),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--acceptance", default=ACCEPTANCE)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--archs", default="simple-cnn,mrcnn")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/REPRODUCTION.md as it is")
    args = ap.parse_args(argv)
    planted = os.path.join(args.acceptance, "planted_ctcf")
    maker = os.path.join(args.acceptance, "planted_variants.py")
    for need in (os.path.join(planted, "chrP.fa"), os.path.join(planted, "calls.tsv"), maker):
        if not os.path.exists(need):
            raise SystemExit(f"{need} is missing: give --acceptance DIR holding planted_ctcf/ and planted_variants.py")
    results = []
    with tempfile.TemporaryDirectory() as work:
        fa, vcf = os.path.join(work, "chrP.fa"), os.path.join(work, "v.vcf")
        with open(os.path.join(planted, "chrP.fa")) as src, open(fa, "w") as dst:
            dst.write(src.read())
        subprocess.run([sys.executable, maker, vcf, "1600", "MA0139.1", fa], check=True, capture_output=True)
        for kind in ("break", "control"):
            apply_snvs(fa, vcf, kind, os.path.join(work, f"{kind}.fa"))
        npz = os.path.join(work, "p.npz")
        sh("mrcnn-encode", "-q", "--genome", fa, "--calls", os.path.join(planted, "calls.tsv"), "--calls-format", "tsv",
           "--min-coverage", "0", "--region", "chrP:1-1600000", "-o", npz)  # fmt: skip
        for arch in args.archs.split(","):
            for seed in [int(s) for s in args.seeds.split(",")]:
                model = os.path.join(work, f"{arch}.{seed}.keras")
                sh("mrcnn-train", "-q", npz, "--arch", arch, "--val-fraction", "0.2", "--epochs", args.epochs,
                   "--seed", seed, "-o", model)  # fmt: skip
                effects = os.path.join(work, "e.tsv")
                sh("mrcnn-predict", "-q", "-m", model, "--genome", fa, "--variants", vcf, "-o", effects)
                for g in ("chrP", "break", "control"):
                    sh("mrcnn-predict", "-q", "-m", model, "--genome", os.path.join(work, f"{g}.fa"),
                       "--region", "chrP:1600001-2000000", "-o", os.path.join(work, f"g_{g}.tsv"))  # fmt: skip
                res = score(work, effects)
                results.append((arch, seed, res))
                print(
                    f"{arch} seed {seed}: r {res['r']:.4f} (max |diff| {res['max_abs_diff']:.1e}), "
                    f"AUC {res['auc']:.3f}, "
                    f"median delta break {res['median'][0]:+.3f} vs control {res['median'][1]:+.3f} "
                    f"(n={res['n'][0]}+{res['n'][1]})",
                    flush=True,
                )
    lines = [
        "| network | seed | r (deltas vs genome mode on the mutated genome) | max \\|difference\\| "
        "| break vs control ROC AUC | median delta break | median delta control | SNVs (break+control) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for arch, seed, r in results:
        lines.append(
            f"| {arch} | {seed} | {r['r']:.4f} | {r['max_abs_diff']:.1e} | {r['auc']:.3f} | {r['median'][0]:+.3f} | "
            f"{r['median'][1]:+.3f} | {r['n'][0]}+{r['n'][1]} |"
        )
    for arch in args.archs.split(","):
        aucs = [r["auc"] for a, _, r in results if a == arch]
        lines.append("")
        lines.append(f"{arch}: AUC mean {np.mean(aucs):.3f} (min {min(aucs):.3f}, max {max(aucs):.3f}) over seeds")
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(
            "variants-planted",
            "## Variant effects: planted CTCF (issue 26)\n\n"
            f"`python benchmarks/variants_planted.py` (epochs {args.epochs}, seeds {args.seeds}): models trained on "
            "blocks 0-1599 of the planted-CTCF set score one SNV breaking each planted instance of blocks 1600-1999 "
            "(its most informative position) and one control SNV at the same distance from the CpG. r compares "
            "`mrcnn-predict --variants` deltas with genome-mode predictions on the genome with the SNVs applied (the "
            "same computation, up to the 6-decimal rounding of the "
            "files); the AUC says how often a breaking SNV lowers the level more than its control.\n\n" + text,
        )


if __name__ == "__main__":
    main()
