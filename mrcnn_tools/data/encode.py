"""mrcnn-encode's work: the sites to encode chosen from calls, every CpG, or both, with observed neighbours."""

from mrcnn_tools.data.context_encode import encode_with_context
from mrcnn_tools.data.sites import encode_all_cpgs, encode_calls_file
from mrcnn_tools.errors import UsageError
from mrcnn_tools.genome.fasta import Genome
from mrcnn_tools.genome.regions import IntervalSet, read_bed


def encode_dataset(
    genome_path,
    calls=None,
    *,
    calls_format=None,
    all_cpgs=False,
    context=0,
    mod_code=None,
    level_scale=None,
    cgi_path=None,
    selection=None,
    flank=200,
    min_coverage=5,
    keep_strands=False,
    max_n_fraction=0.5,
    min_cpg_fraction=0.9,
    skip_missing_chroms=False,
    windows=True,
    extra_meta=None,
):
    """Encode a dataset from a genome and methylation calls, or every CpG of the genome.

    Parameters
    ----------
    genome_path : str
        Genome FASTA.
    calls : str, optional
        Methylation calls (``-`` = stdin); *calls_format*, *mod_code*, *level_scale* read them.
    all_cpgs : bool
        Every CpG of the selection; unlabelled, or labelled where *calls* has it.
    context : int
        Neighbours on each side from the calls (:mod:`mrcnn_tools.data.context_encode`); needs *calls*.
    cgi_path : str, optional
        CpG islands BED for the dataset's cgi column.
    Other parameters as :func:`mrcnn_tools.data.sites.encode_calls`.

    Returns
    -------
    (Dataset, Summary)

    Raises
    ------
    UsageError
        Neither calls nor all_cpgs; reading options or a context without calls.
    """

    if not calls and not all_cpgs:
        raise UsageError("give --calls FILE, or --all-cpgs to encode every CpG of the genome")
    if (calls_format or mod_code or level_scale or context) and not calls:
        raise UsageError("--calls-format, --mod-code, --level-scale and --context apply to --calls only")
    cgi = IntervalSet(read_bed(cgi_path)) if cgi_path else None
    genome = Genome(genome_path)
    common = dict(
        flank=flank,
        keep_strands=keep_strands,
        cgi=cgi,
        max_n_fraction=max_n_fraction,
        selection=selection,
        extra_meta=extra_meta,
        windows=windows,
    )
    reading = dict(
        mod_code=mod_code,
        level_scale=level_scale,
        min_coverage=min_coverage,
        skip_missing_chroms=skip_missing_chroms,
        min_cpg_fraction=min_cpg_fraction,
    )
    if calls and (context or all_cpgs):
        return encode_with_context(genome, calls, calls_format, context=context, all_cpgs=all_cpgs, **reading, **common)
    if all_cpgs:
        return encode_all_cpgs(genome, **common)
    return encode_calls_file(genome, calls, calls_format, **reading, **common)
