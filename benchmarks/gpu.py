#!/usr/bin/env python
"""MRCNN on a GPU: prediction CpGs/s and training samples/s by batch size, float32 vs mixed precision.

One table, a row per (precision, batch size):
  predict alone     a compiled forward pass on one batch already on the device, repeated
  predict pipeline  windows cut from (synthetic) genome codes on the host each batch, as genome mode does, then
                    the same compiled pass (host -> device copy included)
  train alone       model.fit on one batch repeated (tf.data from_tensors(...).repeat())
  train pipeline    model.fit on mrcnn-train's input pipeline (make_tf_dataset over uint8 codes, shuffled)
  peak GPU MB       tf.config.experimental.get_memory_info peak over the row's four cases
Precisions: float32 and Keras mixed precision (mixed_float16 on a GPU: float16 compute, float32 weights, loss
scaling). Without a GPU it says so and stops (exit 1), unless --cpu-smoke: the same code on the CPU (no memory
figure; mixed_bfloat16 there, as float16 has no fast CPU kernels), with --tiny a small model for tests.
Usage: python benchmarks/gpu.py [--batch-sizes 256,1024,4096,8192] [--steps 20] [--cpu-smoke [--tiny]]
"""

import argparse
import sys
import time

import numpy as np

from mrcnn_tools.encoding import extract_windows
from mrcnn_tools.models.architectures import build_mrcnn
from mrcnn_tools.models.backend import load_tensorflow
from mrcnn_tools.models.inputs import make_tf_dataset

TINY = dict(filters1=4, filters2=4, filters3=4, filters4=4, dense_units=8)
COLUMNS = ("precision", "batch", "predict alone", "predict pipeline", "train alone", "train pipeline", "peak GPU MB")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch-sizes", default="256,1024,4096,8192", help="comma-separated (default: %(default)s)")
    ap.add_argument("--steps", type=int, default=20, help="batches timed per case (default: %(default)s)")
    ap.add_argument("--precisions", default="float32,mixed", help="float32 and/or mixed (default: %(default)s)")
    ap.add_argument("--cpu-smoke", action="store_true", help="no GPU: run the same code on the CPU")
    ap.add_argument("--tiny", action="store_true", help="a small MRCNN (window 100, 4 filters): for tests")
    return ap.parse_args(argv)


def _rate(n, fn):
    """Items per second of fn() doing *n* items (after one untimed call of fn: tracing, warm caches)."""
    fn()
    t = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t)


def measure(precision, batch, steps, window, tiny, device):
    """One row of the table: the four rates (and the peak device memory in MB, None on the CPU)."""
    tf = load_tensorflow()
    import keras

    mixed = "mixed_float16" if device.startswith("GPU") else "mixed_bfloat16"
    keras.mixed_precision.set_dtype_policy(mixed if precision == "mixed" else "float32")
    try:
        keras.utils.set_random_seed(0)
        model = build_mrcnn(window, **(TINY if tiny else {}))
        model.compile(keras.optimizers.Adam(1e-3), "mse", jit_compile=False)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    if device.startswith("GPU"):
        tf.config.experimental.reset_memory_stats(device)
    rng = np.random.default_rng(0)
    n = batch * steps
    flank = window // 2
    genome = rng.integers(0, 4, 10 * n + window, dtype=np.uint8)  # synthetic codes, a site every 10 bases
    pos = flank + 10 * np.arange(n)
    seq = rng.integers(0, 4, (n, window), dtype=np.uint8)
    y = rng.random(n, dtype=np.float32)
    with tf.device(device):
        fn = tf.function(lambda x: model(x, training=False), input_signature=[tf.TensorSpec((batch, window), tf.uint8)])
        one = tf.constant(seq[:batch])

        def alone():
            for _ in range(steps):
                out = fn(one)
            out.numpy()

        def pipeline():
            for i in range(0, n, batch):
                fn(extract_windows(genome, pos[i : i + batch], flank)).numpy()

        row = [_rate(n, alone), _rate(n, pipeline)]
        repeated = tf.data.Dataset.from_tensors((seq[:batch], y[:batch])).repeat()
        data = make_tf_dataset(seq, y, batch, shuffle=True, seed=0)
        for ds in (repeated, data):
            row.append(_rate(n, lambda ds=ds: model.fit(ds, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)))
    peak = tf.config.experimental.get_memory_info(device)["peak"] / 2**20 if device.startswith("GPU") else None
    return row + [peak]


def main(argv=None):
    args = parse_args(argv)
    tf = load_tensorflow()
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus and not args.cpu_smoke:
        print("no GPU visible to TensorFlow: nothing measured (--cpu-smoke runs the same code on the CPU)")
        return 1
    device = "GPU:0" if gpus else "CPU:0"
    for gpu in gpus:
        tf.config.experimental.set_memory_growth(gpu, True)  # so that the peak is what the model needs
    window = 100 if args.tiny else 400
    name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU") if gpus else "CPU (smoke)"
    print(f"MRCNN{' (tiny)' if args.tiny else ''}, window {window}, on {name}; {args.steps} batches a case")
    print(" | ".join(COLUMNS))
    for precision in args.precisions.split(","):
        for batch in (int(b) for b in args.batch_sizes.split(",")):
            rates = measure(precision, batch, args.steps, window, args.tiny, device)
            peak = "-" if rates[-1] is None else f"{rates[-1]:,.0f}"
            cells = [f"{r:,.0f}/s" for r in rates[:-1]]
            print(" | ".join([precision, str(batch), *cells, peak]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
