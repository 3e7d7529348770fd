"""Keras architectures: MRCNN (Tian et al. 2019) and the paper's simple-CNN baseline (registered in
mrcnn_tools.models.registry).

Both take uint8 base codes (N, W) and make the one-hot encoding inside the model, so that datasets stay
uint8 (400 bytes per site instead of 6,400 for float32 one-hot).
"""

import math

from mrcnn_tools.errors import DatasetError

# Hyper-parameters the paper leaves open; see the README's "paper says / we chose" table.
MRCNN_DEFAULTS = dict(filters1=16, filters2=32, filters3=32, filters4=32, padding="same", dense_units=64, dropout=0.3)


def keras_module():
    """Keras, imported on first use (TensorFlow takes seconds to load)."""
    import keras

    return keras


def check_window(arch, window):
    """Refuse a window that an architecture cannot take, before anything is built."""
    if arch in ("mrcnn", "mrcnn-context"):
        side = math.isqrt(window)
        if side * side != window:
            raise DatasetError(
                f"--arch {arch} folds the window into a square, but the dataset's window is {window} positions "
                f"(flank {window // 2}), not a perfect square; re-encode with --flank 200 (400 = 20x20), "
                "--flank 50 (100 = 10x10) or --flank 450, or use --arch simple-cnn"
            )
        if side < 9:
            raise DatasetError(f"--arch {arch} needs a window of at least 81 positions, got {window}")


def one_hot_layer():
    """A Keras layer turning uint8 codes (N, W) into float32 one-hot (N, W, 4); code 4 (N) is all zero."""
    keras = keras_module()

    @keras.saving.register_keras_serializable(package="mrcnn_tools")
    class OneHot(keras.layers.Layer):
        def call(self, inputs):
            codes = keras.ops.cast(inputs, "int32")
            return keras.ops.one_hot(codes, 5, dtype="float32")[..., :4]

        def compute_output_shape(self, input_shape):
            return (*input_shape, 4)

    return OneHot


def build_mrcnn(
    window=400,
    *,
    filters1=16,
    filters2=32,
    filters3=32,
    filters4=32,
    padding="same",
    dense_units=64,
    dropout=0.3,
    seed=0,
    samples=1,
):
    """MRCNN as in the paper's Fig. 1.

    Layer 1: convolution 1x4, ``filters1`` filters, linear, no pooling -> (W, 1, filters1), reshaped to
    (sqrt W, sqrt W, filters1). Layer 2: 3x3 convolution, ReLU. Layer 3: 3x3 max pooling, stride 3.
    Layers 4-5: 3x3 convolutions, linear. Then flatten, dense (ReLU), dropout, one linear output.

    Parameters
    ----------
    window : int
        Positions per window (2*flank); must be a perfect square.
    samples : int
        Outputs: 1 (the paper's one linear output), or one sigmoid output per sample of a multi-sample dataset.

    Returns
    -------
    keras.Model taking uint8 (N, window), giving float32 (N, 1), or (N, samples) in (0, 1)
    """
    keras = keras_module()
    check_window("mrcnn", window)
    side = math.isqrt(window)
    init = keras.initializers.GlorotUniform
    L = keras.layers
    inputs = keras.Input((window,), dtype="uint8", name="codes")
    x = one_hot_layer()(name="one_hot")(inputs)
    x = L.Reshape((window, 4, 1), name="as_image")(x)
    x = L.Conv2D(filters1, (1, 4), padding="valid", activation=None, kernel_initializer=init(seed), name="conv1")(x)
    x = L.Reshape((side, side, filters1), name="fold")(x)
    x = L.Conv2D(filters2, 3, padding=padding, activation="relu", kernel_initializer=init(seed + 1), name="conv2")(x)
    x = L.MaxPooling2D(3, strides=3, name="pool")(x)
    x = L.Conv2D(filters3, 3, padding=padding, activation=None, kernel_initializer=init(seed + 2), name="conv3")(x)
    x = L.Conv2D(filters4, 3, padding=padding, activation=None, kernel_initializer=init(seed + 3), name="conv4")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(dense_units, activation="relu", kernel_initializer=init(seed + 4), name="dense")(x)
    x = L.Dropout(dropout, seed=seed + 5, name="dropout")(x)
    outputs = _output(L, samples, init(seed + 6))(x)
    return keras.Model(inputs, outputs, name="mrcnn")


def build_simple_cnn(
    window=400, *, filters=(32, 32), kernel_size=8, pool_size=4, dense_units=64, dropout=0.3, seed=0, samples=1
):
    """The paper's baseline: convolution, pooling, convolution, pooling, dense, output (ReLU, MSE); with several
    *samples* one sigmoid output each, as :func:`build_mrcnn`."""
    keras = keras_module()
    init = keras.initializers.GlorotUniform
    L = keras.layers
    inputs = keras.Input((window,), dtype="uint8", name="codes")
    x = one_hot_layer()(name="one_hot")(inputs)
    x = L.Conv1D(filters[0], kernel_size, activation="relu", kernel_initializer=init(seed), name="conv1")(x)
    x = L.MaxPooling1D(pool_size, name="pool1")(x)
    x = L.Conv1D(filters[1], kernel_size, activation="relu", kernel_initializer=init(seed + 1), name="conv2")(x)
    x = L.MaxPooling1D(pool_size, name="pool2")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(dense_units, activation="relu", kernel_initializer=init(seed + 2), name="dense")(x)
    x = L.Dropout(dropout, seed=seed + 3, name="dropout")(x)
    outputs = _output(L, samples, init(seed + 4))(x)
    return keras.Model(inputs, outputs, name="simple_cnn")


def _output(layers, samples, init):
    """The output layer: one linear unit (one sample, trained with MSE), or one sigmoid unit per sample (trained
    with the masked binomial loss of mrcnn_tools.models.samples)."""
    if samples <= 1:
        return layers.Dense(1, activation=None, kernel_initializer=init, name="level")
    return layers.Dense(int(samples), activation="sigmoid", kernel_initializer=init, name="level")
