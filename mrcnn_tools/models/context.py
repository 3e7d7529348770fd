"""Keras models that impute a CpG's level from its observed neighbours, with or without its sequence.

``mrcnn-context``: MRCNN's sequence branch (built by :func:`mrcnn_tools.models.architectures.build_mrcnn`, up to its
dropout) beside a context branch; ``context-only``: the context branch alone. The context branch reads, per
neighbour, its level, log1p distance, side, log1p coverage and a present mask (``context_dist != 0``), through
two small dense layers shared by all neighbours, then one dense layer over the 2K of them in genomic order.
Both models start from the distance-weighted neighbour average (:func:`mrcnn_tools.data.neighbours.neighbour_average`,
computed inside the model) and learn a correction to it: the output layer starts at zero, so an untrained
model is the baseline, and training only has to find where sequence and neighbours say more.

``--context-dropout F`` (:class:`NeighbourDropout`) hides each neighbour with probability F in training, so
the model learns to work with sparse data; at prediction it does nothing, so predictions are deterministic.
"""

from mrcnn_tools.models.architectures import MRCNN_DEFAULTS, build_mrcnn

CONTEXT_INPUTS = ("context_level", "context_dist", "context_coverage")
NEIGHBOUR_FEATURES = ("level", "log1p_distance", "side", "log1p_coverage", "present")
CONTEXT_DEFAULTS = dict(context_units=32, dense_units=64, dropout=0.1, context_dropout=0.0)
# distances and coverages enter as logarithms scaled to about 0..1 (log1p(1e4) ~ 9.2, log1p(1000) ~ 6.9)
DIST_SCALE, COVERAGE_SCALE = 9.2, 6.9

_LAYERS = {}


def context_layers():
    """The custom layers, registered for Keras' safe loading; made once (Keras is imported lazily).

    Returns
    -------
    dict: name -> layer class (NeighbourDropout, NeighbourFeatures, NeighbourAverage)
    """
    if _LAYERS:
        return _LAYERS
    import keras
    from keras import ops

    register = keras.saving.register_keras_serializable(package="mrcnn_tools")

    @register
    class NeighbourDropout(keras.layers.Layer):
        """Hide each entry (set to 0 = missing) with probability *rate*, in training only: a neighbour's distance,
        or an other sample's coverage (:mod:`mrcnn_tools.models.samples`)."""

        def __init__(self, rate=0.0, seed=0, **kwargs):
            super().__init__(**kwargs)
            self.rate, self.seed = float(rate), int(seed)
            self.generator = keras.random.SeedGenerator(self.seed)

        def call(self, dist, training=None):
            if not training or self.rate <= 0:
                return dist
            keep = keras.random.uniform(ops.shape(dist), seed=self.generator) >= self.rate
            return ops.where(keep, dist, ops.zeros_like(dist))

        def get_config(self):
            return {**super().get_config(), "rate": self.rate, "seed": self.seed}

    @register
    class NeighbourFeatures(keras.layers.Layer):
        """(level, dist, coverage) (b, 2K) each -> float32 (b, 2K, 5): NEIGHBOUR_FEATURES, 0 where missing."""

        def call(self, inputs):
            level, dist, coverage = inputs
            present = ops.not_equal(dist, 0)
            mask = ops.cast(present, "float32")
            d = ops.cast(dist, "float32")
            level = ops.where(present, ops.cast(level, "float32"), ops.zeros_like(mask))
            feats = [
                level,
                ops.log1p(ops.abs(d)) / DIST_SCALE,
                ops.sign(d),
                ops.log1p(ops.maximum(ops.cast(coverage, "float32"), 0.0)) / COVERAGE_SCALE * mask,
                mask,
            ]
            return ops.stack(feats, axis=-1)

        def compute_output_shape(self, input_shapes):
            return (*input_shapes[1], len(NEIGHBOUR_FEATURES))

    @register
    class NeighbourAverage(keras.layers.Layer):
        """(level, dist) (..., 2K) -> float32 (..., 2): the weighted average (1 / (1 + |d|)) and whether any
        neighbour is there; (b, S, 2K) for each sample of a multi-sample model."""

        def call(self, inputs):
            level, dist = inputs
            present = ops.not_equal(dist, 0)
            w = ops.where(present, 1.0 / (1.0 + ops.abs(ops.cast(dist, "float32"))), ops.zeros_like(level))
            level = ops.where(present, level, ops.zeros_like(level))
            total = ops.sum(w, axis=-1)
            avg = ops.sum(w * level, axis=-1) / ops.maximum(total, 1e-12)
            return ops.stack([avg, ops.cast(total > 0, "float32")], axis=-1)

        def compute_output_shape(self, input_shapes):
            return (*input_shapes[0][:-1], 2)

    @register
    class OnAverage(keras.layers.Layer):
        """(average and presence (b, 2), correction (b, 1)) -> the average plus the correction, (b, 1)."""

        def call(self, inputs):
            average, delta = inputs
            return average[:, :1] + delta

        def compute_output_shape(self, input_shapes):
            return input_shapes[1]

    _LAYERS.update(
        NeighbourDropout=NeighbourDropout,
        NeighbourFeatures=NeighbourFeatures,
        NeighbourAverage=NeighbourAverage,
        OnAverage=OnAverage,
    )
    return _LAYERS


