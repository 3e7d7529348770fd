"""mrcnn-encode's work: one pipeline for every mode (--calls, --all-cpgs, both, --context K, --no-windows).

Each chromosome is read once and goes through the three stages in turn (:mod:`mrcnn_tools.data.sites`):

1. sites: the calls placed, merged and filtered (:class:`~mrcnn_tools.data.sites.PlacedCalls`), or every CpG
   labelled where observed (:func:`~mrcnn_tools.data.sites.all_cpg_sites`);
2. context: with K > 0, each site's observed neighbours (:func:`~mrcnn_tools.data.neighbours.add_neighbours`; with
   --max-sites once the sites are chosen, :func:`~mrcnn_tools.data.neighbours.add_chosen_context`);
3. windows: the N filter and the windows (:class:`~mrcnn_tools.data.arrays.WindowCutter`), then --max-sites.

Memory is that of one chromosome's work besides the calls and the dataset's arrays.
"""

import logging
from dataclasses import replace

import numpy as np

from mrcnn_tools.calls.formats import ALTERNATIVE, BY_NAME
from mrcnn_tools.calls.readers import detect_format, read_calls
from mrcnn_tools.data.arrays import Summary, WindowCutter, release_free_memory
from mrcnn_tools.data.cohort import encode_samples
from mrcnn_tools.data.dataset import make_meta
from mrcnn_tools.data.neighbours import add_chosen_context, add_neighbours
from mrcnn_tools.data.options import DEFAULTS
from mrcnn_tools.data.samples import Sample, default_sample_name
from mrcnn_tools.data.sites import PlacedCalls, all_cpg_sites
from mrcnn_tools.errors import GenomeMismatchError, InputFormatError, UsageError
from mrcnn_tools.genome.fasta import Genome
from mrcnn_tools.genome.regions import IntervalSet, Selection, read_bed
from mrcnn_tools.levels import group_counts

__all__ = ["encode", "encode_file", "encode_dataset"]

log = logging.getLogger(__name__)


def encode_dataset(genome_path, calls=None, options=None, *, cgi_path=None, extra_meta=None):
    """Encode a dataset from a genome and methylation calls, or every CpG of the genome: mrcnn-encode's work.

    Parameters
    ----------
    genome_path : str or None
        Genome FASTA; None with ``options.windows`` False: the sites as the calls give them, unchecked.
    calls : str or list of Sample, optional
        Methylation calls (``-`` = stdin), read as ``options`` say (format, modification code, level scale); or
        the samples (:func:`~mrcnn_tools.data.samples.samples_from`): several give one dataset of S samples
        (:func:`~mrcnn_tools.data.cohort.encode_samples`), one is encoded as its file alone.
    options : EncodeOptions, optional
        Everything else, with its defaults (:class:`~mrcnn_tools.data.options.EncodeOptions`): the same as
        mrcnn-encode's.
    cgi_path : str, optional
        CpG islands BED for the dataset's cgi column.
    extra_meta : dict, optional
        Added to the dataset's ``meta`` (the command line, the inputs).

    Returns
    -------
    (Dataset, Summary)

    Raises
    ------
    UsageError
        Neither calls nor all_cpgs; reading options or a context without calls.
    """
    opts = options if options is not None else DEFAULTS
    if isinstance(calls, (list, tuple)):
        if len(calls) > 1 or genome_path is None:
            return encode_samples(genome_path, calls, opts, cgi_path=cgi_path, extra_meta=extra_meta)
        opts = replace(opts, calls_format=calls[0].calls_format or opts.calls_format) if calls else opts
        calls = calls[0].path if calls else None
    elif calls and genome_path is None:
        sample = Sample(default_sample_name(calls), calls, opts.calls_format)
        return encode_samples(None, [sample], opts, cgi_path=cgi_path, extra_meta=extra_meta)
    if not calls and not opts.all_cpgs:
        raise UsageError("give --calls FILE, or --all-cpgs to encode every CpG of the genome")
    if genome_path is None:
        raise UsageError("--all-cpgs needs --genome FASTA: the CpGs are found in the genome")
    if (opts.calls_format or opts.mod_code or opts.level_scale or opts.context) and not calls:
        raise UsageError("--calls-format, --mod-code, --level-scale and --context apply to --calls only")
    cgi = IntervalSet(read_bed(cgi_path)) if cgi_path else None
    genome = Genome(genome_path)
    if opts.selection is not None:
        opts.selection.check(genome)  # --region chr99:1-1000: the one error of every command, before any work
    if calls:
        return encode_file(genome, calls, opts, cgi=cgi, extra_meta=extra_meta)
    return encode(genome, None, opts, cgi=cgi, extra_meta=extra_meta)


def encode_file(genome, path, options=None, *, cgi=None, extra_meta=None):
    """Read a calls file and encode it (:func:`encode`); returns (Dataset, Summary).

    A detected format that only the reference can tell from another (:data:`mrcnn_tools.calls.formats.ALTERNATIVE`)
    is read the other way when its calls fail the base check and the other reading passes it.
    """
    opts = options if options is not None else DEFAULTS
    reading = dict(mod_code=opts.mod_code, level_scale=opts.level_scale)
    calls = None
    try:
        calls = read_calls(path, opts.calls_format, **reading)
        return encode(genome, calls, opts, cgi=cgi, calls_path=path, extra_meta=extra_meta)
    except (GenomeMismatchError, InputFormatError) as exc:
        if opts.calls_format is not None:
            raise
        detected = calls.format if calls is not None else detect_format(path)
        alt = ALTERNATIVE.get(detected)
        if alt is None:
            raise exc from None
        first = exc
    calls = None
    log.info(
        "%s: the calls do not fit as %s (%s); reading them as %s (%s)",
        path,
        detected,
        BY_NAME[detected].coords,
        alt,
        BY_NAME[alt].coords,
    )
    try:
        calls = read_calls(path, alt, **reading)
        return encode(genome, calls, opts, cgi=cgi, calls_path=path, extra_meta=extra_meta)
    except (GenomeMismatchError, InputFormatError):
        raise first from None


