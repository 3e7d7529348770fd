"""The tf.data input pipeline: shuffled index batches, each gathered by NumPy from the caller's arrays.

Nothing is copied into TensorFlow first: a batch's rows are gathered from the dataset's own arrays (the windows
are held once). A model with more inputs than the windows (context levels, an augmented strand) gives
:func:`batched_dataset` its own gather function and input spec; :func:`make_tf_dataset` is the windows-only case.
"""

import numpy as np


def index_batches(n, batch_size, *, shuffle=False, seed=0, first_epoch=0):
    """Batches of row indices 0..n-1, repeating epoch after epoch.

    Epoch ``e`` is shuffled by the stateless seed ``(seed, e)``, so that a resumed run sees the same order as an
    uninterrupted one. Batched per epoch: no batch straddles two epochs, and steps_per_epoch = ceil(n / batch_size).

    Returns
    -------
    tf.data.Dataset of int32 (int64 from 2**31 rows; int64 unshuffled) index vectors (b,)
    """
    import tensorflow as tf

    if not shuffle:
        return tf.data.Dataset.range(n).batch(batch_size).repeat()
    index_dtype = tf.int32 if n < 2**31 else tf.int64  # the same permutation in half the memory

    def epoch_batches(e):
        order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=index_dtype), seed=tf.stack([seed, e]))
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    return tf.data.Dataset.range(first_epoch, 2**31).flat_map(epoch_batches)


def batched_dataset(y, batch_size, gather_inputs, spec, *, shuffle=False, seed=0, first_epoch=0):
    """(inputs, labels) batches whose inputs a NumPy function gathers.

    Parameters
    ----------
    y : numpy.ndarray, float (n,) or (n, ...)
        Labels of the rows trained on (several samples: float32 (n, S, 2), see :func:`training_labels`).
    gather_inputs : callable
        ``gather_inputs(i)`` with *i* sorted int indices into *y* returns the inputs of those rows: one array, or a
        dict name -> array when *spec* is a dict (a model with named inputs).
    spec : (numpy dtype, tuple) or dict of name -> (numpy dtype, tuple)
        Dtype and shape after the batch axis of each input, e.g. ``(np.uint8, (400,))``.

    Returns
    -------
    tf.data.Dataset of (inputs, float32 (b, ...) labels), repeating, prefetched
    """
    import tensorflow as tf

    y = np.asarray(y, np.float32)
    named = isinstance(spec, dict)
    names = list(spec) if named else [None]
    specs = [spec[k] for k in names] if named else [spec]

    def gather_np(i):
        i = np.sort(i)  # in-order gathers read memory in order
        x = gather_inputs(i)
        return (*([x[k] for k in names] if named else [x]), y[i])

    def gather(i):
        # a NumPy gather on the caller's arrays: a TensorFlow copy of the windows would double their memory
        *parts, t = tf.numpy_function(gather_np, [i], (*[tf.as_dtype(d) for d, _ in specs], tf.float32), stateful=False)
        for part, (_, shape) in zip(parts, specs):
            part.set_shape((None, *shape))
        t.set_shape((None, *y.shape[1:]))
        return (dict(zip(names, parts)) if named else parts[0]), t

    idx = index_batches(len(y), batch_size, shuffle=shuffle, seed=seed, first_epoch=first_epoch)
    return idx.map(gather, num_parallel_calls=1, deterministic=True).prefetch(2)


def make_tf_dataset(seq, y, batch_size, *, shuffle=False, seed=0, first_epoch=0, rows=None, flank=None):
    """A tf.data pipeline over uint8 codes; one-hot happens inside the model, per batch.

    Parameters
    ----------
    seq : numpy.ndarray, uint8, shape (N, W), or SiteWindows
        Stored windows, or the sites of a sites-only dataset whose windows are cut from the genome codes
        batch by batch (:class:`mrcnn_tools.genome.codes.SiteWindows`; *flank* is then needed).
    y : numpy.ndarray, float32, shape (n,) or (n, S, 2)
        Labels of the rows trained on.
    rows : numpy.ndarray of int, shape (n,), optional
        Which rows of *seq* (a view from :func:`mrcnn_tools.data.splits.split_validation`); all when None.

    Returns
    -------
    tf.data.Dataset of (uint8 (b, W), float32 (b,)), repeating epoch after epoch
    """
    stored = isinstance(seq, np.ndarray)
    width = seq.shape[1] if stored else 2 * int(flank)

    def windows(i):
        r = i if rows is None else rows[i]
        return seq[r] if stored else seq.take(r, flank)

    return batched_dataset(
        y, batch_size, windows, (np.uint8, (width,)), shuffle=shuffle, seed=seed, first_epoch=first_epoch
    )


def input_pipeline(data, batch_size, binary=False, **kwargs):
    """:func:`make_tf_dataset` over a Dataset or Rows view, stored windows or cut from the genome; the labels of
    :func:`training_labels`."""
    source, rows = data.window_source()
    return make_tf_dataset(source, training_labels(data, binary), batch_size, rows=rows, flank=data.flank, **kwargs)


# several samples: an entry's reads beyond this many weigh as this many in the loss (its level kept), so that a few
# deep entries do not outweigh the many shallow ones that the model is judged on too
MAX_READS = 20


def is_binary(y):
    """Whether the labels of a multi-sample dataset are single-cell calls: every observed level is 0 or 1.

    Parameters
    ----------
    y : numpy.ndarray, float (n, S), NaN = not observed
    """
    values = y[~np.isnan(y)]
    return bool(values.size) and bool(np.all((values == 0) | (values == 1)))


def training_labels(data, binary=False):
    """What a model of *data* is trained against: ``y`` (n,) for one sample; for S samples float32 (n, S, 2) of
    (level, NaN -> 0; weight: the entry's reads, at most :data:`MAX_READS`, or 1 per call when *binary*; 0 where
    not observed). An observed entry without a count (level-only formats) weighs one read."""
    y = data.y
    if data.samples is None:
        return y
    seen = ~np.isnan(y)
    reads = np.clip(np.asarray(data.coverage, np.float64), 1.0, MAX_READS)
    weight = np.where(seen, 1.0 if binary else reads, 0.0)
    return np.stack([np.where(seen, y, 0.0), weight], axis=-1).astype(np.float32)
