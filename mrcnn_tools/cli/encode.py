"""mrcnn-encode: genome FASTA + methylation calls -> dataset NPZ of windows, labels and coordinates."""

import os
import shlex
import sys

from mrcnn_tools.calls.readers import FORMATS, LEVEL_SCALES
from mrcnn_tools.cli.common import genome_parser, make_parser, run, seed_parser, selection, selection_parser
from mrcnn_tools.cli.options import add_alias, fraction, non_negative_int, positive_int
from mrcnn_tools.data.arrays import release_free_memory
from mrcnn_tools.data.encode import encode_dataset
from mrcnn_tools.data.options import DEFAULTS, EncodeOptions, option_help
from mrcnn_tools.data.samples import samples_from
from mrcnn_tools.errors import UsageError

PROG = "mrcnn-encode"


def get_parser():
    parser = make_parser(
        PROG,
        "Encode the windows around CpG sites and their methylation levels into a dataset NPZ "
        "(docs/FORMATS.md §3) for mrcnn-train, mrcnn-predict and mrcnn-eval.\n\n"
        "example:\n  mrcnn-encode --genome hg19.fa.gz --calls sample.bismark.cov.gz --cgi cpgIslands.bed "
        "--chroms chr20 -o chr20.npz",
        parents=[genome_parser(required=False), selection_parser(), seed_parser()],
    )
    parser.set_defaults(genome=None)
    next(a for a in parser._actions if a.dest == "genome").help = option_help("genome")
    src = parser.add_argument_group("input")
    src.add_argument("-c", "--calls", action="append", metavar="FILE", help=option_help("calls"))
    src.add_argument("--sample-names", metavar="A,B,...", help=option_help("sample_names"))
    src.add_argument("--calls-list", metavar="SHEET", help=option_help("calls_list"))
    src.add_argument("--all-cpgs", action="store_true", help=option_help("all_cpgs"))
    src.add_argument(
        "--context", type=non_negative_int, default=DEFAULTS.context, metavar="K", help=option_help("context")
    )
    src.add_argument("-f", "--calls-format", choices=FORMATS, metavar="FORMAT", help=option_help("calls_format"))
    add_alias(src, "--format", "calls_format", "--calls-format", choices=FORMATS, metavar="FORMAT")
    src.add_argument("--mod-code", metavar="CODE", help=option_help("mod_code"))
    src.add_argument("--level-scale", choices=LEVEL_SCALES, help=option_help("level_scale"))
    src.add_argument("--cgi", metavar="BED", help="CpG islands BED; sets the dataset's cgi column")
    enc = parser.add_argument_group("encoding")
    enc.add_argument("--flank", type=positive_int, default=DEFAULTS.flank, help=option_help("flank"))
    enc.add_argument("--keep-strands", action="store_true", help=option_help("keep_strands"))
    enc.add_argument("--no-windows", action="store_true", help=option_help("windows"))
    flt = parser.add_argument_group("filters")
    flt.add_argument(
        "--min-coverage", type=non_negative_int, default=DEFAULTS.min_coverage, help=option_help("min_coverage")
    )
    flt.add_argument(
        "--max-n-fraction", type=fraction, default=DEFAULTS.max_n_fraction, help=option_help("max_n_fraction")
    )
    flt.add_argument("--max-sites", type=positive_int, metavar="N", help=option_help("max_sites"))
    flt.add_argument(
        "--min-samples", type=positive_int, default=DEFAULTS.min_samples, metavar="K", help=option_help("min_samples")
    )
    flt.add_argument(
        "--min-cpg-fraction", type=fraction, default=DEFAULTS.min_cpg_fraction, help=option_help("min_cpg_fraction")
    )
    flt.add_argument("--skip-missing-chroms", action="store_true", help=option_help("skip_missing_chroms"))
    out = parser.add_argument_group("output")
    out.add_argument("-o", "--output", required=True, metavar="FILE.npz", help="dataset NPZ (written atomically)")
    out.add_argument(
        "--shard-size",
        type=positive_int,
        metavar="N",
        help="write shards PREFIX.000.npz, PREFIX.001.npz, ... of N sites each (PREFIX = -o without .npz)",
    )
    # --seed's default too is EncodeOptions'; the flags are off, as EncodeOptions' are (tests/unit/data/test_stages.py)
    parser.set_defaults(seed=DEFAULTS.seed)
    return parser


def options_from(args):
    """The :class:`~mrcnn_tools.data.options.EncodeOptions` of parsed arguments."""
    return EncodeOptions(
        all_cpgs=args.all_cpgs,
        context=args.context,
        selection=selection(args),
        calls_format=args.calls_format,
        mod_code=args.mod_code,
        level_scale=args.level_scale,
        min_cpg_fraction=args.min_cpg_fraction,
        skip_missing_chroms=args.skip_missing_chroms,
        keep_strands=args.keep_strands,
        min_coverage=args.min_coverage,
        flank=args.flank,
        windows=not args.no_windows,
        max_n_fraction=args.max_n_fraction,
        max_sites=args.max_sites,
        min_samples=args.min_samples,
        seed=args.seed,
    )


def _body(args, log):

    if not args.output.endswith(".npz"):
        raise UsageError(f"-o {args.output}: the dataset is an NPZ file; give a name ending in .npz")
    samples = None
    if args.calls or args.calls_list:
        samples = samples_from(args.calls, args.sample_names, args.calls_list, args.calls_format)
    elif args.sample_names:
        raise UsageError("--sample-names names the --calls files; give --calls FILE for each sample")
    inputs = [s.path for s in samples or []] + [p for p in (args.calls_list, args.cgi) if p]
    extra = {
        "command": " ".join(shlex.quote(a) for a in [PROG, *sys.argv[1:]]) if sys.argv else PROG,
        "inputs": [os.path.basename(p) for p in inputs],
    }
    data, summary = encode_dataset(args.genome, samples, options_from(args), cgi_path=args.cgi, extra_meta=extra)
    for line in summary.lines():
        log.info(line)
    if len(data) == 0:
        # as cutadapt does when every read is filtered: an empty output, said loudly, so batch runs go on
        log.warning("no site left: the dataset is empty; loosen the filters (e.g. --min-coverage) or check the region")
    # the calls freed with encode_file's return, while the dataset is written
    release_free_memory()
    if args.shard_size:
        paths = data.save_shards(args.output[:-4], args.shard_size)
        log.info("wrote %d sites to %d shards %s ... %s", len(data), len(paths), paths[0], paths[-1])
    else:
        data.save(args.output)
        log.info("wrote %d sites to %s", len(data), args.output)


def main(argv=None):
    return run(PROG, get_parser(), _body, argv)


if __name__ == "__main__":
    sys.exit(main())