def encode(genome, calls=None, options=None, *, cgi=None, calls_path="calls", extra_meta=None):
    """Encode the calls (or every CpG) on *genome* into a :class:`~mrcnn_tools.data.dataset.Dataset`.

    Parameters
    ----------
    genome : Genome
    calls : Calls, optional
        The methylation calls: the sites (labelled), or with ``options.all_cpgs`` the labels of every CpG; and
        the observed neighbours of ``options.context``.
    options : EncodeOptions, optional
    cgi : IntervalSet, optional
        CpG islands; sets ``cgi`` to 1/0 (-1 when None).
    calls_path : str
        The calls' file, for the messages.
    extra_meta : dict, optional

    Returns
    -------
    (Dataset, Summary)

    Raises
    ------
    UsageError
        No calls without all_cpgs, or a context without calls.
    GenomeMismatchError, InputFormatError
        Calls that do not sit on this genome.
    """
    opts = options if options is not None else DEFAULTS
    if calls is None and not opts.all_cpgs:
        raise UsageError("give --calls FILE, or --all-cpgs to encode every CpG of the genome")
    if calls is None and opts.context:
        raise UsageError("--context needs --calls: the neighbours are observed CpGs")
    summary = Summary()
    # with --all-cpgs the sites are the CpGs: the calls only label them, and their drops are not the sites'
    placed = None
    if calls is not None:
        placed = PlacedCalls(genome, calls, opts, Summary() if opts.all_cpgs else summary, calls_path)
    # stage 2 runs on each chromosome's sites as they come, unless --max-sites will drop most of them: then on the
    # sites kept, from the observed sites held meanwhile (17 bytes an observed site, not 24 x K bytes a site)
    chosen = {} if opts.context and opts.max_sites is not None else None
    # the calls give an upper bound of the sites, reserved up front; every CpG is not known before: the arrays grow
    upper = 0 if opts.all_cpgs else placed.upper
    cutter = WindowCutter(opts, summary, cgi, upper=upper, with_context=chosen is None)
    for name, gname in _chromosomes(genome, placed, opts):
        release_free_memory()
        _chromosome(genome.codes(gname), name, gname, placed, cutter, opts, summary, chosen)
    if placed is not None:
        placed.check()
    if opts.all_cpgs:
        log.info("found %d CpG dinucleotides", summary.calls)
    data = cutter.dataset(_meta(genome, calls, opts, extra_meta))
    if chosen is not None:
        add_chosen_context(data, chosen, opts.context)
    summary.kept = len(data)
    if placed is not None and opts.all_cpgs:
        summary.duplicates = placed.summary.duplicates
        log.info(
            "%d of %d CpGs observed in %s (labelled; the others are imputed from their neighbours)",
            int(np.isfinite(data.y).sum()),
            len(data),
            calls_path,
        )
    if opts.context:
        log.info(
            "context: the %d nearest observed CpGs on each side of each site, from %d observed CpGs",
            opts.context,
            placed.observed,
        )
    if calls is not None:
        summary.groups = group_counts(data.y)
    return data, summary


def _chromosome(codes, name, gname, placed, cutter, opts, summary, chosen):
    """The three stages on one chromosome (*codes*; *name* in the dataset, *gname* in the genome); with *chosen*
    (a dict) stage 2 waits for the sites to be chosen, and the observed sites are kept there."""
    if opts.all_cpgs:
        observed = placed.sites_on(gname, codes) if placed is not None else None
        sites = all_cpg_sites(codes, name, opts, summary, observed)
    else:
        sites = observed = placed.sites(name, codes)
    if opts.context and chosen is None:
        add_neighbours(sites, observed, opts.context)
    elif opts.context:
        chosen[name] = observed.observations()
    cutter.add(sites, codes)


def _chromosomes(genome, placed, opts):
    """(name in the dataset, name in the genome) of each chromosome, in the order encoded: the calls' order and
    names, or with --all-cpgs the genome's."""
    if not opts.all_cpgs:
        return [(name, placed.genome_name(name)) for name in placed.names]
    selection = opts.selection or Selection()
    return [(name, name) for name in genome.chromosomes() if selection.chrom_ok(name)]


def _meta(genome, calls, opts, extra_meta):
    """The dataset's meta (docs/FORMATS.md §3)."""
    fields = {}
    if calls is not None:
        fields.update(min_coverage=opts.min_coverage if calls.has_counts else None, format=calls.format)
    fields["strands"] = "kept" if opts.keep_strands else "merged"
    if opts.all_cpgs:
        fields["all_cpgs"] = True
    fields.update(max_n_fraction=opts.max_n_fraction, windows=bool(opts.windows), **(extra_meta or {}))
    if opts.context:
        fields["context"] = int(opts.context)
    return make_meta(genome, opts.flank, **fields)
