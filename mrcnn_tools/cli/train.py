"""mrcnn-train: dataset NPZ -> trained model (MRCNN, the paper's simple CNN, or a k-mer GBR baseline)."""

import sys

from mrcnn_tools.cli.common import compute_parser, make_parser, run, seed_parser
from mrcnn_tools.cli.options import (
    ListOption,
    fraction_below_one,
    non_negative_int,
    options_from_args,
    positive_float,
    positive_int,
)
from mrcnn_tools.models.registry import NAMES as ARCHITECTURES
from mrcnn_tools.training.options import DEFAULTS, STRATEGIES, TrainOptions, option_help
from mrcnn_tools.training.run import train_model

PROG = "mrcnn-train"


def get_parser():
    parser = make_parser(
        PROG,
        "Train a model that predicts the methylation level of a CpG from the window around it.\n\n"
        "example:\n  mrcnn-train train.npz --validation val.npz --arch mrcnn --epochs 30 --seed 1 "
        "--history history.tsv -o model.keras",
        parents=[seed_parser(), compute_parser(batch_size=DEFAULTS.batch_size)],
    )
    parser.add_argument("datasets", nargs="+", metavar="TRAIN.npz", help="training dataset(s) or shards")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="MODEL",
        help="model file: .keras for mrcnn/simple-cnn, .skops for kmer-gbr (written atomically)",
    )
    parser.add_argument("-g", "--genome", metavar="FASTA", help=option_help("genome"))
    parser.add_argument("--cache-dir", metavar="DIR", help=option_help("cache_dir"))
    parser.add_argument("-a", "--arch", choices=ARCHITECTURES, default=DEFAULTS.arch, help=option_help("arch"))
    val = parser.add_argument_group("validation (whole chromosomes or regions are the honest split)")
    how = val.add_mutually_exclusive_group()
    how.add_argument("--validation", metavar="VAL.npz", help=option_help("validation"))
    how.add_argument("--val-chroms", action=ListOption, metavar="CHROM", help=option_help("val_chroms"))
    how.add_argument(
        "--val-fraction", type=fraction_below_one, default=DEFAULTS.val_fraction, help=option_help("val_fraction")
    )
    fit = parser.add_argument_group("fitting")
    fit.add_argument("--epochs", type=positive_int, default=DEFAULTS.epochs, help=option_help("epochs"))
    fit.add_argument(
        "--learning-rate", type=positive_float, default=DEFAULTS.learning_rate, help=option_help("learning_rate")
    )
    fit.add_argument("--patience", type=non_negative_int, default=DEFAULTS.patience, help=option_help("patience"))
    fit.add_argument("--dropout", type=fraction_below_one, default=DEFAULTS.dropout, help=option_help("dropout"))
    fit.add_argument(
        "--context-dropout",
        type=fraction_below_one,
        default=DEFAULTS.context_dropout,
        help=option_help("context_dropout"),
    )
    fit.add_argument("--rc-augment", action="store_true", help=option_help("rc_augment"))
    fit.add_argument("--binary", action="store_true", help=option_help("binary"))
    fit.add_argument("--dense-units", type=positive_int, default=DEFAULTS.dense_units, help=option_help("dense_units"))
    fit.add_argument("--filters", type=positive_int, default=DEFAULTS.filters, help=option_help("filters"))
    run_g = parser.add_argument_group("checkpoints and hardware")
    run_g.add_argument("--history", metavar="TSV", help=option_help("history"))
    run_g.add_argument("--checkpoint-dir", metavar="DIR", help=option_help("checkpoint_dir"))
    run_g.add_argument("--resume", action="store_true", help=option_help("resume"))
    run_g.add_argument("--strategy", choices=STRATEGIES, default=DEFAULTS.strategy, help=option_help("strategy"))
    return parser


def _body(args, log):

    result = train_model(args.datasets, args.output, options_from_args(TrainOptions, args))
    log.info("wrote %s model to %s", result.arch, result.output)


def main(argv=None):
    return run(PROG, get_parser(), _body, argv)


if __name__ == "__main__":
    sys.exit(main())
