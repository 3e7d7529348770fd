"""How mrcnn-filters2meme finds motifs: :class:`MotifOptions`, the one home of each motif default.

mrcnn-filters2meme's parser takes its defaults and their help from here (:func:`option_help`), and so do a library
caller of :func:`mrcnn_tools.motifs.run.find_motifs` and Galaxy's help
(``from mrcnn_tools.motifs.options import DEFAULTS``).
"""

from dataclasses import dataclass, field, fields

from mrcnn_tools import levels
from mrcnn_tools.errors import UsageError
from mrcnn_tools.motifs.methods import METHODS as MODEL_METHODS

METHODS = (*MODEL_METHODS, "weighted-sequences")
BY = ("truth", "prediction")


def _opt(default, text=""):
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class MotifOptions:
    """Options of one motif run (the model, the datasets and the output directory are given beside them).

    Attributes
    ----------
    groups : sequence of str
        Of :data:`mrcnn_tools.levels.NAMES`.
    by : {'truth', 'prediction'}
        Group sites by their true level or by the model's prediction (unlabelled data).
    method : str
        One of :data:`METHODS`.
    sites_per_group, max_sites : int, int or None
        At most this many sites of each group, and at most *max_sites* in all (random, *seed*).
    n_motifs, seqlet_width : int
        Motifs per group at most; the width of each site's top window (attribution, kmeans).
    motif_db, jaspar : str or None, bool
        Known motifs (MEME file) or the bundled JASPAR CORE vertebrates to match against (Tomtom).
    q_value : float
        Report matches below this q-value.
    tsne : str or None
        PNG of a t-SNE of hyper vs hypo sites; silhouettes in tsne.tsv.
    seed, batch_size, threads : int, int, int or None
    """

    groups: tuple = _opt(levels.NAMES, f"methylation groups, comma-separated or repeated, of {', '.join(levels.NAMES)}")
    by: str = _opt("truth", "group sites by their true level or by the model's prediction (unlabelled data)")
    method: str = _opt(
        "attribution",
        "attribution: motifs enriched in each site's top gradient x input window over the other groups' windows; "
        "kmeans: those windows clustered by k-means (release 0.1's attribution); modisco: TF-MoDISco "
        "(modisco-lite); activation: windows that activate each first-layer filter (simple-cnn); "
        "weighted-sequences: the paper's MEME input (runs meme when on PATH)",
    )
    sites_per_group: int = _opt(2000, "at most N sites of each group: a random subset (--seed)")
    max_sites: int = _opt(None, "keep at most N sites: a random subset of those selected (--seed)")
    n_motifs: int = _opt(4, "motifs per group at most (attribution, kmeans, modisco)")
    seqlet_width: int = _opt(20, "width of each site's top window (attribution, kmeans)")
    motif_db: str = _opt(None, "known motifs in MEME format to match against")
    jaspar: bool = _opt(False, "match against JASPAR CORE vertebrates (bundled, offline)")
    q_value: float = _opt(0.05, "report matches below this q-value")
    tsne: str = _opt(
        None, "t-SNE of hyper vs hypo sites (input, first layer, last hidden layer), silhouettes in tsne.tsv"
    )
    seed: int = 0
    batch_size: int = 256  # --batch-size: the help every command shares (cli.common)
    threads: int = None

    def __post_init__(self):
        # a library caller gets the errors the command's parser gives (argparse checks choices there)
        if self.method not in METHODS:
            raise UsageError(f"method '{self.method}': give one of {', '.join(METHODS)}")
        if self.by not in BY:
            raise UsageError(f"by '{self.by}': give one of {', '.join(BY)}")
        bad = [g for g in self.groups if g not in levels.NAMES]
        if bad:
            raise UsageError(f"--groups: unknown group(s) {', '.join(bad)}; use {', '.join(levels.NAMES)}")


DEFAULTS = MotifOptions()


def option_help(name):
    """The help of option *name* (a field of :class:`MotifOptions`)."""
    return {f.name: f.metadata.get("help", "") for f in fields(MotifOptions)}[name]
