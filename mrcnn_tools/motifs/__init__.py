"""Motifs a model learned, one import for the commands: the names below live in modules split by concern.

- :mod:`.pwm` -- the Motif record, PWMs, MEME minimal format, JASPAR (pyjaspar)
- :mod:`.tomtom` -- Tomtom (memelite) with Benjamini-Hochberg q-values
- :mod:`.model` -- Keras introspection: input gradients, gradient x input, first-layer activations
- :mod:`.seqlet_clusters` -- seqlets of highest attribution, orientation, k-means into PWMs
- :mod:`.meme` -- the paper's weighted sequences for MEME
- :mod:`.plots` -- logos and t-SNE panels
- :mod:`.discover` -- motifs enriched in the regions a model attends to (the default method)
- :mod:`.modisco` -- TF-MoDISco (modisco-lite) on hypothetical contributions
- :mod:`.methods` -- find_group_motifs(method, ...): one entry point per method and group
- :mod:`.options` -- MotifOptions, the one home of mrcnn-filters2meme's defaults
- :mod:`.run` -- find_motifs: mrcnn-filters2meme's work
"""

from mrcnn_tools.motifs.meme import have_meme, meme_command, sequence_weights, write_weighted_fasta  # noqa: F401
from mrcnn_tools.motifs.methods import GROUP_SIGN, METHODS, find_group_motifs  # noqa: F401
from mrcnn_tools.motifs.model import (
    activation_motifs,
    attributions,
    first_conv,
    input_gradients,
    input_model,  # noqa
    layer_outputs,
    onehot,
)
from mrcnn_tools.motifs.modisco import require_modisco  # noqa: F401
from mrcnn_tools.motifs.plots import logo, tsne_panels  # noqa: F401
from mrcnn_tools.motifs.pwm import (
    MEME_ORDER,
    Motif,
    background_frequencies,
    fmt_p,
    information,
    jaspar_counts_motif,  # noqa
    jaspar_motif,
    jaspar_motifs,
    pwm_from_onehot,
    read_meme,
    safe_name,
    trim,
    write_meme,
)
from mrcnn_tools.motifs.seqlet_clusters import cluster_seqlets, orient, peak_regions, random_regions, seqlets  # noqa: F401
from mrcnn_tools.motifs.tomtom import MEMELITE_INSTALL, match, require_memelite, tomtom_pvalues  # noqa: F401
