"""Model files: save a trained model with its metadata, recognise a file by content, load it safely.

Keras models are ``.keras`` zips, the k-mer GBR baseline a skops zip (never a pickle); both carry the mrcnn-tools
metadata (architecture, flank, encoding, training summary) as an extra zip entry. The networks themselves are
built in :mod:`architectures`.
"""

import errno
import json
import logging
import os
import tempfile
import zipfile

from mrcnn_tools.encoding import ENCODING_NAME
from mrcnn_tools.errors import ModelError, MrcnnError, UsageError
from mrcnn_tools.io import atomic_path, check_readable, require_regular_file
from mrcnn_tools.models import registry
from mrcnn_tools.models.architectures import keras_module
from mrcnn_tools.models.backend import load_tensorflow

META_ENTRY = "mrcnn_meta.json"


# Every type a k-mer GBR model file may name, checked before skops builds any object. skops trusts some
# types by default; listing them all here keeps the decision in this file rather than in skops' defaults.
SKOPS_TRUSTED_TYPES = frozenset(
    {
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.str",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "builtins.NoneType",
        "numpy.ndarray",
        "numpy.dtype",
        "numpy.uint8",
        "numpy.uint32",
        "numpy.uint64",
        "numpy.int32",
        "numpy.int64",
        "numpy.float32",
        "numpy.float64",
        "numpy.bool_",
        "numpy.random._generator.Generator",
        "numpy.random.mtrand.RandomState",
        "sklearn._loss._loss.CyHalfSquaredError",
        "sklearn._loss.link.IdentityLink",
        "sklearn._loss.link.Interval",
        "sklearn._loss.loss.HalfSquaredError",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    }
)

# How skops may rebuild those objects. Functions, methods, operators and __reduce__ calls (FunctionNode,
# MethodNode, OperatorFuncNode, ReduceNode) are what a hostile file would use to run code: none is allowed.
SKOPS_TRUSTED_LOADERS = frozenset(
    {
        "DictNode",
        "ListNode",
        "TupleNode",
        "JsonNode",
        "TypeNode",
        "NdArrayNode",
        "RandomGeneratorNode",
        "RandomStateNode",
        "LossNode",
        "ObjectNode",
    }
)

# First bytes of pickle and of the compressed streams joblib writes (zlib, gzip, bz2, xz, lzma, lz4).
_PICKLE_MAGICS = (
    b"\x80\x02",
    b"\x80\x03",
    b"\x80\x04",
    b"\x80\x05",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"\x5d\x00\x00",
    b"\x04\x22\x4d\x18",
    b"ZF",
    b"\x78\x01",
    b"\x78\x5e",
    b"\x78\x9c",
    b"\x78\xda",
)
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def check_model_suffix(arch, path):
    """Refuse an output name whose suffix does not fit the architecture, before any training.

    Keras loads ``.keras`` files only, and a k-mer GBR model is a skops file; a model saved under another
    suffix would be found unusable only after training. ``.joblib`` for kmer-gbr, the name mrcnn-tools 0.1
    used, is accepted for one release with a warning: the file written is a skops file all the same (models are
    recognised by content), so users' scripts keep working and nothing pickled is ever written.

    Parameters
    ----------
    arch : str
        A name of :data:`mrcnn_tools.models.registry.ARCHITECTURES`.
    path : str
        The output path given with ``-o``.

    Raises
    ------
    UsageError
        When the suffix is not the one of *arch*.
    """

    want = registry.get(arch).suffix
    stem, ext = os.path.splitext(path)
    if ext == want:
        return
    fixed = (stem if ext else path) + want
    if arch == "kmer-gbr" and ext == ".joblib":
        logging.getLogger(__name__).warning(
            "warning: -o %s: kmer-gbr models are skops files now (a pickle can run code when it is loaded); the "
            "file is written as skops under this name, which is deprecated and accepted for this release only: "
            "name it %s",
            path,
            fixed,
        )
        return
    if arch == "kmer-gbr" and ext.lower() in (".joblib", ".pkl", ".pickle"):
        raise UsageError(
            f"-o {path}: kmer-gbr models are saved with skops.io, not pickled (a pickle can run code "
            f"when it is loaded); name the output {fixed}"
        )
    kind = "a Keras file" if want == ".keras" else "a skops file"
    raise UsageError(f"-o {path}: a {arch} model is {kind} and must end in {want}; name the output {fixed}")


