"""mrcnn-train: dataset NPZ -> trained model (MRCNN, the paper's simple CNN, or a k-mer GBR baseline)."""

import sys

from ..dataset import load_dataset, load_datasets
from ..distributed import chief_path
from ..errors import UsageError
from ..genome_attach import attach_genome
from ..models import (ARCHITECTURES, MRCNN_DEFAULTS, check_model_suffix, check_window, save_keras_model,
                      save_sklearn_model)
from .common import compute_parser, make_parser, run, seed_parser
from .options import ListOption, fraction_below_one, non_negative_int, positive_float, positive_int

PROG = "mrcnn-train"


def get_parser():
    parser = make_parser(
        PROG,
        "Train a model that predicts the methylation level of a CpG from the window around it.\n\n"
        "example:\n  mrcnn-train train.npz --validation val.npz --arch mrcnn --epochs 30 --seed 1 "
        "--history history.tsv -o model.keras",
        parents=[seed_parser(), compute_parser(batch_size=128)])
    parser.add_argument("datasets", nargs="+", metavar="TRAIN.npz", help="training dataset(s) or shards")
    parser.add_argument("-o", "--output", required=True, metavar="MODEL",
                        help="model file: .keras for mrcnn/simple-cnn, .skops for kmer-gbr (written atomically)")
    parser.add_argument("-g", "--genome", metavar="FASTA",
                        help="genome FASTA the datasets were encoded with: needed for sites-only datasets "
                             "(mrcnn-encode --no-windows), whose windows are cut from it batch by batch")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="where to keep the genome as memory-mapped codes (built once per genome; default: "
                             "$MRCNN_CACHE_DIR, else beside the FASTA, else ~/.cache/mrcnn-tools)")
    parser.add_argument("-a", "--arch", choices=ARCHITECTURES, default="mrcnn", help="model architecture")
    val = parser.add_argument_group("validation (whole chromosomes or regions are the honest split)")
    how = val.add_mutually_exclusive_group()
    how.add_argument("--validation", metavar="VAL.npz", help="validation dataset, e.g. another region or chromosome")
    how.add_argument("--val-chroms", action=ListOption, metavar="CHROM",
                     help="hold out these chromosomes for validation (comma-separated or repeated)")
    how.add_argument("--val-fraction", type=fraction_below_one, default=None,
                     help="hold out this fraction of sites in random 10-kb blocks (default 0.1 when no other "
                          "validation is given)")
    fit = parser.add_argument_group("fitting")
    fit.add_argument("--epochs", type=positive_int, default=30, help="maximum epochs")
    fit.add_argument("--learning-rate", type=positive_float, default=None,
                     help="Adam learning rate for the CNNs (default 0.001); boosting rate for kmer-gbr (default 0.1)")
    fit.add_argument("--patience", type=non_negative_int, default=5,
                     help="stop after this many epochs without a better validation loss (0: never stop early); "
                          "the best weights are kept")
    fit.add_argument("--dropout", type=fraction_below_one, default=MRCNN_DEFAULTS["dropout"],
                     help="dropout rate before the output")
    fit.add_argument("--dense-units", type=positive_int, default=MRCNN_DEFAULTS["dense_units"],
                     help="units of the dense layer")
    fit.add_argument("--filters", type=positive_int, default=MRCNN_DEFAULTS["filters2"],
                     help="filters of the 3x3 convolutions (mrcnn) or of both convolutions (simple-cnn)")
    run_g = parser.add_argument_group("checkpoints and hardware")
    run_g.add_argument("--history", metavar="TSV", help="write loss, val_loss, val RMSE, samples/s per epoch here")
    run_g.add_argument("--checkpoint-dir", metavar="DIR", help="save the model and training state after every epoch")
    run_g.add_argument("--resume", action="store_true", help="continue from the last finished epoch in --checkpoint-dir")
    run_g.add_argument("--strategy", choices=("auto", "mirrored", "multi-worker"), default="auto",
                       help="tf.distribute strategy: mirrored = the GPUs of one node; multi-worker = several nodes "
                            "(TF_CONFIG); auto = mirrored when several GPUs are visible")
    return parser


