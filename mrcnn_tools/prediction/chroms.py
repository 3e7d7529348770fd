"""Chromosome names of mrcnn-predict's outputs (docs/FORMATS.md §3, Predictions): one rule for both modes.

Predictions carry the genome's names, as the FASTA spells them: in genome mode the FASTA's record names; in dataset
mode the names of the FASTA the dataset was encoded with (recorded in its ``meta`` as ``chrom_lengths``), matched
to the calls' names by :func:`mrcnn_tools.genome.fasta.canonical_chrom` (``chr22``/``22``, ``chrM``/``MT``). So the
same CpG gets the same name whichever way it was predicted. ``--chrom-names ucsc`` or ``ensembl`` then renames
them to the convention of the user's annotation or genome browser (:func:`ucsc_name`, :func:`ensembl_name`).
"""

import re

import numpy as np

from mrcnn_tools.genome.fasta import canonical_chrom

CHROM_NAMES = ("genome", "ucsc", "ensembl")

# a chromosome in its own right, whose UCSC name is its Ensembl name with 'chr' before it: numbers (with an arm
# letter: Drosophila 2L), sex chromosomes (X Y; birds Z W), roman numerals (yeast I..XVI)
_PRIMARY = re.compile(r"^(\d+[A-Za-z]?|[XYZW]|[IVX]+)$")
# UCSC names of unplaced/unlocalised scaffolds, alternative haplotypes and fix patches, which hold the GenBank
# accession of the Ensembl name: chr1_gl000192_random (hg19), chrUn_gl000220, chr1_KI270706v1_random (hg38),
# chrUn_KI270302v1, chr6_GL000250v2_alt, chr1_KN196472v1_fix
_UCSC_CONTIG = re.compile(
    r"^chr(?:[^_]+_)?(?P<acc>[A-Za-z]{2}\d{6})(?:v(?P<ver>\d+))?(?:_(?:random|alt|fix))?$", re.IGNORECASE
)


def ucsc_name(name):
    """The UCSC spelling of a chromosome name: ``chr`` before a chromosome's number or letter, ``chrM`` for
    the mitochondrion (``MT``, ``M``, ``chrMT``); names already starting with ``chr`` and other contigs
    (``GL000192.1``, ``KI270728.1``, ``scaffold_7``) are left as they are: their UCSC name holds the chromosome
    they belong to, which their Ensembl name does not."""
    key = canonical_chrom(name)
    if key == "MT":
        return "chrM"
    if name[:3].lower() == "chr":
        return name
    return "chr" + name if _PRIMARY.match(name) else name


def ensembl_name(name):
    """The Ensembl spelling: no ``chr`` before a chromosome's number or letter, ``MT`` for the mitochondrion;
    the UCSC names of unplaced contigs, haplotypes and patches become their accession (``chr1_gl000192_random``
    -> ``GL000192.1``, ``chrUn_KI270302v1`` -> ``KI270302.1``); other names are left as they are."""
    key = canonical_chrom(name)
    if key == "MT":
        return "MT"
    if name[:3].lower() != "chr":
        return name
    if _PRIMARY.match(key):
        return key
    m = _UCSC_CONTIG.match(name)
    if m:
        return f"{m['acc'].upper()}.{m['ver'] or 1}"
    return name


_STYLES = {"genome": lambda name: name, "ucsc": ucsc_name, "ensembl": ensembl_name}


class ChromNamer:
    """Output names of chromosomes under a rule of :data:`CHROM_NAMES`.

    Parameters
    ----------
    style : {'genome', 'ucsc', 'ensembl'}
    genome_names : iterable of str, optional
        The genome's own names; a name given to :meth:`__call__` is first replaced by the genome name it matches
        (canonically), else kept as it is.
    """

    def __init__(self, style="genome", genome_names=()):
        if style not in _STYLES:
            raise ValueError(f"chromosome names '{style}': one of {', '.join(CHROM_NAMES)}")
        self.style = style
        self._genome = {canonical_chrom(g): g for g in genome_names}
        self._cache = {}

    def __call__(self, name):
        """The output name of chromosome *name* (str)."""
        out = self._cache.get(name)
        if out is None:
            out = self._cache[name] = _STYLES[self.style](self._genome.get(canonical_chrom(name), name))
        return out

    def array(self, names):
        """Output names of a str array (k,), vectorised over its distinct values."""
        names = np.asarray(names)
        if names.ndim == 0 or len(names) == 0:
            return names
        uniq, inverse = np.unique(names, return_inverse=True)
        return np.array([self(str(u)) for u in uniq])[inverse]