def model_kind(path):
    """What a model file is, from its content (the name does not matter).

    Returns
    -------
    str
        ``"keras"`` (Keras 3 zip), ``"skops"`` (skops.io zip), ``"pickle"`` (pickle or joblib, never loaded),
        ``"hdf5"`` (legacy Keras), ``"zip"`` (another zip), ``"broken-zip"`` (a zip without its directory,
        e.g. truncated by a copy) or ``"unknown"``.
    """

    with open(path, "rb") as fh:
        head = fh.read(8)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
        if "config.json" in names and ("model.weights.h5" in names or "metadata.json" in names):
            return "keras"
        if "schema.json" in names:
            return "skops"
        return "zip"
    if head.startswith(b"PK\x03\x04"):
        return "broken-zip"
    if head.startswith(_HDF5_MAGIC):
        return "hdf5"
    if head.startswith(_PICKLE_MAGICS):
        return "pickle"
    return "unknown"


def _refuse_kind(path, kind):

    if kind == "pickle":
        raise ModelError(
            f"{path}: a pickle/joblib file; mrcnn-tools does not load pickles, which can run any code "
            "when loaded: retrain the model with mrcnn-train -o NAME.skops (kmer-gbr) or NAME.keras"
        )
    if kind == "broken-zip":
        raise ModelError(
            f"{path}: a damaged model file (a zip without its directory, e.g. a copy cut short); copy "
            "it again from where mrcnn-train wrote it"
        )
    if kind == "hdf5":
        raise ModelError(
            f"{path}: a legacy HDF5 Keras file, not one written by mrcnn-train; train the model with "
            "mrcnn-train -o NAME.keras"
        )
    raise ModelError(
        f"{path}: not a model file written by mrcnn-train (neither a .keras nor a .skops file); "
        "give the file that mrcnn-train wrote"
    )


def save_keras_model(model, path, meta):
    """Save a Keras model with its mrcnn metadata (architecture, flank, encoding, training summary) inside."""

    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)
        # Keras ignores extra entries in the .keras zip, so the metadata travels with the weights
        with zipfile.ZipFile(tmp, "a") as zf:
            zf.writestr(META_ENTRY, json.dumps(meta, sort_keys=True, indent=1))
    return path


