"""mrcnn-tools: predict CpG methylation levels from DNA sequence with MRCNN (Tian et al. 2019).

The library is built by layer (docs/FORMATS.md §5). The flat module paths of 0.2 (``mrcnn_tools.dataset``,
``mrcnn_tools.regions``, ...) still import for this release, with a DeprecationWarning naming the new path
(:data:`MOVED`); ``mrcnn_tools.models`` and ``mrcnn_tools.prediction``, modules in 0.2 and layers now, still give
0.2's names likewise.
"""

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings

__version__ = "0.2.0"

# 0.2's module -> where it lives now (those whose old name is now a layer's name are answered by that layer)
MOVED = {
    "architectures": "models.architectures",
    "backend": "models.backend",
    "baselines": "models.baselines",
    "calls_columns": "calls.columns",
    "calls_source": "calls.source",
    "context": "data.neighbours",
    "context_models": "models.context",
    "context_train": "models.context_inputs",
    "cpgs": "genome.cpgs",
    "dataset": "data.dataset",
    "distributed": "training.distributed",
    "encode_run": "data.encode",
    "formats": "calls.formats",
    "genome_attach": "data.attach",
    "genome_codes": "genome.codes",
    "guard": "runtime.guard",
    "methylation": "calls.readers",
    "metrics": "evaluation.metrics",
    "motif_discover": "motifs.discover",
    "motif_io": "motifs.pwm",
    "motif_match": "motifs.tomtom",
    "motif_meme": "motifs.meme",
    "motif_methods": "motifs.methods",
    "motif_model": "motifs.model",
    "motif_modisco": "motifs.modisco",
    "motif_plots": "motifs.plots",
    "motif_run": "motifs.run",
    "motif_seqlets": "motifs.seqlet_clusters",
    "placement": "calls.placement",
    "plots": "evaluation.plots",
    "predictions": "prediction.files",
    "regions": "genome.regions",
    "reports": "evaluation.report",
    "site_arrays": "data.arrays",
    "sites": "data.sites",
    "splits": "data.splits",
    "strand": "data.strand",
    "tf_input": "models.inputs",
    "train_run": "training.run",
    "train_state": "training.state",
}


def moved_name(layer, name, homes):
    """0.2's *name* of the module that is now the layer *layer*, looked up in the modules *homes* (a layer's
    ``__getattr__``); AttributeError where none has it."""
    for home in homes:
        value = getattr(importlib.import_module(f"mrcnn_tools.{home}"), name, None)
        # a submodule of the layer is imported by the import system, never answered from here
        if value is not None and not isinstance(value, types.ModuleType):
            warnings.warn(
                f"mrcnn_tools.{layer}.{name} moved to mrcnn_tools.{home}.{name} in mrcnn-tools 0.3; "
                "the old path goes in the next release",
                DeprecationWarning,
                stacklevel=3,
            )
            setattr(sys.modules[f"mrcnn_tools.{layer}"], name, value)  # warned once
            return value
    raise AttributeError(f"module 'mrcnn_tools.{layer}' has no attribute {name!r}")


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports of 0.2's module paths answered by the modules they moved to (the same module object)."""

    def find_spec(self, fullname, path=None, target=None):
        prefix, _, old = fullname.partition(".")
        if prefix == __name__ and old in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        new = f"{__name__}.{MOVED[spec.name.partition('.')[2]]}"
        warnings.warn(
            f"{spec.name} moved to {new} in mrcnn-tools 0.3; the old path goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(new)

    def exec_module(self, module):
        """The module it answers with is already executed."""


if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModules())
