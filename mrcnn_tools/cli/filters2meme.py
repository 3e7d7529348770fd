"""mrcnn-filters2meme: the motifs a model learned, per methylation group, in MEME format, matched to known motifs."""

import os
import sys

from mrcnn_tools.cli.common import compute_parser, make_parser, run, seed_parser
from mrcnn_tools.cli.options import ListOption, add_alias, options_from_args, positive_int, probability
from mrcnn_tools.levels import DESCRIPTION
from mrcnn_tools.motifs import have_meme
from mrcnn_tools.motifs.options import BY, DEFAULTS, METHODS, MotifOptions, option_help
from mrcnn_tools.motifs.run import find_motifs

PROG = "mrcnn-filters2meme"


def get_parser():
    parser = make_parser(
        PROG,
        f"Find the sequence motifs a model uses, per methylation group ({DESCRIPTION}), "
        "write them in MEME format with logos, and match them to known motifs (Tomtom, q < 0.05).\n\n"
        "example:\n  mrcnn-filters2meme -m model.keras test.npz --out-dir motifs/ --jaspar --tsne tsne.png",
        parents=[seed_parser(), compute_parser(batch_size=DEFAULTS.batch_size)],
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
        "--groups", action=ListOption, default=list(DEFAULTS.groups), metavar="GROUP", help=option_help("groups")
    )
    parser.add_argument("--by", choices=BY, default=DEFAULTS.by, help=option_help("by"))
    parser.add_argument("--method", choices=METHODS, default=DEFAULTS.method, help=option_help("method"))
    parser.add_argument(
        "--sites-per-group",
        type=positive_int,
        default=DEFAULTS.sites_per_group,
        metavar="N",
        help=option_help("sites_per_group"),
    )
    parser.add_argument(
        "--max-sites", type=positive_int, default=DEFAULTS.max_sites, metavar="N", help=option_help("max_sites")
    )
    parser.add_argument("--n-motifs", type=positive_int, default=DEFAULTS.n_motifs, help=option_help("n_motifs"))
    parser.add_argument(
        "--seqlet-width", type=positive_int, default=DEFAULTS.seqlet_width, help=option_help("seqlet_width")
    )
    db = parser.add_mutually_exclusive_group()
    db.add_argument("--motif-db", metavar="FILE.meme", help=option_help("motif_db"))
    db.add_argument("--jaspar", action="store_true", help=option_help("jaspar"))
    parser.add_argument("--q-value", type=probability, default=DEFAULTS.q_value, help=option_help("q_value"))
    parser.add_argument("--tsne", metavar="PNG", help=option_help("tsne"))
    return parser


def _body(args, log):

    found = find_motifs(args.model, args.datasets, args.out_dir, options_from_args(MotifOptions, args))
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
