"""mrcnn-eval: predictions -> the paper's metrics (RMSE/MAE by group; SE/SP/ACC/AUC, CGI vs not) and plots."""

import sys

from mrcnn_tools.cli.common import make_parser, run
from mrcnn_tools.cli.options import ListOption, add_alias, fraction, non_negative_int
from mrcnn_tools.evaluation.report import evaluate_files, fmt
from mrcnn_tools.levels import DESCRIPTION

PROG = "mrcnn-eval"


def get_parser():
    parser = make_parser(
        PROG,
        f"Evaluate predictions as in the paper: RMSE/MAE for all sites and by group ({DESCRIPTION}); "
        "sensitivity, specificity, accuracy, ROC AUC, AUPRC and MCC at a cutoff, for CpG-island and other sites; "
        "calibration. Several prediction files are compared on the sites they share. Predictions of several samples "
        "(a sample column) are evaluated pooled and per sample.\n\n"
        "example:\n  mrcnn-predict -m model.keras test.npz | mrcnn-eval - --out-dir eval/",
    )
    parser.add_argument(
        "predictions", nargs="+", metavar="PRED.tsv", help="predictions TSV from mrcnn-predict (- = stdin)"
    )
    parser.add_argument(
        "--labels",
        action=ListOption,
        metavar="NAME",
        help="model names, one per file, comma-separated or repeated (default: file names)",
    )
    parser.add_argument(
        "--out-dir",
        required=True,
        metavar="DIR",
        help="directory for metrics.tsv, metrics.json, calibration.tsv, *.png (created with its parents when "
        "absent, removed again if the run fails before writing to it)",
    )
    add_alias(parser, "-o", "out_dir", "--out-dir", note="-o names an output file in every command")
    parser.add_argument("--cutoff", type=fraction, default=0.5, help="methylated = level above this")
    parser.add_argument(
        "--min-coverage",
        type=non_negative_int,
        default=0,
        help="evaluate only sites with at least this many reads (needs a coverage column)",
    )
    parser.add_argument("--no-plots", action="store_true", help="write the tables only")
    return parser


def _body(args, log):

    report = evaluate_files(
        args.predictions,
        args.out_dir,
        labels=args.labels,
        cutoff=args.cutoff,
        min_coverage=args.min_coverage,
        plots=not args.no_plots,
    )
    if len(args.predictions) > 1:
        log.info("%d sites shared by all %d files", report.shared, len(args.predictions))
    if report.skipped > report.unpredicted:
        log.info(
            "skipped %d sites without a label%s",
            report.skipped - report.unpredicted,
            " or below --min-coverage" if args.min_coverage else "",
        )
    if report.unpredicted:
        log.info("skipped %d labelled sites without a prediction (NA) in some file", report.unpredicted)
    for r in report.rows:
        if r["group"] == "all" and r.get("sample", "pooled") == "pooled":
            log.info("%s: n %d RMSE %.4f MAE %.4f AUC %s", r["model"], r["n"], r["rmse"], r["mae"], fmt(r["auc"]))
    if report.samples:
        log.info("%d samples: metrics pooled and per sample (the sample column of metrics.tsv)", len(report.samples))
    log.info(
        "wrote metrics.tsv, metrics.json, calibration.tsv%s to %s", "" if args.no_plots else " and plots", args.out_dir
    )


def main(argv=None):
    return run(PROG, get_parser(), _body, argv)


if __name__ == "__main__":
    sys.exit(main())
