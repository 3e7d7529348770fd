#!/usr/bin/env python
"""Benchmark mrcnn-train's input pipeline against a naive one and against the model alone.

For each architecture, in child processes (so that each peak RSS is its own):
  pipeline    this package: tf.data over uint8 codes, one-hot inside the model
  naive       float32 one-hot numpy arrays (N, W, 4) given to model.fit
  model-alone a compiled train step repeated on one batch already in memory (the CPU's compute limit)
Prints samples/s (second epoch) and bytes of memory per training site above the process before the data.
--ab: one process, MRCNN, epochs alternated between the cases, medians (CPU seconds and wall) and ratios:
  pipeline    as above (what mrcnn-train does)
  fair        what a competent user writes: model.fit on the stored uint8 code arrays (numpy), the same model
  naive       as above (float32 one-hot arrays)
  bf16        the pipeline with TensorFlow's oneDNN bfloat16 auto mixed precision (only where the CPU has native
              bf16: models/precision.py), with the held-out RMSE of both after the same epochs
Usage: python benchmarks/train.py [--sites 100000] [--batch-size 512] [--ab [--rounds 5]]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
from _common import write_section

from mrcnn_tools.models.backend import load_tensorflow
from mrcnn_tools.models.inputs import make_tf_dataset
from mrcnn_tools.models.precision import native_bf16, use_precision
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
        model = onehot_model(model)
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


def onehot_model(model):
    """The same layers after the one-hot, taking float32 one-hot (N, W, 4): what a naive pipeline trains."""
    import keras

    inp = keras.Input((model.input_shape[1], 4))
    x = inp
    for layer in model.layers[2:]:
        x = layer(x)
    return keras.Model(inp, x)


def ab(sites, batch, rounds):
    """Epochs of each case alternated in this one process; prints medians and ratios to the pipeline."""
    load_tensorflow()
    import keras

    lines = []

    def say(text):
        print(text, flush=True)
        lines.append(text)

    rng = np.random.default_rng(0)
    # learnable labels: the GC fraction near the centre, so the held-out RMSE says whether bf16 still learns
    seq = rng.integers(0, 4, (sites + 4096, 400), dtype=np.uint8)
    y = ((seq[:, 150:250] == 1) | (seq[:, 150:250] == 2)).mean(1).astype(np.float32)
    (seq, y), (test_seq, test_y) = (seq[:sites], y[:sites]), (seq[sites:], y[sites:])
    steps = sites // batch

    def compiled(one_hot=False):
        keras.utils.set_random_seed(0)
        model = build_model("mrcnn", 400)
        model = onehot_model(model) if one_hot else model
        model.compile(keras.optimizers.Adam(1e-3), "mse", jit_compile=False)
        return model

    data = make_tf_dataset(seq, y, batch, shuffle=True, seed=0)
    onehot = np.eye(4, dtype=np.float32)[seq]
    cases = {
        "pipeline": (compiled(), dict(x=data, steps_per_epoch=steps), "float32"),
        "fair: fit on code arrays": (compiled(), dict(x=seq, y=y, batch_size=batch, shuffle=True), "float32"),
        "naive: float32 one-hot": (compiled(True), dict(x=onehot, y=y, batch_size=batch, shuffle=True), "float32"),
    }
    if native_bf16():
        cases["bf16 pipeline"] = (compiled(), dict(x=data, steps_per_epoch=steps), "bf16")
    times = {k: [] for k in cases}
    for r in range(rounds + 1):  # round 0 traces and warms: not counted
        for k in cases if r % 2 == 0 else reversed(list(cases)):
            model, fit, precision = cases[k]
            use_precision(precision)
            c, w = time.process_time(), time.perf_counter()
            model.fit(epochs=1, verbose=0, **fit)
            if r:
                times[k].append((time.process_time() - c, time.perf_counter() - w))
    use_precision("float32")
    say(f"MRCNN, {sites:,} synthetic sites, batch {batch}, {rounds} alternated epochs each (after one not counted):")
    base = None
    for k, v in times.items():
        model, _, precision = cases[k]
        cpu, wall = np.median(np.array(v), axis=0)
        base = base or (cpu, wall)
        x = np.eye(4, dtype=np.float32)[test_seq] if k.startswith("naive") else test_seq
        use_precision(precision)
        rmse = float(np.sqrt(np.mean((model.predict(x, batch_size=1024, verbose=0)[:, 0] - test_y) ** 2)))
        use_precision("float32")
        rate = f"{steps * batch / cpu:7,.0f} samples per CPU s ({base[0] / cpu:.2f}x)"
        say(f"  {k:26s} {rate}, {steps * batch / wall:7,.0f}/s wall ({base[1] / wall:.2f}x); held-out RMSE {rmse:.4f}")
    if "bf16 pipeline" not in cases:
        say("  bf16: not measured, this CPU has no native bfloat16 (avx512_bf16/amx_bf16)")
    write_section("train-ab", "```text\n$ python " + " ".join(sys.argv) + "\n" + "\n".join(lines) + "\n```")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=100000)
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--child", nargs=2, metavar=("CASE", "ARCH"), help=argparse.SUPPRESS)
    ap.add_argument("--ab", action="store_true", help="only the alternated comparisons (one process)")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if args.ab:
        return ab(args.sites, args.batch_size, args.rounds)
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
