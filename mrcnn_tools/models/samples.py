"""One model for many samples: every sample's level at a CpG predicted at once (issue 25).

A multi-sample dataset (``y`` (N, S), context arrays (N, S, 2K)) trains ``context-only`` and ``mrcnn-context`` as one
network with S outputs:

- a shared neighbour encoder, applied to each sample's own 2K observed neighbours (the same weights for every
  sample), and its distance-weighted neighbour average;
- the other samples at the same CpG: their levels, masked inside the model so that output s never reads entry s
  (leave-one-out by construction), through a learned S x S weighting (a weighted mean of the observed others), the
  others' deviations from their own neighbour averages, and a learned linear read-out of them;
- a learned per-sample embedding, so that samples differ, and (``mrcnn-context``) MRCNN's sequence branch, shared;
- a shared head per sample that starts from the mean of the two baselines (neighbour average, weighted mean of
  the other samples) on the logit scale and learns a correction (its output layer starts at zero).

In training, each other-sample entry is hidden with probability ``sample_dropout`` (seeded), so that the model
works where few samples are observed. Sequence architectures (``mrcnn``, ``simple-cnn``) take several samples
with one sigmoid output per sample, from the windows alone (:mod:`mrcnn_tools.models.architectures`).

The loss (:func:`masked_loss`) is masked where an entry is not observed: a binomial likelihood of the methylated
and unmethylated read counts (an observed entry without counts counts as one read), or with ``binary`` (single
cells) the cross-entropy of each observed call, every call weighing one.
"""

from mrcnn_tools.models.context import context_layers, sequence_branch

SAMPLE_INPUTS = ("sample_level", "sample_coverage")
SAMPLE_DEFAULTS = dict(embedding=8, sample_dropout=0.3)
EPS = 1e-4  # predictions are kept in [EPS, 1 - EPS] inside the loss

_LAYERS = {}


