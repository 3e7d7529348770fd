#!/usr/bin/env python
"""Benchmark genome-wide mrcnn-predict on the real chr20 (717,722 CpGs) against a naive loop and the model alone.

Cases, each in a child process (its own peak RSS), all with the same untrained MRCNN (speed does not depend
on the weights):
  predict chr20     mrcnn-predict --genome GRCh37_chr20.fa.gz (all CpGs), bedGraph to a file; timed from the
                    call of main() with TensorFlow already imported (model loading and FASTA reading included)
  predict 6 Mb      the same for chr20:1-6000000
  naive 6 Mb        per-site pyfaidx fetch, float32 one-hot, model.predict per batch
  model-alone       a compiled forward pass repeated on one batch already in memory
Usage: python benchmarks/predict.py [--batch-size 2048]
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyfaidx

from mrcnn_tools.cli.predict import main as predict_main
from mrcnn_tools.encoding import encode_bytes, find_cpgs
from mrcnn_tools.genome.fasta import Genome
from mrcnn_tools.models.architectures import build_mrcnn
from mrcnn_tools.models.backend import load_tensorflow
from mrcnn_tools.models.files import load_model, save_keras_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
FASTA = os.path.join(ROOT, "examples", "data", "GRCh37_chr20.fa.gz")


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_model(path):

    load_tensorflow()

    save_keras_model(build_mrcnn(400), path, {"arch": "mrcnn", "flank": 200, "window": 400, "encoding": "TCGA-N4"})


def child(case, model_path, fasta, batch):

    if case in ("chr20", "6mb"):
        load_tensorflow()  # imported before the clock starts, as in the other cases: not per-site work

        out = os.path.join(os.path.dirname(model_path), f"{case}.bedGraph")
        args = [
            "-q",
            "-m",
            model_path,
            "--genome",
            fasta,
            "--output-format",
            "bedgraph",
            "--batch-size",
            str(batch),
            "-o",
            out,
        ]
        if case == "6mb":
            args += ["--region", "20:1-6000000"]
        t = time.perf_counter()
        assert predict_main(args) == 0
        secs = time.perf_counter() - t
        n = sum(1 for _ in open(out))
        return {"sites": n, "seconds": secs, "peak_rss_mb": peak_mb()}

    model, _ = load_model(model_path)
    if case == "naive":
        pos = find_cpgs(Genome(fasta).codes("20"), 0, 6_000_000)
        fa = pyfaidx.Fasta(fasta, as_raw=True)
        rec = fa["20"]
        eye = np.vstack([np.eye(4, dtype=np.float32), np.zeros((1, 4), np.float32)])
        t = time.perf_counter()
        for i in range(0, len(pos), batch):
            wins = []
            for p in pos[i : i + batch]:
                s = rec[max(p - 200, 0) : p].rjust(200, "N") + rec[p + 1 : p + 201].ljust(200, "N")
                wins.append(encode_bytes(s))
            onehot = eye[np.stack(wins)]  # float32 (b, 400, 4): what a naive pipeline feeds
            codes = np.argmax(onehot, -1).astype(np.uint8) + 4 * (onehot.sum(-1) == 0)
            model.predict(codes, batch_size=batch, verbose=0)
        secs = time.perf_counter() - t
        return {"sites": int(len(pos)), "seconds": secs, "peak_rss_mb": peak_mb()}
    import tensorflow as tf

    fn = tf.function(lambda x: model(x, training=False))
    x = np.random.default_rng(0).integers(0, 4, (batch, 400), dtype=np.uint8)
    fn(x)
    reps = 40
    t = time.perf_counter()
    for _ in range(reps):
        fn(x).numpy()
    secs = time.perf_counter() - t
    return {"sites": reps * batch, "seconds": secs, "peak_rss_mb": peak_mb()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch-size", type=int, default=2048)
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.child[2], args.batch_size)))
        return
    tmp = tempfile.mkdtemp()
    try:
        fasta = os.path.join(tmp, "chr20.fa.gz")
        shutil.copy(FASTA, fasta)
        model = os.path.join(tmp, "m.keras")
        subprocess.run(
            [
                sys.executable,
                "-c",
                f"import sys; sys.path.insert(0, {ROOT!r}); "
                f"from benchmarks.predict import make_model; make_model({model!r})",
            ],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        res = {}
        for case, label in (
            ("6mb", "predict chr20:1-6,000,000"),
            ("chr20", "predict all of chr20"),
            ("naive", "naive loop, chr20:1-6,000,000"),
            ("alone", "model alone (one batch)"),
        ):
            p = subprocess.run(
                [sys.executable, __file__, "--child", case, model, fasta, "--batch-size", str(args.batch_size)],
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            if p.returncode:
                raise SystemExit(p.stderr[-3000:])
            r = res[case] = json.loads(p.stdout.strip().splitlines()[-1])
            print(
                f"{label:32s} {r['sites']:9,d} CpGs {r['sites'] / r['seconds']:9,.0f} CpGs/s   "
                f"peak RSS {r['peak_rss_mb']:,.0f} MB",
                flush=True,
            )
        rate = res["chr20"]["sites"] / res["chr20"]["seconds"]
        print(
            f"chr20: {rate / (res['naive']['sites'] / res['naive']['seconds']):.1f}x the naive loop, "
            f"{100 * rate / (res['alone']['sites'] / res['alone']['seconds']):.0f}% of the model alone; "
            f"peak RSS all of chr20 / 6 Mb = {res['chr20']['peak_rss_mb'] / res['6mb']['peak_rss_mb']:.2f}"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
