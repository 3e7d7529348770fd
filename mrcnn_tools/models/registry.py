"""The one registry of architectures: a new network is one :class:`Architecture` entry in :data:`ARCHITECTURES`.

It sits one floor above the networks (architectures, context, baselines) and their input feeds (inputs,
context_inputs), so none of those names another: ``--arch``, the model-file suffix, the training pipeline, the custom
layers registered for safe loading and whether a model reads sequence all follow from the entry.
"""

from dataclasses import dataclass, field
from typing import Callable, Optional

from mrcnn_tools.models.architectures import MRCNN_DEFAULTS, build_mrcnn, build_simple_cnn, one_hot_layer
from mrcnn_tools.models.context import CONTEXT_DEFAULTS, build_context_model, context_layers
from mrcnn_tools.models.context_inputs import context_tf_dataset
from mrcnn_tools.models.inputs import input_pipeline
from mrcnn_tools.models.samples import SAMPLE_DEFAULTS, build_samples_model, sample_layers


@dataclass(frozen=True)
class Architecture:
    """One architecture of ``mrcnn-train --arch``.

    Attributes
    ----------
    name : str
        The ``--arch`` value, recorded as ``arch`` in the model's metadata.
    build : callable or None
        ``build(window, seed=0, samples=1, **hyper_parameters) -> keras.Model`` taking uint8 codes (N, window) (and
        the neighbour arrays for context models), with one output per sample; None for a scikit-learn model (k-mer
        GBR, fit by training.fit).
    pipeline : callable or None
        ``pipeline(data, batch_size, *, binary=False, shuffle=False, seed=0, first_epoch=0) -> tf.data.Dataset`` of
        (inputs, labels) from a Dataset or Rows view; None for a scikit-learn model.
    layers : tuple of callables
        Register the custom Keras layers the model holds (for Keras' safe loading of its file).
    reads_sequence : bool
        False where the model needs no window (no genome for sites-only datasets).
    reads_context : bool
        True where the model reads a dataset's observed neighbours (``mrcnn-encode --context K``).
    suffix : str
        The model file's suffix (``mrcnn-train -o``).
    defaults : dict
        Hyper-parameters the builder takes, with their defaults.
    """

    name: str
    build: Optional[Callable]
    pipeline: Optional[Callable]
    layers: tuple = ()
    reads_sequence: bool = True
    reads_context: bool = False
    suffix: str = ".keras"
    defaults: dict = field(default_factory=dict)

    @property
    def is_keras(self):
        return self.build is not None


def _context(name, with_codes):
    def build(window, seed=0, samples=1, embedding=None, sample_dropout=None, **kwargs):
        if samples > 1:  # one output per sample: mrcnn_tools.models.samples
            more = {k: v for k, v in dict(embedding=embedding, sample_dropout=sample_dropout).items() if v is not None}
            return build_samples_model(name, window, samples=samples, seed=seed, **kwargs, **more)
        return build_context_model(name, window, seed=seed, **kwargs)

    def pipeline(data, batch_size, **kwargs):
        return context_tf_dataset(data, batch_size, with_codes=with_codes, **kwargs)

    return Architecture(
        name,
        build,
        pipeline,
        layers=(one_hot_layer, context_layers, sample_layers),
        reads_sequence=with_codes,
        reads_context=True,
        defaults={**CONTEXT_DEFAULTS, **SAMPLE_DEFAULTS},
    )


ARCHITECTURES = {
    a.name: a
    for a in (
        Architecture(
            "mrcnn", build_mrcnn, input_pipeline, layers=(one_hot_layer, sample_layers), defaults=MRCNN_DEFAULTS
        ),
        Architecture("simple-cnn", build_simple_cnn, input_pipeline, layers=(one_hot_layer, sample_layers)),
        _context("mrcnn-context", with_codes=True),
        _context("context-only", with_codes=False),
        Architecture("kmer-gbr", None, None, suffix=".skops"),
    )
}
NAMES = tuple(ARCHITECTURES)
KERAS_NAMES = tuple(n for n, a in ARCHITECTURES.items() if a.is_keras)
CONTEXT_NAMES = tuple(n for n, a in ARCHITECTURES.items() if a.reads_context)
# what predicts from neighbours alone: the architectures that read no sequence and mrcnn-predict's baseline
NEIGHBOUR_BASELINE = "neighbours"
WITHOUT_SEQUENCE = (*(n for n, a in ARCHITECTURES.items() if not a.reads_sequence and a.is_keras), NEIGHBOUR_BASELINE)


def get(name):
    """The :class:`Architecture` called *name*; ValueError for an unknown name."""
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; one of {', '.join(NAMES)}") from None


def build_model(name, window, seed=0, **kwargs):
    """Build the Keras model of architecture *name*."""
    arch = get(name)
    if not arch.is_keras:
        raise ValueError(f"not a Keras architecture: {name}")
    return arch.build(window, seed=seed, **kwargs)


def reads_sequence(name):
    """Whether a model of architecture *name* (or the neighbour baseline) reads windows of sequence."""
    return name not in WITHOUT_SEQUENCE


def register_layers():
    """Register every custom Keras layer of every architecture (before loading a model file safely)."""
    seen = set()
    for arch in ARCHITECTURES.values():
        for register in arch.layers:
            if register not in seen:
                seen.add(register)
                register()
