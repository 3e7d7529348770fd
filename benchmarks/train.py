#!/usr/bin/env python
"""Benchmark mrcnn-train's input pipeline against a naive one and against the model alone.

For each architecture, in child processes (so that each peak RSS is its own):
  pipeline    this package: tf.data over uint8 codes, one-hot inside the model
  naive       float32 one-hot numpy arrays (N, W, 4) given to model.fit
  model-alone a compiled train step repeated on one batch already in memory (the CPU's compute limit)
Prints samples/s (second epoch) and bytes of memory per training site above the process before the data.
Usage: python benchmarks/train.py [--sites 100000] [--batch-size 512]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

from mrcnn_tools.models.backend import load_tensorflow
from mrcnn_tools.models.inputs import make_tf_dataset
from mrcnn_tools.models.registry import build_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(case, arch, sites, batch):

    tf = load_tensorflow()
    import keras

    keras.utils.set_random_seed(0)
    model = build_model(arch, 400)
    if case == "naive":  # the same layers after the one-hot, fed float32 one-hot arrays
        inp = keras.Input((400, 4))
        x = inp
        for layer in model.layers[2:]:
            x = layer(x)
        model = keras.Model(inp, x)
    model.compile(keras.optimizers.Adam(1e-3), "mse", jit_compile=False)
    rng = np.random.default_rng(0)
    if case == "model-alone":  # one batch in memory, nothing else
        sites_made = batch
    else:
        sites_made = sites
    seq = rng.integers(0, 4, (sites_made, 400), dtype=np.uint8)
    y = rng.random(sites_made, dtype=np.float32)
    steps = sites // batch
    if case == "pipeline":
        data = make_tf_dataset(seq, y, batch, shuffle=True, seed=0)
        fit = dict(x=data, steps_per_epoch=steps)
    elif case == "naive":
        onehot = np.eye(4, dtype=np.float32)[seq]
        del seq
        fit = dict(x=onehot, y=y, batch_size=batch, shuffle=True)
    else:
        one = tf.data.Dataset.from_tensors((seq[:batch], y[:batch])).repeat()
        fit = dict(x=one, steps_per_epoch=steps)
    times = []

    class T(keras.callbacks.Callback):
        def on_epoch_begin(self, e, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, e, logs=None):
            times.append(time.perf_counter() - self.t)

    model.fit(epochs=2, verbose=0, callbacks=[T()], **fit)
    return {"samples_per_s": steps * batch / times[-1], "peak_rss_mb": rss_mb()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=100000)
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--child", nargs=2, metavar=("CASE", "ARCH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, args.sites, args.batch_size)))
        return
    print(f"synthetic {args.sites:,} sites, window 400, batch {args.batch_size}, CPU threads {os.cpu_count()}")
    for arch in ("mrcnn", "simple-cnn"):
        res = {}
        for case in ("pipeline", "naive", "model-alone"):
            p = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    case,
                    arch,
                    "--sites",
                    str(args.sites),
                    "--batch-size",
                    str(args.batch_size),
                ],
                capture_output=True,
                text=True,
            )
            if p.returncode:
                raise SystemExit(p.stderr[-3000:])
            res[case] = json.loads(p.stdout.strip().splitlines()[-1])
        for case in ("pipeline", "naive", "model-alone"):
            r = res[case]
            # memory for the data: peak RSS above the model-alone run (same model, one batch of data)
            per_site = (r["peak_rss_mb"] - res["model-alone"]["peak_rss_mb"]) * 2**20 / args.sites
            print(
                f"{arch:10s} {case:12s} {r['samples_per_s']:9,.0f} samples/s   peak RSS {r['peak_rss_mb']:,.0f} MB"
                + ("" if case == "model-alone" else f" = model-alone + {per_site:,.0f} bytes/training site")
            )
        print(
            f"{arch:10s} pipeline = "
            f"{100 * res['pipeline']['samples_per_s'] / res['model-alone']['samples_per_s']:.0f}% "
            f"of model-alone, {res['pipeline']['samples_per_s'] / res['naive']['samples_per_s']:.2f}x naive"
        )


if __name__ == "__main__":
    main()