def save_sklearn_model(estimator, path, meta):
    """Save a scikit-learn baseline with skops.io, a format that holds data only and cannot run code.

    Parameters
    ----------
    estimator : sklearn.ensemble.HistGradientBoostingRegressor
    path : str
        Output path (``.skops``); written atomically.
    meta : dict
        The mrcnn metadata, stored as a JSON entry of the same zip (skops ignores extra entries).
    """

    import skops.io as sio

    with atomic_path(path, suffix=".skops") as tmp:
        sio.dump(estimator, tmp, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        with zipfile.ZipFile(tmp, "a", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(META_ENTRY, json.dumps(meta, sort_keys=True, indent=1))
    return path


def _check_model_file(path):

    check_readable(path, "model file")
    require_regular_file(path, "model file")  # a zip is read by seeking: not from a pipe or stdin
    if not os.access(path, os.R_OK):
        raise ModelError(f"{path}: permission denied reading the model file; check its permissions")


def read_model_meta(path):
    """The metadata of a model file (.keras or .skops) without loading the network.

    The file is recognised by its content, so a renamed model still works; a pickle is refused unread.
    """

    _check_model_file(path)
    try:
        kind = model_kind(path)
        if kind not in ("keras", "skops"):
            _refuse_kind(path, kind)
        with zipfile.ZipFile(path) as zf:
            if META_ENTRY not in zf.namelist():
                what = "Keras" if kind == "keras" else "skops"
                raise ModelError(f"{path}: a {what} file without mrcnn-tools metadata; train it with mrcnn-train")
            meta = json.loads(zf.read(META_ENTRY))
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise ModelError(f"{path}: damaged model file ({exc}); copy it again or retrain it with mrcnn-train") from None
    except OSError as exc:
        raise ModelError(
            f"{path}: cannot read the model file ({exc.strerror or exc}); check the disk and the path"
        ) from None
    if not isinstance(meta, dict) or "arch" not in meta:
        raise ModelError(f"{path}: the model's mrcnn-tools metadata is incomplete; retrain it with mrcnn-train")
    want = "skops" if meta["arch"] == "kmer-gbr" else "keras"
    if want != kind:
        raise ModelError(
            f"{path}: its metadata says {meta['arch']} but the file is a {kind} file; retrain it with mrcnn-train"
        )
    return meta


def _skops_types(path):
    """Every ``module.Class`` and every loader that a skops file names, read from its schema, nothing built.

    Returns
    -------
    (set of str, set of str)
    """

    with zipfile.ZipFile(path) as zf:
        schema = json.loads(zf.read("schema.json"))
    types, loaders, stack = set(), set(), [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__class__" in node or "__module__" in node:
                types.add(f"{node.get('__module__')}.{node.get('__class__')}")
            if "__loader__" in node:
                loaders.add(str(node["__loader__"]))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return types, loaders


def _load_skops(path):

    try:
        import skops.io as sio

        types, loaders = _skops_types(path)
        untrusted = sorted(types - SKOPS_TRUSTED_TYPES) + sorted(loaders - SKOPS_TRUSTED_LOADERS)
        if untrusted:
            raise ModelError(
                f"{path}: the model names types that mrcnn-tools does not trust "
                f"({', '.join(untrusted[:3])}); only k-mer GBR models written by mrcnn-train load "
                "(one written with another scikit-learn version may need retraining)"
            )
        # skops refuses any type outside its defaults and this list, so both checks must pass
        estimator = sio.load(path, trusted=sorted(SKOPS_TRUSTED_TYPES))
    except ModelError:
        raise
    except OSError as exc:
        raise ModelError(
            f"{path}: cannot read the model file ({exc.strerror or exc}); check the disk and the path"
        ) from None
    except (zipfile.BadZipFile, ValueError, KeyError, TypeError, AttributeError, ImportError) as exc:
        raise ModelError(
            f"{path}: cannot load the k-mer GBR model ({type(exc).__name__}: {exc}); the file is "
            "damaged or from an incompatible scikit-learn: retrain it with mrcnn-train"
        ) from None
    from sklearn.ensemble import HistGradientBoostingRegressor

    if type(estimator) is not HistGradientBoostingRegressor:
        raise ModelError(f"{path}: holds a {type(estimator).__name__}, not a k-mer GBR model from mrcnn-train")
    return estimator


# errno values that mean "could not write" (temporary files while loading), not a damaged model
_WRITE_ERRNOS = ("ENOSPC", "EDQUOT", "EFBIG", "EROFS", "EACCES", "EPERM")


def _load_keras(path, threads):

    load_tensorflow(threads)
    keras = keras_module()
    registry.register_layers()  # the custom layers of every architecture, for safe loading
    try:
        if path.endswith(".keras"):
            return keras.models.load_model(path, compile=False, safe_mode=True)
        # Keras goes by the name: give a renamed model its suffix back through a link
        with tempfile.TemporaryDirectory(prefix="mrcnn-model-") as tmp:
            link = os.path.join(tmp, "model.keras")
            os.symlink(os.path.abspath(path), link)
            return keras.models.load_model(link, compile=False, safe_mode=True)
    except OSError as exc:
        if exc.errno in {getattr(errno, name) for name in _WRITE_ERRNOS if hasattr(errno, name)}:
            raise MrcnnError(
                f"{path}: could not write temporary files while loading the model "
                f"({exc.strerror}, {exc.filename or tempfile.gettempdir()}); free disk space, raise the "
                "file size limit (ulimit -f) or set TMPDIR to a writable directory with room"
            ) from None
        raise ModelError(
            f"{path}: cannot read the Keras model ({exc.strerror or exc}); check the disk and the path"
        ) from None
    except Exception as exc:  # Keras raises many types for damaged files
        text = str(exc)
        if "safe_mode" in text or "Lambda" in text:
            raise ModelError(
                f"{path}: the model holds Python code (a Lambda layer), which mrcnn-tools never runs "
                "(Keras safe mode); use a model trained by mrcnn-train"
            ) from None
        raise ModelError(
            f"{path}: damaged Keras model ({type(exc).__name__}: {text.splitlines()[0] if text else ''}); "
            "copy it again or retrain it with mrcnn-train"
        ) from None


def load_model(path, threads=None):
    """Load a model written by mrcnn-train, recognised by content; pickles are refused without being read.

    Parameters
    ----------
    path : str
    threads : int, optional
        TensorFlow threads (Keras models).

    Returns
    -------
    (model, meta) : a keras.Model or a scikit-learn estimator, and its metadata dict
    """
    meta = read_model_meta(path)
    if meta["arch"] == "kmer-gbr":
        return _load_skops(path), meta
    return _load_keras(path, threads), meta


def check_model_fits(meta, data_meta, window, model_path, data_path):
    """Refuse a dataset whose flank or encoding differs from the model's, naming both."""

    m_flank, d_flank = meta.get("flank"), window // 2
    if m_flank != d_flank:
        raise ModelError(
            f"{model_path} was trained on flank {m_flank} ({2 * m_flank}-position windows) but "
            f"{data_path} has flank {d_flank}; re-encode the data with --flank {m_flank}"
        )
    m_enc, d_enc = meta.get("encoding"), data_meta.get("encoding", ENCODING_NAME)
    if m_enc != d_enc:
        raise ModelError(
            f"{model_path} uses base encoding {m_enc} but {data_path} uses {d_enc}; "
            "re-encode the data with this version of mrcnn-encode"
        )
