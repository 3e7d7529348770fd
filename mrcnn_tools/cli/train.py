"""mrcnn-train: dataset NPZ -> trained model (MRCNN, the paper's simple CNN, or a k-mer GBR baseline)."""

import sys

from mrcnn_tools.cli.common import compute_parser, make_parser, run, seed_parser
from mrcnn_tools.cli.options import ListOption, fraction_below_one, non_negative_int, positive_float, positive_int
from mrcnn_tools.models.architectures import MRCNN_DEFAULTS
from mrcnn_tools.models.registry import NAMES as ARCHITECTURES
from mrcnn_tools.training.run import train_model

PROG = "mrcnn-train"


def get_parser():
    parser = make_parser(
        PROG,
        "Train a model that predicts the methylation level of a CpG from the window around it.\n\n"
        "example:\n  mrcnn-train train.npz --validation val.npz --arch mrcnn --epochs 30 --seed 1 "
        "--history history.tsv -o model.keras",
        parents=[seed_parser(), compute_parser(batch_size=128)],
    )
    parser.add_argument("datasets", nargs="+", metavar="TRAIN.npz", help="training dataset(s) or shards")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="MODEL",
        help="model file: .keras for mrcnn/simple-cnn, .skops for kmer-gbr (written atomically)",
    )
    parser.add_argument(
        "-g",
        "--genome",
        metavar="FASTA",
        help="genome FASTA the datasets were encoded with: needed for sites-only datasets "
        "(mrcnn-encode --no-windows), whose windows are cut from it batch by batch",
    )
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="where to keep the genome as memory-mapped codes (built once per genome; default: "
        "$MRCNN_CACHE_DIR, else beside the FASTA, else ~/.cache/mrcnn-tools)",
    )
    parser.add_argument("-a", "--arch", choices=ARCHITECTURES, default="mrcnn", help="model architecture")
    val = parser.add_argument_group("validation (whole chromosomes or regions are the honest split)")
    how = val.add_mutually_exclusive_group()
    how.add_argument("--validation", metavar="VAL.npz", help="validation dataset, e.g. another region or chromosome")
    how.add_argument(
        "--val-chroms",
        action=ListOption,
        metavar="CHROM",
        help="hold out these chromosomes for validation (comma-separated or repeated)",
    )
    how.add_argument(
        "--val-fraction",
        type=fraction_below_one,
        default=None,
        help="hold out this fraction of sites in random 10-kb blocks (default 0.1 when no other validation is given)",
    )
    fit = parser.add_argument_group("fitting")
    fit.add_argument("--epochs", type=positive_int, default=30, help="maximum epochs")
    fit.add_argument(
        "--learning-rate",
        type=positive_float,
        default=None,
        help="Adam learning rate for the CNNs (default 0.001); boosting rate for kmer-gbr (default 0.1)",
    )
    fit.add_argument(
        "--patience",
        type=non_negative_int,
        default=5,
        help="stop after this many epochs without a better validation loss (0: never stop early); "
        "the best weights are kept",
    )
    fit.add_argument(
        "--dropout", type=fraction_below_one, default=MRCNN_DEFAULTS["dropout"], help="dropout rate before the output"
    )
    fit.add_argument(
        "--context-dropout",
        type=fraction_below_one,
        default=0.0,
        help="context models: hide each observed neighbour with this probability in training, so that "
        "the model learns to impute from sparse neighbours",
    )
    fit.add_argument(
        "--rc-augment",
        action="store_true",
        help="show every batch also reverse-complemented (strands merged: both orientations are the "
        "same site); recorded in the model, whose predictions then average both orientations",
    )
    fit.add_argument(
        "--dense-units", type=positive_int, default=MRCNN_DEFAULTS["dense_units"], help="units of the dense layer"
    )
    fit.add_argument(
        "--filters",
        type=positive_int,
        default=MRCNN_DEFAULTS["filters2"],
        help="filters of the 3x3 convolutions (mrcnn) or of both convolutions (simple-cnn)",
    )
    run_g = parser.add_argument_group("checkpoints and hardware")
    run_g.add_argument("--history", metavar="TSV", help="write loss, val_loss, val RMSE, samples/s per epoch here")
    run_g.add_argument("--checkpoint-dir", metavar="DIR", help="save the model and training state after every epoch")
    run_g.add_argument(
        "--resume", action="store_true", help="continue from the last finished epoch in --checkpoint-dir"
    )
    run_g.add_argument(
        "--strategy",
        choices=("auto", "mirrored", "multi-worker"),
        default="auto",
        help="tf.distribute strategy: mirrored = the GPUs of one node; multi-worker = several nodes "
        "(TF_CONFIG); auto = mirrored when several GPUs are visible",
    )
    return parser


def _body(args, log):

    result = train_model(
        args.datasets,
        args.output,
        arch=args.arch,
        genome=args.genome,
        cache_dir=args.cache_dir,
        validation=args.validation,
        val_chroms=args.val_chroms,
        val_fraction=args.val_fraction,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        patience=args.patience,
        filters=args.filters,
        dense_units=args.dense_units,
        dropout=args.dropout,
        context_dropout=args.context_dropout,
        seed=args.seed,
        threads=args.threads,
        history=args.history,
        checkpoint_dir=args.checkpoint_dir,
        resume=args.resume,
        strategy=args.strategy,
        rc_augment=args.rc_augment,
    )
    log.info("wrote %s model to %s", result.arch, result.output)


def main(argv=None):
    return run(PROG, get_parser(), _body, argv)


if __name__ == "__main__":
    sys.exit(main())
