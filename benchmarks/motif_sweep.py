#!/usr/bin/env python
"""Seqlet width, flank and kept fraction of the default motif method (attribution), swept on the models
benchmarks/motifs.py trained and left in its --out directory: attributions computed once per model and group,
then each setting's motifs matched to JASPAR. Prints recovered cases per setting (planted group matched at
q < 0.05, other group not).
Usage: nice python benchmarks/motif_sweep.py --out DIR [--widths 12,20,30] [--keep 0.25,0.5,1.0]
"""

import argparse
import glob
import os
import sys

import numpy as np

from benchmarks.motifs import MOTIFS
from mrcnn_tools import motifs as mo
from mrcnn_tools.data.dataset import load_dataset
from mrcnn_tools.models.backend import load_tensorflow
from mrcnn_tools.models.files import load_model
from mrcnn_tools.motifs.discover import discover

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--widths", default="12,20,30")
    parser.add_argument("--flanks", default="10")
    parser.add_argument("--keep", default="0.25,0.5,1.0")
    parser.add_argument("--settings", help="WIDTH:FLANK:KEEP,... instead of every combination of the above")
    parser.add_argument("--seeds", help="only the models of these seeds (comma-separated)")
    parser.add_argument("--sets", help="only the models of these sets, e.g. REST_hyper,SP1_hyper")
    args = parser.parse_args(argv)

    load_tensorflow()
    db = mo.jaspar_motifs()
    ids = {f"{n}_{g}": (jid, g) for n, jid, g in MOTIFS}
    settings = [
        (int(w), int(f), float(k))
        for w in args.widths.split(",")
        for f in args.flanks.split(",")
        for k in args.keep.split(",")
    ]
    if args.settings:
        settings = [(int(w), int(f), float(k)) for w, f, k in (t.split(":") for t in args.settings.split(","))]
    tally = {s: [0, 0] for s in settings}
    for path in sorted(glob.glob(os.path.join(args.out, "*.keras"))):
        stem = os.path.basename(path)[: -len(".keras")]
        name_group, arch, seed = stem.rsplit("_", 2)
        if (args.seeds and seed not in args.seeds.split(",")) or (args.sets and name_group not in args.sets.split(",")):
            continue
        jid, group = ids[name_group]
        data = load_dataset(os.path.join(args.out, f"{name_group}.npz"))
        model, _ = load_model(path)
        idx = {"hyper": np.flatnonzero(data.y > 0.9), "hypo": np.flatnonzero(data.y < 0.1)}
        scores = {g: mo.attributions(model, data.seq[i]) * mo.GROUP_SIGN[g] for g, i in idx.items()}
        line = []
        for w, f, k in settings:
            hit = {}
            for g in ("hyper", "hypo"):
                other = data.seq[idx["hypo" if g == "hyper" else "hyper"]]
                fg = mo.peak_regions(data.seq[idx[g]], scores[g], width=w, flank=f, keep_fraction=k)
                bg = mo.random_regions(other, w + 2 * f, 2 * len(fg), np.random.default_rng(int(seed)))
                motifs = [mo.Motif(f"{g}{j}", pwm, n) for j, (pwm, n, _) in enumerate(discover(fg, bg))]
                hit[g] = any(r["significant"] and r["match_id"].split(".")[0] == jid for r in mo.match(motifs, db))
            ok = hit[group] and not hit["hypo" if group == "hyper" else "hyper"]
            tally[(w, f, k)][0] += ok
            tally[(w, f, k)][1] += 1
            line.append("+" if ok else ".")
        print(f"{stem:32s} {''.join(line)}", flush=True)
    print("| seqlet width | flank | kept fraction | recovered |\n|---|---|---|---|")
    for (w, f, k), (ok, n) in tally.items():
        print(f"| {w} | {f} | {k:g} | {ok}/{n} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
