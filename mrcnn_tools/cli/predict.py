"""mrcnn-predict: model + dataset NPZ, or model + genome (+ regions) -> per-CpG predictions (TSV, bedGraph, bigWig)."""

import argparse
import re
import sys

from mrcnn_tools.cli.common import compute_parser, genome_parser, make_parser, run, selection, selection_parser
from mrcnn_tools.cli.options import add_alias, non_negative_int, positive_int
from mrcnn_tools.errors import UsageError
from mrcnn_tools.genome.regions import IntervalSet, read_bed
from mrcnn_tools.models.precision import PRECISIONS
from mrcnn_tools.prediction.chroms import CHROM_NAMES
from mrcnn_tools.prediction.files import OUTPUT_FORMATS
from mrcnn_tools.prediction.options import BASELINES, DEFAULTS, PredictOptions, option_help
from mrcnn_tools.prediction.predict import predict_to_files
from mrcnn_tools.prediction.variants import variant_effects_to_file

PROG = "mrcnn-predict"


def shard_spec(text):
    """``I/N`` (1 <= I <= N) -> (I, N); an argparse type, so a bad shard is a usage error (exit 2)."""
    m = re.fullmatch(r"(\d+)/(\d+)", text or "")
    if not m or not 1 <= int(m[1]) <= int(m[2]):
        raise argparse.ArgumentTypeError(f"'{text}': give I/N with 1 <= I <= N, e.g. --shard 3/100")
    return int(m[1]), int(m[2])


def get_parser():
    parser = make_parser(
        PROG,
        "Predict the methylation level of CpGs with a model from mrcnn-train.\n\n"
        "examples:\n  mrcnn-predict -m model.keras test.npz -o pred.tsv\n"
        "  mrcnn-predict -m model.keras --genome hg19.fa.gz --chroms chr20 --output-format bedgraph "
        "-o chr20.bedGraph --bigwig chr20.bw\n  mrcnn-predict -m model.keras --genome hg19.fa.gz "
        "--shard $SLURM_ARRAY_TASK_ID/100 -o part.$SLURM_ARRAY_TASK_ID.tsv.gz",
        parents=[genome_parser(required=False), selection_parser(), compute_parser(batch_size=DEFAULTS.batch_size)],
    )
    parser.add_argument(
        "datasets",
        nargs="*",
        metavar="DATA.npz",
        help="datasets from mrcnn-encode; without them, --genome predicts every CpG of the genome, "
        "with them, --genome is the genome whose codes the windows of sites-only datasets "
        "(mrcnn-encode --no-windows) are cut from",
    )
    parser.add_argument("-m", "--model", help="model from mrcnn-train (.keras or .skops; a pickle is refused)")
    parser.add_argument("--baseline", choices=BASELINES, help=option_help("baseline"))
    parser.add_argument("--impute-missing", action="store_true", help=option_help("impute_missing"))
    parser.add_argument("-o", "--output", default="-", metavar="FILE", help="predictions file (- = stdout; .gz = gzip)")
    parser.add_argument(
        "--output-format",
        choices=OUTPUT_FORMATS,
        default=DEFAULTS.output_format,
        help=option_help("output_format"),
    )
    add_alias(parser, "--format", "output_format", "--output-format", choices=OUTPUT_FORMATS)
    parser.add_argument(
        "--chrom-names",
        choices=CHROM_NAMES,
        default=DEFAULTS.chrom_names,
        help=option_help("chrom_names"),
    )
    parser.add_argument("--bigwig", metavar="FILE.bw", help="also write the predictions as a bigWig")
    parser.add_argument("--out-dir", metavar="DIR", help="datasets: one SAMPLE.bedGraph and SAMPLE.bw per sample")
    parser.add_argument(
        "--shard",
        metavar="I/N",
        type=shard_spec,
        help=option_help("shard"),
    )
    parser.add_argument("--cgi", metavar="BED", help="CpG islands, to fill the cgi column in genome mode")
    parser.add_argument("--keep-strands", action="store_true", help=option_help("keep_strands"))
    parser.add_argument("--cache-dir", metavar="DIR", help=option_help("cache_dir"))
    parser.add_argument("--chunk-size", type=positive_int, default=DEFAULTS.chunk_size, help=option_help("chunk_size"))
    parser.add_argument("--precision", choices=PRECISIONS, default=DEFAULTS.precision, help=option_help("precision"))
    g = parser.add_argument_group("variant effects")
    g.add_argument("--variants", metavar="VCF", help=option_help("variants"))
    g.add_argument("--null", type=non_negative_int, default=DEFAULTS.null, metavar="N", help=option_help("null"))
    g.add_argument("--skip-ref-mismatch", action="store_true", help=option_help("skip_ref_mismatch"))
    g.add_argument("--seed", type=non_negative_int, default=0, help=option_help("seed"))
    return parser


def _body(args, log):

    if not args.datasets and not args.genome:
        raise UsageError("give dataset NPZ files, or --genome to predict every CpG of the genome")
    if bool(args.model) == bool(args.baseline):
        raise UsageError("give a model (-m MODEL) or --baseline neighbours|samples, one of them")
    options = PredictOptions(
        output_format=args.output_format,
        chrom_names=args.chrom_names,
        shard=args.shard,
        selection=selection(args),
        keep_strands=args.keep_strands,
        cache_dir=args.cache_dir,
        chunk_size=args.chunk_size,
        batch_size=args.batch_size,
        threads=args.threads,
        precision=args.precision,
        progress=not args.quiet,
        baseline=args.baseline,
        impute_missing=args.impute_missing,
        skip_ref_mismatch=args.skip_ref_mismatch,
        null=args.null,
    )
    if args.variants:  # variant effects: the library checks what they need (a model, --genome, no datasets)
        unused = [o for o, v in (("--bigwig", args.bigwig), ("--shard", args.shard), ("--out-dir", args.out_dir)) if v]
        if unused or args.output_format != DEFAULTS.output_format:
            what = ", ".join(unused) or "--output-format"
            raise UsageError(f"--variants writes one effects table (-o FILE): {what} does not apply to it")
        effects = variant_effects_to_file(
            args.model, args.genome, args.variants, args.output, seed=args.seed, options=options, datasets=args.datasets
        )
        return log.info("%s", effects.summary())
    result = predict_to_files(
        args.model,
        datasets=args.datasets,
        genome_path=args.genome,
        output=args.output,
        bigwig=args.bigwig,
        cgi=IntervalSet(read_bed(args.cgi)) if args.cgi and not args.datasets else None,
        options=options,
        out_dir=args.out_dir,
    )
    shard = f" (shard {args.shard[0]}/{args.shard[1]})" if args.shard else ""
    log.info("predicted %d sites%s", result.rows, shard)


def main(argv=None):
    return run(PROG, get_parser(), _body, argv)


if __name__ == "__main__":
    sys.exit(main())