def sample_layers():
    """The custom layers, loss and metric of multi-sample models, registered for Keras' safe loading (made once).

    Returns
    -------
    dict: name -> class or function
    """
    if _LAYERS:
        return _LAYERS
    import keras
    from keras import ops

    register = keras.saving.register_keras_serializable(package="mrcnn_tools")

    @register
    class OtherSamples(keras.layers.Layer):
        """The other samples at the same CpG, entry s masked for output s.

        Inputs: level (b, S), coverage (b, S) (0 = not observed), neighbour summary (b, S, 2). Output float32
        (b, S, 7): weighted mean of the observed others (learned positive weights, S x S, diagonal zero), whether
        any other is observed, the fraction of others observed, the weighted mean of the others' deviations
        from their own neighbour averages and whether there is one, a learned linear read-out of the others'
        centred levels, and the baseline (the mean of the neighbour average and the others' mean where both exist).
        """

        def build(self, input_shapes):
            s = int(input_shapes[0][-1])
            self.n = s
            self.logits = self.add_weight(shape=(s, s), initializer="zeros", name="logits")
            self.mix = self.add_weight(shape=(s, s), initializer="zeros", name="mix")

        def call(self, inputs):
            level, coverage, summary = inputs
            others = 1.0 - ops.eye(self.n, dtype="float32")  # [s, t]: 0 on the diagonal, never read own entry
            obs = ops.cast(ops.greater(coverage, 0), "float32")
            level = level * obs
            w = ops.exp(self.logits) * others
            wsum = ops.matmul(obs, ops.transpose(w))
            mean = ops.matmul(level, ops.transpose(w)) / ops.maximum(wsum, 1e-12)
            any_other = ops.cast(wsum > 0, "float32")
            frac = ops.matmul(obs, others) / float(max(self.n - 1, 1))
            avg, present = summary[..., 0], summary[..., 1]
            dobs = obs * present
            dsum = ops.matmul(dobs, ops.transpose(w))
            dev = ops.matmul((level - avg) * dobs, ops.transpose(w)) / ops.maximum(dsum, 1e-12)
            any_dev = ops.cast(dsum > 0, "float32")
            linear = ops.matmul((level - 0.5) * obs, ops.transpose(self.mix * others))
            both = present * any_other
            base = ops.where(
                both > 0, (avg + mean) / 2, ops.where(present > 0, avg, ops.where(any_other > 0, mean, 0.5))
            )
            return ops.stack([mean, any_other, frac, dev, any_dev, linear, base], axis=-1)

        def compute_output_shape(self, input_shapes):
            return (*input_shapes[0], 7)

    @register
    class SampleEmbedding(keras.layers.Layer):
        """A learned vector per sample: (b, S, ...) -> float32 (b, S, dim), the same for every row."""

        def __init__(self, dim=8, seed=0, **kwargs):
            super().__init__(**kwargs)
            self.dim, self.seed = int(dim), int(seed)

        def build(self, input_shape):
            init = keras.initializers.RandomNormal(stddev=0.1, seed=self.seed)
            self.table = self.add_weight(shape=(int(input_shape[1]), self.dim), initializer=init, name="table")

        def call(self, x):
            b = ops.shape(x)[0]
            return ops.broadcast_to(ops.expand_dims(self.table, 0), (b, *self.table.shape))

        def compute_output_shape(self, input_shape):
            return (input_shape[0], input_shape[1], self.dim)

        def get_config(self):
            return {**super().get_config(), "dim": self.dim, "seed": self.seed}

    @register
    class OnBaseline(keras.layers.Layer):
        """(other-sample features (b, S, 7), correction (b, S, 1)) -> sigmoid(logit(baseline) + correction), (b, S)."""

        def call(self, inputs):
            feats, delta = inputs
            base = ops.clip(feats[..., -1], 0.02, 0.98)
            return ops.sigmoid(ops.log(base) - ops.log(1.0 - base) + delta[..., 0])

        def compute_output_shape(self, input_shapes):
            return input_shapes[0][:-1]

    @register
    class Broadcast(keras.layers.Layer):
        """(per-row features (b, D), anything (b, S, ...)) -> (b, S, D)."""

        def call(self, inputs):
            x, like = inputs
            s = ops.shape(like)[1]
            return ops.repeat(ops.expand_dims(x, 1), s, axis=1)

        def compute_output_shape(self, input_shapes):
            return (input_shapes[0][0], input_shapes[1][1], input_shapes[0][-1])

    @register
    def masked_loss(y_true, y_pred):
        """Per-row loss of (level, weight) labels (b, S, 2) against predictions (b, S); weight 0 = not observed.

        Each entry's weight is its reads (binomial: weight x cross-entropy = the negative log-likelihood of
        level x weight methylated and (1 - level) x weight unmethylated reads, up to a constant) or 1 (binary
        calls). The batch mean of these row values is the summed loss over the batch's summed weight.
        """
        level, weight = y_true[..., 0], y_true[..., 1]
        p = ops.clip(ops.reshape(y_pred, ops.shape(level)), EPS, 1.0 - EPS)
        nll = -weight * (level * ops.log(p) + (1.0 - level) * ops.log(1.0 - p))
        rows = ops.cast(ops.shape(level)[0], "float32")
        return ops.sum(nll, axis=-1) * rows / ops.maximum(ops.sum(weight), 1e-12)

    @register
    class MaskedRMSE(keras.metrics.Metric):
        """Root mean squared error over the observed entries (weight > 0), every entry counting once."""

        def __init__(self, name="rmse", **kwargs):
            super().__init__(name=name, **kwargs)
            self.sse = self.add_variable(shape=(), initializer="zeros", name="sse")
            self.count = self.add_variable(shape=(), initializer="zeros", name="count")

        def update_state(self, y_true, y_pred, sample_weight=None):
            level, seen = y_true[..., 0], ops.cast(y_true[..., 1] > 0, "float32")
            err = (ops.reshape(y_pred, ops.shape(level)) - level) * seen
            self.sse.assign_add(ops.sum(err * err))
            self.count.assign_add(ops.sum(seen))

        def result(self):
            return ops.sqrt(self.sse / ops.maximum(self.count, 1.0))

    _LAYERS.update(
        OtherSamples=OtherSamples,
        SampleEmbedding=SampleEmbedding,
        OnBaseline=OnBaseline,
        Broadcast=Broadcast,
        masked_loss=masked_loss,
        MaskedRMSE=MaskedRMSE,
    )
    return _LAYERS


