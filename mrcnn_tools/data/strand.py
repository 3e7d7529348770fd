"""Strand symmetry: with strands merged, a CpG's window and its reverse complement describe the same site.

``mrcnn-train --rc-augment`` shows the network every batch in both orientations; a model trained so records
``"rc_augment": true`` in its metadata and is then applied to both orientations at prediction, the two
predictions averaged. In code order T=0, C=1, G=2, A=3 the complement of code c < 4 is 3 - c; N (4) stays.
"""

import numpy as np

from mrcnn_tools.encoding import N


def reverse_complement(codes):
    """Reverse complement of windows of codes: uint8 (n, W) -> uint8 (n, W), N kept."""
    codes = np.asarray(codes, np.uint8)
    return np.where(codes < N, 3 - codes, codes)[:, ::-1].astype(np.uint8)


def reverse_complement_tf(x):
    """:func:`reverse_complement` on a uint8 tensor (b, W), inside a TensorFlow graph."""
    import tensorflow as tf

    return tf.reverse(tf.where(x < N, tf.constant(3, x.dtype) - x, x), axis=[1])


def with_reverse_complements(dataset):
    """A tf.data pipeline of (uint8 windows (b, W), labels (b,)) whose every batch is followed by its reverse
    complement: batches of 2b rows, each label twice."""
    import tensorflow as tf

    return dataset.map(lambda x, y: (tf.concat([x, reverse_complement_tf(x)], 0), tf.concat([y, y], 0)))


def strand_averaged(model):
    """A function of uint8 windows (b, W): the mean of *model*'s predictions on them and on their reverse
    complements, shape (b, 1)."""
    return lambda x: 0.5 * (model(x, training=False) + model(reverse_complement_tf(x), training=False))
