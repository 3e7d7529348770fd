"""What a trained Keras model sees: its layers applied after the one-hot, input gradients (gradient x input),
and the windows that activate each first-layer filter. TensorFlow is imported only when called."""

import numpy as np

from mrcnn_tools.encoding import one_hot
from mrcnn_tools.errors import ModelError
from mrcnn_tools.motifs.pwm import pwm_from_onehot


def onehot(seq):
    """float32 (n, W, 4) one-hot in code order (T, C, G, A); N rows zero."""

    return one_hot(seq)


def input_model(model, from_layer="one_hot"):
    """The part of a chain Keras model after *from_layer*, taking float one-hot (n, W, 4) input."""
    import keras

    names = [layer.name for layer in model.layers]
    if from_layer not in names:
        raise ModelError(f"the model has no '{from_layer}' layer; motifs need a model from mrcnn-train")
    start = names.index(from_layer) + 1
    inp = keras.Input(tuple(model.get_layer(from_layer).output.shape[1:]))
    x = inp
    for layer in model.layers[start:]:
        x = layer(x)
    return keras.Model(inp, x)


def layer_outputs(model, seq, names, batch_size=256):
    """Outputs of the named layers of a chain Keras model for windows *seq*, applied eagerly after the one-hot.

    Returns
    -------
    dict name -> numpy.ndarray (n, ...)
    """
    layers = [layer for layer in model.layers if type(layer).__name__ not in ("InputLayer",)]
    start = [layer.name for layer in layers].index("one_hot") + 1
    last = max(i for i, layer in enumerate(layers) if layer.name in names)
    out = {name: [] for name in names}
    for i in range(0, len(seq), batch_size):
        x = onehot(seq[i : i + batch_size])
        for layer in layers[start : last + 1]:
            x = layer(x, training=False)
            if layer.name in out:
                out[layer.name].append(np.asarray(x))
    return {k: np.concatenate(v) for k, v in out.items()}


def input_gradients(model, seq, batch_size=256):
    """Gradient of the predicted level with respect to the one-hot input.

    Parameters
    ----------
    seq : numpy.ndarray uint8 (n, W), codes

    Returns
    -------
    numpy.ndarray float32 (n, W, 4), channels in code order
    """
    import tensorflow as tf

    sub = input_model(model)
    out = np.empty(seq.shape + (4,), np.float32)
    for i in range(0, len(seq), batch_size):
        x = tf.convert_to_tensor(onehot(seq[i : i + batch_size]))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(sub(x, training=False))
        out[i : i + batch_size] = tape.gradient(y, x).numpy()
    return out


def attributions(model, seq, batch_size=256):
    """Gradient x input per position, summed over the 4 channels.

    Returns
    -------
    numpy.ndarray float32 (n, W)
    """
    return (input_gradients(model, seq, batch_size) * onehot(seq)).sum(-1)


def first_conv(model):
    """The first convolution layer of a Keras model."""
    for layer in model.layers:
        if "conv" in type(layer).__name__.lower():
            return layer
    raise ModelError("the model has no convolution layer")


def activation_motifs(model, seq, fraction=0.5, max_sites=2000, batch_size=256):
    """DeepCpG-style: for each first-layer filter (width > 1), the windows that activate it above *fraction* of
    its maximum, aligned into a PWM.

    Returns
    -------
    list of (filter index, pwm float64 (width, 4) in MEME order, nsites)
    """
    layer = first_conv(model)
    width = int(layer.kernel.shape[0]) if len(layer.kernel.shape) == 3 else 1
    if width <= 1:
        raise ModelError(
            "--method activation needs a first convolution wider than 1 bp (e.g. --arch simple-cnn); "
            "MRCNN's 1x4 first layer sees one base: use --method attribution"
        )
    acts = layer_outputs(model, seq, [layer.name], batch_size)[layer.name]
    out = []
    for f in range(acts.shape[2]):
        a = acts[:, :, f]
        top = a.max()
        if top <= 0:
            continue
        rows, cols = np.nonzero(a > fraction * top)
        if len(rows) > max_sites:
            keep = np.argsort(a[rows, cols])[::-1][:max_sites]
            rows, cols = rows[keep], cols[keep]
        if len(rows) < 10:
            continue
        windows = np.stack([seq[r, c : c + width] for r, c in zip(rows, cols)])
        out.append((f, pwm_from_onehot(onehot(windows)), len(rows)))
    return out
