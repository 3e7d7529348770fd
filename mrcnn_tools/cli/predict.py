"""mrcnn-predict: model + dataset NPZ, or model + genome (+ regions) -> per-CpG predictions (TSV, bedGraph, bigWig)."""

import contextlib
import os
import re
import sys
import tempfile

import numpy as np

from ..errors import MrcnnError, UsageError
from .common import compute_parser, genome_parser, make_parser, run, selection_parser

PROG = "mrcnn-predict"
DECIMALS = 6


def get_parser():
    parser = make_parser(
        PROG,
        "Predict the methylation level of CpGs with a model from mrcnn-train.\n\n"
        "examples:\n  mrcnn-predict -m model.keras test.npz -o pred.tsv\n"
        "  mrcnn-predict -m model.keras --genome hg19.fa.gz --chroms chr20 --format bedgraph -o chr20.bedGraph "
        "--bigwig chr20.bw\n  mrcnn-predict -m model.keras --genome hg19.fa.gz --shard $SLURM_ARRAY_TASK_ID/100 "
        "-o part.$SLURM_ARRAY_TASK_ID.tsv.gz",
        parents=[genome_parser(required=False), selection_parser(), compute_parser(batch_size=2048)])
    parser.add_argument("datasets", nargs="*", metavar="DATA.npz",
                        help="datasets from mrcnn-encode; without them, --genome predicts every CpG of the genome, "
                             "with them, --genome is the genome whose codes the windows of sites-only datasets "
                             "(mrcnn-encode --no-windows) are cut from")
    parser.add_argument("-m", "--model", required=True,
                        help="model from mrcnn-train (.keras or .skops; a pickle is refused)")
    parser.add_argument("-o", "--output", default="-", help="output file (- = stdout; .gz = gzip)")
    parser.add_argument("--format", choices=("tsv", "bedgraph"), default="tsv",
                        help="tsv: chrom start end strand prediction [y_true coverage cgi]; "
                             "bedgraph: chrom start end prediction")
    parser.add_argument("--bigwig", metavar="FILE.bw", help="also write the predictions as a bigWig")
    parser.add_argument("--shard", metavar="I/N", help="predict only part I of N (1-based) of the sites: "
                                                       "contiguous, disjoint parts for job arrays")
    parser.add_argument("--cgi", metavar="BED", help="CpG islands, to fill the cgi column in genome mode")
    parser.add_argument("--keep-strands", action="store_true", help="genome mode: predict the C of both strands")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="sites-only datasets: where to keep the genome as memory-mapped codes (default: "
                             "$MRCNN_CACHE_DIR, else beside the FASTA, else ~/.cache/mrcnn-tools)")
    parser.add_argument("--chunk-size", type=int, default=65536, help="genome mode: sites per chunk (memory)")
    return parser


def _parse_shard(text):
    m = re.fullmatch(r"(\d+)/(\d+)", text or "")
    if not m or not 1 <= int(m[1]) <= int(m[2]):
        raise UsageError(f"--shard {text}: give I/N with 1 <= I <= N, e.g. --shard 3/100")
    return int(m[1]), int(m[2])


class _Writer:
    """Writes prediction rows (vectorized per chunk) and, for --bigwig, a bedGraph copy to convert at the end.

    Rows are formatted and written by a background thread while TensorFlow predicts the next chunk
    (TensorFlow releases the GIL); the order of rows is kept.
    """

    def __init__(self, fh, fmt, extra_cols, bigwig_fh=None):
        from concurrent.futures import ThreadPoolExecutor

        self.fh, self.fmt, self.extra, self.bw = fh, fmt, extra_cols, bigwig_fh
        self.rows = 0
        self._pool = ThreadPoolExecutor(1)
        self._pending = None
        if fmt == "tsv":
            fh.write("#" + "\t".join(["chrom", "start", "end", "strand", "prediction", *extra_cols]) + "\n")

    def write(self, *args, **kwargs):
        self.flush()
        self.rows += len(args[1])
        self._pending = self._pool.submit(self._write, *args, **kwargs)

    def flush(self):
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()  # re-raises an error of the writer thread here

    def close(self):
        self.flush()
        self._pool.shutdown()

    def _write(self, chrom, pos, strand, pred, y=None, coverage=None, cgi=None):
        import pandas as pd

        if len(pos) == 0:
            return
        start = np.asarray(pos, np.int64)
        cols = {"chrom": np.broadcast_to(np.asarray(chrom), start.shape), "start": start, "end": start + 1}
        if self.fmt == "tsv":
            cols["strand"] = strand
        # rounded float64 is written by NumPy's shortest repr, in C; a float_format would format in Python
        pred = np.round(np.asarray(pred, np.float64), DECIMALS)
        cols["prediction"] = pred
        if self.fmt == "tsv":
            for name, values in (("y_true", y), ("coverage", coverage), ("cgi", cgi)):
                if name in self.extra:
                    cols[name] = np.round(np.asarray(values, np.float64), DECIMALS) if name == "y_true" else values
        frame = pd.DataFrame(cols)
        frame.to_csv(self.fh, sep="\t", header=False, index=False, na_rep="NA")
        if self.bw is not None:
            pd.DataFrame({"chrom": cols["chrom"], "start": start, "end": start + 1, "v": pred}).to_csv(
                self.bw, sep="\t", header=False, index=False)