def _body(args, log):
    check_model_suffix(args.arch, args.output)
    from ..training import (TrainConfig, base_meta, labelled, leaking_sites, split_validation, train_keras,
                            train_sklearn, write_history)

    data = load_datasets(args.datasets)
    codes = attach_genome(data, args.genome, args.datasets[0], args.cache_dir)
    # sites-only: the genome offsets replace names, strands, coverage (most of a site's bytes at genome scale)
    data = labelled(data.drop_site_details(), args.datasets[0])
    if args.arch != "kmer-gbr":
        check_window(args.arch, data.window)
    validation = None
    if args.validation:
        validation = load_dataset(args.validation)
        attach_genome(validation, args.genome, args.validation, args.cache_dir, codes)
        validation = labelled(validation.drop_site_details(), args.validation)
        if validation.window != data.window:
            from ..errors import DatasetError  # a data mismatch, as between training files: exit 1, not 2

            raise DatasetError(f"{args.validation}: window {validation.window} differs from the training data's "
                               f"{data.window}; encode both with the same --flank")
    val_fraction = args.val_fraction
    if val_fraction is None:
        val_fraction = 0.0 if (args.validation or args.val_chroms) else 0.1
    if val_fraction == 0 and not (args.validation or args.val_chroms) and args.patience and args.arch != "kmer-gbr":
        raise UsageError("--val-fraction 0 leaves no validation set for early stopping; give --validation, "
                         "--val-chroms or a --val-fraction above 0, or turn early stopping off with --patience 0")
    train, val, split = split_validation(data, validation=validation, val_chroms=args.val_chroms,
                                         val_fraction=val_fraction, seed=args.seed)
    log.info("training on %d sites, validating on %d (%s)", len(train), len(val) if val is not None else 0, split)
    if val is not None:
        leaks = leaking_sites(train, val, train.window)
        if leaks:
            log.warning("warning: %d of %d validation sites (%.1f%%) lie within %d bp of a training site: their "
                        "windows overlap, so the validation loss is optimistic; hold out whole chromosomes "
                        "(--val-chroms) or regions (--validation)", leaks, len(val), 100 * leaks / len(val),
                        train.window)
    lr = args.learning_rate if args.learning_rate is not None else (0.1 if args.arch == "kmer-gbr" else 1e-3)
    model_kwargs = {}
    if args.arch == "mrcnn":
        model_kwargs = dict(filters2=args.filters, filters3=args.filters, filters4=args.filters,
                            dense_units=args.dense_units, dropout=args.dropout)
    elif args.arch == "simple-cnn":
        model_kwargs = dict(filters=(args.filters, args.filters), dense_units=args.dense_units, dropout=args.dropout)
    config = TrainConfig(arch=args.arch, epochs=args.epochs, batch_size=args.batch_size, learning_rate=lr,
                         patience=args.patience, seed=args.seed, threads=args.threads,
                         checkpoint_dir=args.checkpoint_dir, resume=args.resume, strategy=args.strategy,
                         model_kwargs=model_kwargs)
    meta = base_meta(config, train, val, split, args.datasets)
    if args.arch == "kmer-gbr":
        model, history = train_sklearn(train, val, config)
        meta["history"] = history
        save_sklearn_model(model, args.output, meta)
    else:
        model, history = train_keras(train, val, config, meta=meta)
        meta["history"] = history
        if history:
            best = min(history, key=lambda r: r.get("val_loss", r["loss"]))
            meta["best_epoch"] = best["epoch"]
        with chief_path(args.output) as output:  # multi-worker: only the chief's model is kept
            save_keras_model(model, output, meta)
    if args.history:
        with chief_path(args.history) as history_path:
            write_history(history_path, history)
    log.info("wrote %s model to %s", args.arch, args.output)


def main(argv=None):
    return run(PROG, get_parser(), _body, argv)


if __name__ == "__main__":
    sys.exit(main())
