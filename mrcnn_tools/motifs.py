"""Motifs a model learned, one import for the commands: the names below live in modules split by concern.

- :mod:`.motif_io` -- the Motif record, PWMs, MEME minimal format, JASPAR (pyjaspar)
- :mod:`.motif_match` -- Tomtom (memelite) with Benjamini-Hochberg q-values
- :mod:`.motif_model` -- Keras introspection: input gradients, gradient x input, first-layer activations
- :mod:`.motif_seqlets` -- seqlets of highest attribution, orientation, k-means into PWMs
- :mod:`.motif_meme` -- the paper's weighted sequences for MEME
- :mod:`.motif_plots` -- logos and t-SNE panels
- :mod:`.motif_discover` -- motifs enriched in the regions a model attends to (the default method)
- :mod:`.motif_modisco` -- TF-MoDISco (modisco-lite) on hypothetical contributions
- :mod:`.motif_methods` -- find_motifs(method, ...): one entry point per method and group
"""

from .motif_io import (MEME_ORDER, Motif, background_frequencies, fmt_p, information, jaspar_counts_motif,  # noqa
                       jaspar_motif, jaspar_motifs, pwm_from_onehot, read_meme, safe_name, trim, write_meme)
from .motif_match import MEMELITE_INSTALL, match, require_memelite, tomtom_pvalues  # noqa: F401
from .motif_meme import have_meme, meme_command, sequence_weights, write_weighted_fasta  # noqa: F401
from .motif_model import (activation_motifs, attributions, first_conv, input_gradients, input_model,  # noqa
                          layer_outputs, onehot)
from .motif_methods import GROUP_SIGN, METHODS, find_motifs  # noqa: F401
from .motif_modisco import require_modisco  # noqa: F401
from .motif_plots import logo, tsne_panels  # noqa: F401
from .motif_seqlets import cluster_seqlets, orient, peak_regions, random_regions, seqlets  # noqa: F401

_first_conv = first_conv  # the name of 0.1