def _strand_text(strand):
    from ..sites import STRAND_TEXT

    return STRAND_TEXT[np.asarray(strand, np.int8)]


def _write_bigwig(bedgraph_path, bigwig_path, sizes):
    import pybigtools

    def records():
        with open(bedgraph_path) as fh:
            for line in fh:
                c, s, e, v = line.split("\t")
                yield c, int(s), int(e), float(v)

    from ..io import atomic_path

    with atomic_path(bigwig_path, suffix=".bw") as tmp:
        os.remove(tmp)  # pybigtools creates the file itself
        pybigtools.open(tmp, "w").write(sizes, records())


def _progress(total, args, unit="CpG"):
    if args.quiet or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit=unit, unit_scale=True, file=sys.stderr, desc=PROG)


def _body(args, log):
    from ..encoding import extract_windows
    from ..io import open_output
    from ..models import check_model_fits, load_model, read_model_meta
    from ..prediction import Predictor, genome_chunks, shard_range
    from ..sites import cgi_flags

    if not args.datasets and not args.genome:
        raise UsageError("give dataset NPZ files, or --genome to predict every CpG of the genome")
    shard = _parse_shard(args.shard) if args.shard else None
    if args.bigwig and not os.path.isdir(os.path.dirname(os.path.abspath(args.bigwig))):
        raise MrcnnError(f"{args.bigwig}: output directory does not exist; create it first")
    meta = read_model_meta(args.model)
    flank = int(meta["flank"])
    data = genome = None
    if args.datasets:
        from ..dataset import load_datasets

        from .train import attach_genome

        data = load_datasets(args.datasets)
        check_model_fits(meta, data.meta, data.window, args.model, args.datasets[0])
        if len(data) == 0:
            raise MrcnnError(f"{args.datasets[0]}: the dataset is empty; nothing to predict")
        attach_genome(data, args, args.datasets[0], log)
    else:
        from ..genome import Genome
        from ..regions import IntervalSet, parse_region, read_bed
        from ..sites import Selection

        genome = Genome(args.genome)
        intervals = [parse_region(r) for r in args.region or []] + (read_bed(args.regions) if args.regions else [])
        selection = Selection(chroms=args.chroms, exclude_chroms=args.exclude_chroms,
                              regions=IntervalSet(intervals) if intervals else None)
        cgi = IntervalSet(read_bed(args.cgi)) if args.cgi else None
    model, meta = load_model(args.model, threads=args.threads)
    predictor = Predictor(model, meta, batch_size=args.batch_size)

    with contextlib.ExitStack() as stack:
        bw_fh = bw_path = None
        if args.bigwig:
            tmpdir = stack.enter_context(tempfile.TemporaryDirectory())
            bw_path = os.path.join(tmpdir, "pred.bedGraph")
            bw_fh = stack.enter_context(open(bw_path, "w"))
        fh = stack.enter_context(open_output(args.output))
        if data is not None:
            extra = []
            if np.isfinite(data.y).any():
                extra += ["y_true", "coverage"]
            if (data.cgi >= 0).any():
                extra += ["cgi"]
            lo, hi = shard_range(len(data), shard)
            rows = data.subset(slice(lo, hi))
            if args.bigwig:  # bigWig needs sites sorted within each chromosome
                order = np.lexsort((rows.pos, rows.chrom))
                rows = rows.subset(order)
            writer = _Writer(fh, args.format, extra, bw_fh)
            bar = _progress(len(rows), args)
            for i in range(0, len(rows), 65536):
                part = rows.subset(slice(i, i + 65536))
                pred = predictor.predict(part.windows())
                writer.write(part.chrom, part.pos, part.strand, pred, part.y, part.coverage, part.cgi)
                if bar:
                    bar.update(len(part))
            writer.close()
            sizes = {}
            lengths = data.meta.get("chrom_lengths", {})
            from ..genome import canonical_chrom

            by_key = {canonical_chrom(k): v for k, v in lengths.items()}
            for c in np.unique(rows.chrom):
                sizes[str(c)] = int(by_key.get(canonical_chrom(str(c)), rows.pos[rows.chrom == c].max() + 2))
        else:
            writer = _Writer(fh, args.format, ["cgi"] if cgi is not None else [], bw_fh)
            bar = _progress(None, args)
            for chrom, pos, strand in genome_chunks(genome, regions=selection.regions, chroms_ok=selection.chrom_ok,
                                                    keep_strands=args.keep_strands, chunk_size=args.chunk_size,
                                                    shard=shard):
                windows = extract_windows(genome.codes(chrom), pos, flank, strand)
                pred = predictor.predict(windows)
                writer.write(chrom, pos, _strand_text(strand), pred,
                             cgi=cgi_flags(cgi, chrom, pos, strand) if cgi is not None else None)
                if bar:
                    bar.update(len(pos))
            writer.close()
            if writer.rows == 0:
                raise MrcnnError("no CpG in the selected chromosomes/regions; check --region/--regions/--chroms "
                                 f"against the chromosome names of {args.genome}")
            sizes = genome.lengths()
        if bar:
            bar.close()
        if args.bigwig:
            bw_fh.close()
            _write_bigwig(bw_path, args.bigwig, sizes)
    log.info("predicted %d sites%s", writer.rows, f" (shard {shard[0]}/{shard[1]})" if shard else "")


def main(argv=None):
    return run(PROG, get_parser(), _body, argv)


if __name__ == "__main__":
    sys.exit(main())
