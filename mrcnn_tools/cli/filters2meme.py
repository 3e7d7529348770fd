"""mrcnn-filters2meme: the motifs a model learned, per methylation group, in MEME format, matched to known motifs."""

import os
import subprocess
import sys

import numpy as np

from ..errors import MrcnnError, UsageError
from .common import compute_parser, make_parser, positive_int, run, seed_parser

PROG = "mrcnn-filters2meme"
GROUPS = {"hypo": lambda v: v < 0.1, "mid": lambda v: (v >= 0.4) & (v <= 0.6), "hyper": lambda v: v > 0.9}


def get_parser():
    parser = make_parser(
        PROG,
        "Find the sequence motifs a model uses, per methylation group (hypo < 0.1, mid 0.4-0.6, hyper > 0.9), "
        "write them in MEME format with logos, and match them to known motifs (Tomtom, q < 0.05).\n\n"
        "example:\n  mrcnn-filters2meme -m model.keras test.npz --out-dir motifs/ --jaspar --tsne tsne.png",
        parents=[seed_parser(), compute_parser(batch_size=256)])
    parser.add_argument("dataset", metavar="DATA.npz", help="dataset from mrcnn-encode")
    parser.add_argument("-m", "--model", required=True, help="Keras model from mrcnn-train")
    parser.add_argument("-o", "--out-dir", required=True,
                        help="output directory, created when absent; motifs.meme is always written (when no motif "
                             "is found it is a valid MEME file with none, and a warning says so)")
    parser.add_argument("--groups", default="hypo,mid,hyper", help="comma-separated groups")
    parser.add_argument("--by", choices=("truth", "prediction"), default="truth",
                        help="group sites by their true level or by the model's prediction (unlabelled data)")
    parser.add_argument("--method", choices=("attribution", "weighted-sequences", "activation"),
                        default="attribution",
                        help="attribution: gradient x input seqlets clustered into PWMs; weighted-sequences: the "
                             "paper's MEME input (runs meme when on PATH); activation: windows that activate each "
                             "first-layer filter (simple-cnn)")
    parser.add_argument("--max-sites", type=positive_int, default=2000, help="sites per group (random, --seed)")
    parser.add_argument("--n-motifs", type=positive_int, default=4, help="motifs per group (attribution)")
    parser.add_argument("--seqlet-width", type=positive_int, default=20, help="seqlet width (attribution)")
    db = parser.add_mutually_exclusive_group()
    db.add_argument("--motif-db", metavar="FILE.meme", help="known motifs in MEME format to match against")
    db.add_argument("--jaspar", action="store_true", help="match against JASPAR CORE vertebrates (bundled, offline)")
    parser.add_argument("--q-value", type=float, default=0.05, help="report matches below this q-value")
    parser.add_argument("--tsne", metavar="PNG", help="t-SNE of hyper vs hypo sites (input, first layer, last "
                                                      "hidden layer), silhouettes in tsne.tsv")
    return parser