def build_samples_model(
    arch,
    window,
    k,
    samples,
    *,
    context_units=32,
    dense_units=64,
    dropout=0.1,
    context_dropout=0.0,
    embedding=8,
    sample_dropout=0.3,
    seed=0,
    **mrcnn_kwargs,
):
    """Build ``context-only`` or ``mrcnn-context`` for S >= 2 samples.

    Parameters
    ----------
    arch : str
        ``context-only`` or ``mrcnn-context``.
    window : int
        Positions per window (a perfect square for the MRCNN branch); unused by ``context-only``.
    k : int
        Neighbours on each side (``--context K``).
    samples : int
        S, the number of samples (outputs).
    context_units, dense_units, dropout, context_dropout
        As :func:`mrcnn_tools.models.context.build_context_model`.
    embedding : int
        Length of the learned vector of each sample.
    sample_dropout : float
        Probability of hiding each other-sample entry in training.

    Returns
    -------
    keras.Model taking {"context_level": float32 (b, S, 2k), "context_dist": int32 (b, S, 2k),
    "context_coverage": int32 (b, S, 2k), "sample_level": float32 (b, S), "sample_coverage": int32 (b, S),
    "codes": uint8 (b, window) (mrcnn-context only)}, giving float32 (b, S) in (0, 1)
    """
    import keras

    if arch not in ("mrcnn-context", "context-only"):
        raise ValueError(f"not a context architecture: {arch}")
    base, own = context_layers(), sample_layers()
    L = keras.layers
    init = keras.initializers.GlorotUniform
    s, k2 = int(samples), 2 * int(k)
    level = keras.Input((s, k2), dtype="float32", name="context_level")
    dist = keras.Input((s, k2), dtype="int32", name="context_dist")
    coverage = keras.Input((s, k2), dtype="int32", name="context_coverage")
    sample_level = keras.Input((s,), dtype="float32", name="sample_level")
    sample_coverage = keras.Input((s,), dtype="int32", name="sample_coverage")
    inputs = {
        "context_level": level,
        "context_dist": dist,
        "context_coverage": coverage,
        "sample_level": sample_level,
        "sample_coverage": sample_coverage,
    }
    seen = base["NeighbourDropout"](context_dropout, seed=seed + 20, name="neighbour_dropout")(dist)
    summary = base["NeighbourAverage"](name="neighbour_average")([level, seen])
    x = base["NeighbourFeatures"](name="neighbour_features")([level, seen, coverage])
    x = L.Dense(context_units, activation="relu", kernel_initializer=init(seed + 21), name="neighbour_dense1")(x)
    x = L.Dense(context_units, activation="relu", kernel_initializer=init(seed + 22), name="neighbour_dense2")(x)
    x = L.Reshape((s, k2 * context_units), name="neighbours")(x)
    x = L.Dense(dense_units, activation="relu", kernel_initializer=init(seed + 23), name="context_dense")(x)
    shown = base["NeighbourDropout"](sample_dropout, seed=seed + 26, name="sample_dropout")(sample_coverage)
    others = own["OtherSamples"](name="other_samples")([sample_level, shown, summary])
    emb = own["SampleEmbedding"](embedding, seed=seed + 27, name="sample_embedding")(sample_level)
    joined = [x, summary, others, emb]
    if arch == "mrcnn-context":
        codes = keras.Input((window,), dtype="uint8", name="codes")
        inputs["codes"] = codes
        branch = sequence_branch(window, seed, mrcnn_kwargs)
        joined.append(own["Broadcast"](name="sequence_per_sample")([branch(codes), sample_level]))
    x = L.Concatenate(name="join")(joined)
    x = L.Dense(dense_units, activation="relu", kernel_initializer=init(seed + 24), name="joint_dense")(x)
    x = L.Dropout(dropout, seed=seed + 25, name="joint_dropout")(x)
    delta = L.Dense(1, kernel_initializer="zeros", name="correction")(x)
    outputs = own["OnBaseline"](name="level")([others, delta])
    return keras.Model(inputs, outputs, name=arch.replace("-", "_") + "_samples")


def compile_args(keras, samples):
    """The loss and metric a model of *samples* outputs is compiled with: MSE for one sample (as always), the
    masked loss of :func:`sample_layers` for several."""
    if samples <= 1:
        return dict(loss="mse", metrics=[keras.metrics.RootMeanSquaredError(name="rmse")])
    own = sample_layers()
    return dict(loss=own["masked_loss"], metrics=[own["MaskedRMSE"](name="rmse")])
