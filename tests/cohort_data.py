"""Tiny synthetic datasets of several samples for the prediction and evaluation tests: built by hand (a naive loop
finds each sample's neighbours), small enough that a test runs in well under a second."""

import numpy as np

from mrcnn_tools.data.dataset import Dataset
from mrcnn_tools.encoding import ENCODING_NAME
from mrcnn_tools.models.files import save_keras_model


def naive_context(pos, y, coverage, k):
    """Each sample's K nearest observed other sites on each side, by a plain loop: (n, S, 2K) level, dist, coverage."""
    n, s = y.shape
    level = np.full((n, s, 2 * k), np.nan, np.float32)
    dist = np.zeros((n, s, 2 * k), np.int32)
    cov = np.zeros((n, s, 2 * k), np.int32)
    for t in range(s):
        seen = [j for j in range(n) if np.isfinite(y[j, t])]
        for i in range(n):
            left = [j for j in seen if pos[j] < pos[i]][-k:]
            right = [j for j in seen if pos[j] > pos[i]][:k]
            for c, j in zip(range(k - len(left), k), left):
                level[i, t, c], dist[i, t, c], cov[i, t, c] = y[j, t], pos[j] - pos[i], coverage[j, t]
            for c, j in zip(range(k, k + len(right)), right):
                level[i, t, c], dist[i, t, c], cov[i, t, c] = y[j, t], pos[j] - pos[i], coverage[j, t]
    return level, dist, cov


def tiny_cohort(n=30, names=("a", "b", "c"), k=2, seed=0, observed=0.7, binary=False, chroms=("22",)):
    """A sites-only dataset of len(names) samples with --context k: levels m / (m + u) (or 0/1 calls of one
    read), a fraction *observed* of the entries observed, the rest NaN with coverage 0."""
    rng = np.random.default_rng(seed)
    s = len(names)
    chrom = np.sort(rng.choice(np.asarray(chroms), n))
    pos = np.zeros(n, np.int64)
    for c in chroms:
        m = chrom == c
        pos[m] = np.sort(rng.choice(np.arange(100, 100 + 40 * n, 2), m.sum(), replace=False))
    truth = rng.random(n)
    coverage = np.ones((n, s), np.int32) if binary else rng.integers(1, 30, (n, s)).astype(np.int32)
    y = (rng.binomial(coverage, truth[:, None]) / coverage).astype(np.float32)
    hidden = rng.random((n, s)) >= observed
    y[hidden], coverage[hidden] = np.nan, 0
    level, dist, cov = np.full((n, s, 2 * k), np.nan, np.float32), None, None
    parts = [naive_context(pos[chrom == c], y[chrom == c], coverage[chrom == c], k) for c in chroms]
    level = np.concatenate([p[0] for p in parts])
    dist = np.concatenate([p[1] for p in parts])
    cov = np.concatenate([p[2] for p in parts])
    meta = {"flank": 200, "windows": False, "genome": None, "encoding": ENCODING_NAME, "context": k}
    return Dataset(
        seq=np.empty((n, 0), np.uint8),
        y=y,
        coverage=coverage,
        chrom=chrom.astype(str),
        pos=pos,
        strand=np.full(n, "+"),
        cgi=np.full(n, -1, np.int8),
        meta=meta,
        context_level=level,
        context_dist=dist,
        context_coverage=cov,
        samples=np.asarray(names, str),
    )


def tiny_samples_model(path, names, k, seed=1):
    """A hand-built Keras model over the inputs of several samples (the contract's names and shapes), one sigmoid
    output per sample, saved with mrcnn-train's metadata (``samples``): stands in for a trained context model."""
    import keras

    s, k2 = len(names), 2 * k
    inputs = {
        "context_level": keras.Input((s, k2), dtype="float32", name="context_level"),
        "context_dist": keras.Input((s, k2), dtype="int32", name="context_dist"),
        "context_coverage": keras.Input((s, k2), dtype="int32", name="context_coverage"),
        "sample_level": keras.Input((s,), dtype="float32", name="sample_level"),
        "sample_coverage": keras.Input((s,), dtype="int32", name="sample_coverage"),
    }
    x = keras.layers.Concatenate()([keras.layers.Flatten()(v) for v in inputs.values()])
    # small weights: outputs inside (0, 1), not saturated by the coverages
    init = keras.initializers.RandomNormal(stddev=0.01, seed=seed)
    out = keras.layers.Dense(s, activation="sigmoid", kernel_initializer=init)(x)
    meta = {"arch": "context-only", "flank": 200, "encoding": ENCODING_NAME, "context": {"k": k}}
    meta["samples"] = list(names)
    return save_keras_model(keras.Model(inputs, out), str(path), meta)
