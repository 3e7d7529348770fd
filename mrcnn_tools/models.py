"""Keras models: MRCNN (Tian et al. 2019) and the paper's simple-CNN baseline.

Both take uint8 base codes (N, W) and make the one-hot encoding inside the model, so that datasets stay
uint8 (400 bytes per site instead of 6,400 for float32 one-hot).
"""

import math

from .errors import DatasetError

ARCHITECTURES = ("mrcnn", "simple-cnn", "kmer-gbr")
KERAS_ARCHITECTURES = ("mrcnn", "simple-cnn")

# Hyper-parameters the paper leaves open; see the README's "paper says / we chose" table.
MRCNN_DEFAULTS = dict(filters1=16, filters2=32, filters3=32, filters4=32, padding="same", dense_units=64,
                      dropout=0.3)
SIMPLE_CNN_DEFAULTS = dict(filters=(32, 32), kernel_size=8, pool_size=4, dense_units=64, dropout=0.3)


def _keras():
    import keras

    return keras


def check_window(arch, window):
    """Refuse a window that an architecture cannot take, before anything is built."""
    if arch == "mrcnn":
        side = math.isqrt(window)
        if side * side != window:
            raise DatasetError(
                f"--arch mrcnn folds the window into a square, but the dataset's window is {window} positions "
                f"(flank {window // 2}), not a perfect square; re-encode with --flank 200 (400 = 20x20), "
                "--flank 50 (100 = 10x10) or --flank 450, or use --arch simple-cnn")
        if side < 9:
            raise DatasetError(f"--arch mrcnn needs a window of at least 81 positions, got {window}")


def one_hot_layer():
    """A Keras layer turning uint8 codes (N, W) into float32 one-hot (N, W, 4); code 4 (N) is all zero."""
    keras = _keras()

    @keras.saving.register_keras_serializable(package="mrcnn_tools")
    class OneHot(keras.layers.Layer):
        def call(self, inputs):
            codes = keras.ops.cast(inputs, "int32")
            return keras.ops.one_hot(codes, 5, dtype="float32")[..., :4]

        def compute_output_shape(self, input_shape):
            return (*input_shape, 4)

    return OneHot


def build_mrcnn(window=400, *, filters1=16, filters2=32, filters3=32, filters4=32, padding="same", dense_units=64,
                dropout=0.3, seed=0):
    """MRCNN as in the paper's Fig. 1.

    Layer 1: convolution 1x4, ``filters1`` filters, linear, no pooling -> (W, 1, filters1), reshaped to
    (sqrt W, sqrt W, filters1). Layer 2: 3x3 convolution, ReLU. Layer 3: 3x3 max pooling, stride 3.
    Layers 4-5: 3x3 convolutions, linear. Then flatten, dense (ReLU), dropout, one linear output.

    Parameters
    ----------
    window : int
        Positions per window (2*flank); must be a perfect square.

    Returns
    -------
    keras.Model taking uint8 (N, window), giving float32 (N, 1)
    """
    keras = _keras()
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
    outputs = L.Dense(1, activation=None, kernel_initializer=init(seed + 6), name="level")(x)
    return keras.Model(inputs, outputs, name="mrcnn")


def build_simple_cnn(window=400, *, filters=(32, 32), kernel_size=8, pool_size=4, dense_units=64, dropout=0.3,
                     seed=0):
    """The paper's baseline: convolution, pooling, convolution, pooling, dense, output (ReLU, MSE)."""
    keras = _keras()
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
    outputs = L.Dense(1, activation=None, kernel_initializer=init(seed + 4), name="level")(x)
    return keras.Model(inputs, outputs, name="simple_cnn")


def build_model(arch, window, seed=0, **kwargs):
    """Build a Keras model by architecture name (``mrcnn`` or ``simple-cnn``)."""
    if arch == "mrcnn":
        return build_mrcnn(window, seed=seed, **kwargs)
    if arch == "simple-cnn":
        return build_simple_cnn(window, seed=seed, **kwargs)
    raise ValueError(f"not a Keras architecture: {arch}")


META_ENTRY = "mrcnn_meta.json"


def save_keras_model(model, path, meta):
    """Save a Keras model with its mrcnn metadata (architecture, flank, encoding, training summary) inside."""
    import json
    import zipfile

    from .io import atomic_path

    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)
        # Keras ignores extra entries in the .keras zip, so the metadata travels with the weights
        with zipfile.ZipFile(tmp, "a") as zf:
            zf.writestr(META_ENTRY, json.dumps(meta, sort_keys=True, indent=1))
    return path


def save_sklearn_model(estimator, path, meta):
    """Save a scikit-learn baseline with joblib, metadata alongside in the same pickle."""
    import joblib

    from .io import atomic_path

    with atomic_path(path, suffix=".joblib") as tmp:
        joblib.dump({"mrcnn_meta": meta, "estimator": estimator}, tmp, compress=3)
    return path


def read_model_meta(path):
    """The metadata of a model file (.keras or joblib) without loading the network."""
    import json
    import zipfile

    from .errors import ModelError
    from .io import check_readable

    check_readable(path, "model file")
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                if META_ENTRY not in zf.namelist():
                    raise ModelError(f"{path}: a Keras file without mrcnn-tools metadata; train it with mrcnn-train")
                return json.loads(zf.read(META_ENTRY))
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise ModelError(f"{path}: unreadable model file ({exc}); train it again with mrcnn-train") from None
    blob = _load_joblib(path)
    return blob["mrcnn_meta"]


def _load_joblib(path):
    import joblib

    from .errors import ModelError

    try:
        blob = joblib.load(path)
    except Exception as exc:  # joblib/pickle raise many types for a file that is not theirs
        raise ModelError(f"{path}: not a model file made by mrcnn-train ({type(exc).__name__}); "
                         "give the .keras or .joblib file that mrcnn-train wrote") from None
    if not isinstance(blob, dict) or "mrcnn_meta" not in blob:
        raise ModelError(f"{path}: a joblib file that mrcnn-train did not write; train the model with mrcnn-train")
    return blob


def load_model(path, threads=None):
    """Load a model written by mrcnn-train.

    Returns
    -------
    (model, meta) : a keras.Model or a scikit-learn estimator, and its metadata dict
    """
    import zipfile

    from .errors import ModelError

    meta = read_model_meta(path)
    if zipfile.is_zipfile(path):
        from .backend import load_tensorflow

        load_tensorflow(threads)
        keras = _keras()
        one_hot_layer()
        try:
            model = keras.models.load_model(path, compile=False, safe_mode=True)
        except Exception as exc:  # Keras raises many types for damaged files
            raise ModelError(f"{path}: cannot load the Keras model ({type(exc).__name__}: {exc}); "
                             "train it again with mrcnn-train") from None
        return model, meta
    return _load_joblib(path)["estimator"], meta


def check_model_fits(meta, data_meta, window, model_path, data_path):
    """Refuse a dataset whose flank or encoding differs from the model's, naming both."""
    from .encoding import ENCODING_NAME
    from .errors import ModelError

    m_flank, d_flank = meta.get("flank"), window // 2
    if m_flank != d_flank:
        raise ModelError(f"{model_path} was trained on flank {m_flank} ({2 * m_flank}-position windows) but "
                         f"{data_path} has flank {d_flank}; re-encode the data with --flank {m_flank}")
    m_enc, d_enc = meta.get("encoding"), data_meta.get("encoding", ENCODING_NAME)
    if m_enc != d_enc:
        raise ModelError(f"{model_path} uses base encoding {m_enc} but {data_path} uses {d_enc}; "
                         "re-encode the data with this version of mrcnn-encode")