def _body(args, log):
    from .. import motifs as mo
    from ..backend import load_tensorflow
    from ..dataset import load_dataset
    from ..io import atomic_path
    from ..models import check_model_fits, load_model, read_model_meta

    groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    bad = [g for g in groups if g not in GROUPS]
    if bad:
        raise UsageError(f"--groups: unknown group(s) {', '.join(bad)}; use hypo, mid, hyper")
    if args.jaspar or args.motif_db:
        mo.require_memelite()  # an optional dependency: say so before any work
    meta = read_model_meta(args.model)
    if meta.get("arch") == "kmer-gbr":
        raise MrcnnError(f"{args.model}: a k-mer GBR model has no convolution filters; give a Keras model "
                         "(--arch mrcnn or simple-cnn)")
    data = load_dataset(args.dataset)
    check_model_fits(meta, data.meta, data.window, args.model, args.dataset)
    database = None
    if args.motif_db:
        database = mo.read_meme(args.motif_db)
    parent = os.path.dirname(os.path.abspath(args.out_dir))
    if not os.path.isdir(parent):
        raise MrcnnError(f"{args.out_dir}: the parent directory {parent} does not exist; create it first")
    os.makedirs(args.out_dir, exist_ok=True)
    load_tensorflow(args.threads)
    model, meta = load_model(args.model, threads=args.threads)
    if args.by == "prediction":
        from ..prediction import Predictor

        level = Predictor(model, meta, batch_size=args.batch_size).predict(data.seq)
    else:
        level = data.y
        if not np.isfinite(level).any():
            raise MrcnnError(f"{args.dataset}: no labels to group by; use --by prediction for unlabelled data")
    rng = np.random.default_rng(args.seed)
    chosen = {}
    for g in groups:
        idx = np.flatnonzero(GROUPS[g](np.nan_to_num(level, nan=-1.0)) & np.isfinite(level))
        if len(idx) == 0:
            log.warning("warning: group %s has no sites; skipped", g)
            continue
        if len(idx) > args.max_sites:
            idx = np.sort(rng.choice(idx, args.max_sites, replace=False))
        chosen[g] = idx
    if not chosen:
        raise MrcnnError(f"{args.dataset}: none of the groups {', '.join(groups)} has sites")
    background = mo.background_frequencies(data.seq[np.concatenate(list(chosen.values()))])
    found = []
    for g, idx in chosen.items():
        seq = data.seq[idx]
        if args.method == "attribution":
            scores = mo.attributions(model, seq, batch_size=args.batch_size)
            sign = {"hyper": 1.0, "hypo": -1.0}.get(g)
            scores = scores * sign if sign else np.abs(scores)
            lets = mo.seqlets(seq, scores, width=args.seqlet_width)
            for k, (pwm, n) in enumerate(mo.cluster_seqlets(lets, args.n_motifs, seed=args.seed)):
                found.append(mo.Motif(f"{g}_attr{k + 1}", pwm, n, f"{g}_seqlets"))
        elif args.method == "activation":
            for f, pwm, n in mo.activation_motifs(model, seq, batch_size=args.batch_size):
                found.append(mo.Motif(f"{g}_filter{f + 1}", pwm, n, f"{g}_activation"))
        else:
            weights = mo.sequence_weights(model, seq)
            fasta = os.path.join(args.out_dir, f"{g}.weighted.fa")
            names = [f"{c}:{p}" for c, p in zip(data.chrom[idx], data.pos[idx])]
            mo.write_weighted_fasta(fasta, seq, weights, names)
            cmd = mo.meme_command(fasta, os.path.join(args.out_dir, f"meme_{g}"))
            if mo.have_meme():
                log.info("running %s", " ".join(cmd))
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for k, m in enumerate(mo.read_meme(os.path.join(args.out_dir, f"meme_{g}", "meme.txt"))):
                    found.append(mo.Motif(f"{g}_meme{k + 1}", m.pwm, m.nsites, m.name))
            else:
                script = os.path.join(args.out_dir, f"run_meme_{g}.sh")
                with atomic_path(script) as tmp, open(tmp, "w") as fh:
                    fh.write("#!/bin/sh\n# MEME Suite not found on PATH: run this where it is installed\n"
                             + " ".join(cmd) + "\n")
                log.info("meme is not on PATH: wrote %s and the command in %s", fasta, script)
    log.info("%d motifs from %s", len(found), ", ".join(f"{g} ({len(i)} sites)" for g, i in chosen.items()))
    # motifs.meme is always written, so that a pipeline step after this one finds a valid MEME file; one with
    # no motif is what finding none means (docs/FORMATS.md)
    mo.write_meme(found, os.path.join(args.out_dir, "motifs.meme"), background)
    if not found:
        why = ("meme is not on PATH: run the run_meme_GROUP.sh scripts where it is installed"
               if args.method == "weighted-sequences" and not mo.have_meme() else
               "try more sites (--max-sites), other groups (--groups) or another --method")
        log.warning("warning: no motif found; %s holds no motif (%s)", os.path.join(args.out_dir, "motifs.meme"),
                    why)
    else:
        logo_dir = os.path.join(args.out_dir, "logos")
        os.makedirs(logo_dir, exist_ok=True)
        for m in found:
            mo.logo(m, os.path.join(logo_dir, f"{mo.safe_name(m.name)}.png"))
    if args.jaspar:
        database = mo.jaspar_motifs()
    matches = mo.match(found, database, args.q_value) if (database and found) else []
    best = {}
    for r in matches:
        best.setdefault(r["motif"], r)
    with atomic_path(os.path.join(args.out_dir, "motifs.tsv")) as tmp, open(tmp, "w") as fh:
        fh.write("#motif\tgroup\twidth\tnsites\tmean_information\tbest_match\tbest_match_name\tp\tq\n")
        for m in found:
            b = best.get(m.name, {})
            fh.write(f"{m.name}\t{m.name.split('_')[0]}\t{m.width}\t{m.nsites}\t{mo.information(m.pwm).mean():.3f}\t"
                     f"{b.get('match_id', 'NA')}\t{b.get('match_name', 'NA')}\t{mo.fmt_p(b.get('p'))}\t"
                     f"{mo.fmt_p(b.get('q'))}\n")
    if database is not None:
        with atomic_path(os.path.join(args.out_dir, "matches.tsv")) as tmp, open(tmp, "w") as fh:
            fh.write("#motif\tmatch_id\tmatch_name\tp\tE\tq\torientation\n")
            for r in matches:
                if r["significant"]:
                    fh.write(f"{r['motif']}\t{r['match_id']}\t{r['match_name']}\t{r['p']:.3g}\t{r['E']:.3g}\t"
                             f"{r['q']:.3g}\t{r['orientation']}\n")
        with atomic_path(os.path.join(args.out_dir, "matches.md")) as tmp, open(tmp, "w") as fh:
            fh.write("| motif | logo | best match | p-value | q-value |\n|---|---|---|---|---|\n")
            for m in found:
                b = best.get(m.name)
                hit = f"{b['match_id']} {b['match_name']}" if b and b["significant"] else "none (q >= "f"{args.q_value:g})"
                fh.write(f"| {m.name} | ![{m.name}](logos/{mo.safe_name(m.name)}.png) | {hit} | "
                         f"{mo.fmt_p(b['p']) if b else 'NA'} | {mo.fmt_p(b['q']) if b else 'NA'} |\n")
        sig = sum(1 for r in best.values() if r["significant"])
        log.info("%d of %d motifs match a known motif at q < %g", sig, len(found), args.q_value)
    if args.tsne:
        if "hyper" not in chosen or "hypo" not in chosen:
            log.warning("warning: t-SNE needs both hyper and hypo sites; skipped")
        else:
            n = min(500, len(chosen["hyper"]), len(chosen["hypo"]))
            rows = mo.tsne_panels(model, data.seq[chosen["hyper"][:n]], data.seq[chosen["hypo"][:n]], seed=args.seed,
                                  path=args.tsne)
            with atomic_path(os.path.join(args.out_dir, "tsne.tsv")) as tmp, open(tmp, "w") as fh:
                fh.write("#panel\tsilhouette\tn_hyper\tn_hypo\n")
                for r in rows:
                    fh.write(f"{r['panel']}\t{r['silhouette']:.4f}\t{r['n_hyper']}\t{r['n_hypo']}\n")
            log.info("t-SNE silhouettes: %s", ", ".join(f"{r['panel']} {r['silhouette']:.3f}" for r in rows))
    log.info("wrote %s", args.out_dir)


def main(argv=None):
    return run(PROG, get_parser(), _body, argv)


if __name__ == "__main__":
    sys.exit(main())
