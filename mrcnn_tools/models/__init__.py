"""Models: the architecture registry, the networks, their input feeds and model files (docs/FORMATS.md §5).

``mrcnn_tools.models`` was the module of model files in 0.2: its names (``load_model``, ``read_model_meta``, ...)
still resolve here for this release, with a DeprecationWarning; they live in :mod:`mrcnn_tools.models.files`.
"""

from mrcnn_tools import moved_name


def __getattr__(name):
    return moved_name("models", name, ("models.files",))
