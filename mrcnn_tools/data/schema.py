"""The dataset NPZ's arrays and their shapes (docs/FORMATS.md §3); checked when a dataset is read."""

import numpy as np

from mrcnn_tools.errors import DatasetError

SCHEMA = "mrcnn-dataset/1"
ARRAYS = ("seq", "y", "coverage", "chrom", "pos", "strand", "cgi")
# optional: observed neighbours (mrcnn-encode --context K), (N, 2K) each; see mrcnn_tools/data/neighbours.py
CONTEXT_ARRAYS = ("context_level", "context_dist", "context_coverage")
CONTEXT_DTYPES = {"context_level": np.float32, "context_dist": np.int32, "context_coverage": np.int32}
# several samples (mrcnn-encode --calls A --calls B ...): y and coverage are (N, S), the context arrays (N, S, 2K)
# and the names of the S samples are stored in 'samples'; one sample keeps the 1-D layout and has no 'samples'
SAMPLES = "samples"


def check_samples(arrays, path):
    """One sample: 1-D y and coverage, no 'samples'; S samples: (N, S) y and coverage and S distinct names."""
    names = arrays.get(SAMPLES)
    want = 1 if names is None else 2
    if names is not None and (names.ndim != 1 or len(set(names.tolist())) != len(names) or len(names) < 2):
        raise DatasetError(f"{path}: 'samples' must hold two or more distinct names; the file is damaged")
    for k in ("y", "coverage"):
        a = arrays[k]
        if a.ndim != want or (names is not None and a.shape[1] != len(names)):
            shape = "(N,)" if names is None else f"(N, {len(names)})"
            raise DatasetError(f"{path}: '{k}' must be {shape}, found {a.shape}; the file is damaged")


def check_context(arrays, path):
    """The context arrays are all there or all absent, of one (N, 2K) shape ((N, S, 2K) with S samples)."""
    have = [k for k in CONTEXT_ARRAYS if k in arrays]
    if not have:
        return
    if len(have) < len(CONTEXT_ARRAYS):
        missing = [k for k in CONTEXT_ARRAYS if k not in arrays]
        raise DatasetError(
            f"{path}: context arrays {', '.join(missing)} are missing; re-encode with mrcnn-encode --context K"
        )
    shapes = {arrays[k].shape for k in CONTEXT_ARRAYS}
    shape = arrays["context_dist"].shape
    names = arrays.get(SAMPLES)
    want = (2,) if names is None else (3,)
    samples_ok = names is None or (len(shape) == 3 and shape[1] == len(names))
    if len(shapes) > 1 or len(shape) not in want or not samples_ok or shape[-1] % 2 or shape[-1] == 0:
        form = "(N, 2K)" if names is None else f"(N, {len(names)}, 2K)"
        raise DatasetError(
            f"{path}: context arrays must all be {form}; found {sorted(shapes)}; the file is "
            "damaged, re-encode with mrcnn-encode --context K"
        )
