"""A dataset and the genome its windows are cut from: shared by training, prediction and motif finding."""

import logging

from mrcnn_tools.errors import DatasetError
from mrcnn_tools.genome.codes import check_dataset_genome, open_genome_codes
from mrcnn_tools.genome.fasta import Genome

log = logging.getLogger(__name__)


def attach_genome(data, genome_path, path, cache_dir=None, codes=None):
    """For a sites-only dataset, the genome codes its windows are cut from (checked by checksum).

    Parameters
    ----------
    data : mrcnn_tools.data.dataset.Dataset
    genome_path : str or None
        ``--genome``: the FASTA the dataset was encoded with.
    path : str
        The dataset's file, for messages.
    cache_dir : str, optional
        Where the genome codes are kept (:func:`mrcnn_tools.genome.codes.open_genome_codes`).
    codes : GenomeCodes, optional
        Codes already opened (for a second dataset of the same run).

    Returns
    -------
    GenomeCodes or None
        The codes (open them once, share them between training and validation data), or None when the
        dataset stores its windows and no genome is given.

    Raises
    ------
    DatasetError
        A sites-only dataset without a genome; GenomeMismatchError for another genome.
    """
    if data.has_windows and not genome_path:
        return codes
    if not genome_path:
        raise DatasetError(
            f"{path}: the dataset holds sites only (mrcnn-encode --no-windows); give --genome FASTA, "
            "the genome it was encoded with, to cut the windows"
        )
    if codes is None:
        genome = Genome(genome_path)
        check_dataset_genome(data.meta, genome.checksum(), path, genome_path)  # before writing any codes
        codes = open_genome_codes(genome_path, cache_dir=cache_dir, genome=genome)
    # checked for stored windows as well: a wrong --genome is a mistake worth a clear stop
    data.use_genome(codes, path, genome_path)
    if data.has_windows:
        log.info("%s stores its windows; --genome only checked", path)
    else:
        log.info("cutting the windows of %s from %s", path, codes.path)
    return codes