def sequence_branch(window, seed, mrcnn_kwargs):
    """The paper's network up to its last hidden layer (its output layer left out): the sequence branch of
    mrcnn-context, one or several samples. *mrcnn_kwargs*: MRCNN's settings, ``mrcnn_dense_units`` and
    ``mrcnn_dropout`` for its dense layer."""
    import keras

    kw = {k_: v for k_, v in MRCNN_DEFAULTS.items() if k_ not in ("dense_units", "dropout")}
    kw.update({k_: v for k_, v in mrcnn_kwargs.items() if k_ in kw})
    kw["dense_units"] = mrcnn_kwargs.get("mrcnn_dense_units", MRCNN_DEFAULTS["dense_units"])
    kw["dropout"] = mrcnn_kwargs.get("mrcnn_dropout", MRCNN_DEFAULTS["dropout"])
    mrcnn = build_mrcnn(window, seed=seed, **kw)
    return keras.Model(mrcnn.input, mrcnn.get_layer("dropout").output, name="mrcnn_sequence")


def build_context_model(
    arch, window, k, *, context_units=32, dense_units=64, dropout=0.1, context_dropout=0.0, seed=0, **mrcnn_kwargs
):
    """Build ``mrcnn-context`` or ``context-only``.

    Parameters
    ----------
    arch : str
        The model's name: ``mrcnn-context`` (with the MRCNN sequence branch) or ``context-only``.
    window : int
        Positions per window (2*flank; a perfect square for the MRCNN branch). Unused by ``context-only``.
    k : int
        Neighbours on each side (the dataset's ``--context K``).
    context_units : int
        Units of the per-neighbour dense layers.
    dense_units, dropout : int, float
        The joint dense layer and its dropout.
    context_dropout : float
        Fraction of neighbours hidden in each training batch.
    mrcnn_kwargs
        Passed to :func:`mrcnn_tools.models.architectures.build_mrcnn` (filters, its own dense_units and dropout as
        ``mrcnn_dense_units`` / ``mrcnn_dropout``).

    Returns
    -------
    keras.Model taking {"codes": uint8 (b, window) (mrcnn-context only), "context_level": float32 (b, 2k),
    "context_dist": int32 (b, 2k), "context_coverage": int32 (b, 2k)}, giving float32 (b, 1)
    """
    import keras

    if arch not in ("mrcnn-context", "context-only"):
        raise ValueError(f"not a context architecture: {arch}")
    layers = context_layers()
    L = keras.layers
    init = keras.initializers.GlorotUniform
    level = keras.Input((2 * k,), dtype="float32", name="context_level")
    dist = keras.Input((2 * k,), dtype="int32", name="context_dist")
    coverage = keras.Input((2 * k,), dtype="int32", name="context_coverage")
    inputs = {"context_level": level, "context_dist": dist, "context_coverage": coverage}
    seen = layers["NeighbourDropout"](context_dropout, seed=seed + 20, name="neighbour_dropout")(dist)
    average = layers["NeighbourAverage"](name="neighbour_average")([level, seen])
    x = layers["NeighbourFeatures"](name="neighbour_features")([level, seen, coverage])
    x = L.Dense(context_units, activation="relu", kernel_initializer=init(seed + 21), name="neighbour_dense1")(x)
    x = L.Dense(context_units, activation="relu", kernel_initializer=init(seed + 22), name="neighbour_dense2")(x)
    x = L.Flatten(name="neighbours")(x)
    x = L.Dense(dense_units, activation="relu", kernel_initializer=init(seed + 23), name="context_dense")(x)
    joined = [x, average]
    if arch == "mrcnn-context":
        codes = keras.Input((window,), dtype="uint8", name="codes")
        inputs["codes"] = codes
        joined.append(sequence_branch(window, seed, mrcnn_kwargs)(codes))
    x = L.Concatenate(name="join")(joined)
    x = L.Dense(dense_units, activation="relu", kernel_initializer=init(seed + 24), name="joint_dense")(x)
    x = L.Dropout(dropout, seed=seed + 25, name="joint_dropout")(x)
    # starts at zero: the untrained model is the neighbour average, training learns the correction
    delta = L.Dense(1, kernel_initializer="zeros", name="correction")(x)
    outputs = layers["OnAverage"](name="level")([average, delta])
    return keras.Model(inputs, outputs, name=arch.replace("-", "_"))


def context_meta(k, context_dropout):
    """What a context model records about its inputs (model metadata ``context``)."""
    return {
        "k": int(k),
        "arrays": list(CONTEXT_INPUTS),
        "features": list(NEIGHBOUR_FEATURES),
        "missing": "context_dist == 0",
        "context_dropout": float(context_dropout),
        "baseline": "distance-weighted neighbour average, 1 / (1 + |d|)",
    }
