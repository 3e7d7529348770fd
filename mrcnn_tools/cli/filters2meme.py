"""mrcnn-filters2meme: the motifs a model learned, per methylation group, in MEME format, matched to known motifs."""

import os
import sys

from mrcnn_tools.cli.common import compute_parser, make_parser, run, seed_parser
from mrcnn_tools.cli.options import ListOption, add_alias, positive_int, probability
from mrcnn_tools.levels import DESCRIPTION, NAMES
from mrcnn_tools.motifs import have_meme
from mrcnn_tools.motifs.run import BY, METHODS, find_motifs

PROG = "mrcnn-filters2meme"


def get_parser():
    parser = make_parser(
        PROG,
        f"Find the sequence motifs a model uses, per methylation group ({DESCRIPTION}), "
        "write them in MEME format with logos, and match them to known motifs (Tomtom, q < 0.05).\n\n"
        "example:\n  mrcnn-filters2meme -m model.keras test.npz --out-dir motifs/ --jaspar --tsne tsne.png",
        parents=[seed_parser(), compute_parser(batch_size=256)],
    )
    parser.add_argument("datasets", nargs="+", metavar="DATA.npz", help="dataset(s) or shards from mrcnn-encode")
    parser.add_argument("-m", "--model", required=True, help="Keras model from mrcnn-train")
    parser.add_argument(
        "--out-dir",
        required=True,
        metavar="DIR",
        help="output directory, created with its parents when absent; motifs.meme is always written (when no motif "
        "is found it is a valid MEME file with none, and a warning says so)",
    )
    add_alias(parser, "-o", "out_dir", "--out-dir", note="-o names an output file in every command")
    parser.add_argument(
        "--groups",
        action=ListOption,
        default=list(NAMES),
        metavar="GROUP",
        help=f"methylation groups, comma-separated or repeated, of {', '.join(NAMES)}",
    )
    parser.add_argument(
        "--by",
        choices=BY,
        default="truth",
        help="group sites by their true level or by the model's prediction (unlabelled data)",
    )
    parser.add_argument(
        "--method",
        choices=METHODS,
        default="attribution",
        help="attribution: motifs enriched in each site's top gradient x input window over the other "
        "groups' windows; kmeans: those windows clustered by k-means (release 0.1's attribution); "
        "modisco: TF-MoDISco (modisco-lite); activation: windows that activate each first-layer "
        "filter (simple-cnn); weighted-sequences: the paper's MEME input (runs meme when on PATH)",
    )
    parser.add_argument(
        "--sites-per-group",
        type=positive_int,
        default=2000,
        metavar="N",
        help="at most N sites of each group: a random subset (--seed)",
    )
    parser.add_argument(
        "--max-sites",
        type=positive_int,
        metavar="N",
        help="keep at most N sites: a random subset of those selected (--seed)",
    )
    parser.add_argument(
        "--n-motifs", type=positive_int, default=4, help="motifs per group at most (attribution, kmeans, modisco)"
    )
    parser.add_argument(
        "--seqlet-width", type=positive_int, default=20, help="width of each site's top window (attribution, kmeans)"
    )
    db = parser.add_mutually_exclusive_group()
    db.add_argument("--motif-db", metavar="FILE.meme", help="known motifs in MEME format to match against")
    db.add_argument("--jaspar", action="store_true", help="match against JASPAR CORE vertebrates (bundled, offline)")
    parser.add_argument("--q-value", type=probability, default=0.05, help="report matches below this q-value")
    parser.add_argument(
        "--tsne",
        metavar="PNG",
        help="t-SNE of hyper vs hypo sites (input, first layer, last hidden layer), silhouettes in tsne.tsv",
    )
    return parser


def _body(args, log):

    found = find_motifs(
        args.model,
        args.datasets,
        args.out_dir,
        groups=args.groups,
        by=args.by,
        method=args.method,
        sites_per_group=args.sites_per_group,
        max_sites=args.max_sites,
        n_motifs=args.n_motifs,
        seqlet_width=args.seqlet_width,
        motif_db=args.motif_db,
        jaspar=args.jaspar,
        q_value=args.q_value,
        tsne=args.tsne,
        seed=args.seed,
        batch_size=args.batch_size,
        threads=args.threads,
    )
    sites = ", ".join(f"{g} ({len(i)} sites)" for g, i in found.chosen.items())
    log.info("%d motifs from %s", len(found.motifs), sites)
    if not found.motifs:
        why = (
            "meme is not on PATH: run the run_meme_GROUP.sh scripts where it is installed"
            if args.method == "weighted-sequences" and not have_meme()
            else "try more sites (--sites-per-group), other groups (--groups) or another --method"
        )
        log.warning("warning: no motif found; %s holds no motif (%s)", os.path.join(args.out_dir, "motifs.meme"), why)
    if args.motif_db or args.jaspar:
        log.info("%d of %d motifs match a known motif at q < %g", found.significant, len(found.motifs), args.q_value)
    if found.tsne:
        log.info("t-SNE silhouettes: %s", ", ".join(f"{r['panel']} {r['silhouette']:.3f}" for r in found.tsne))
    log.info("wrote %s", args.out_dir)


def main(argv=None):
    return run(PROG, get_parser(), _body, argv)


if __name__ == "__main__":
    sys.exit(main())
