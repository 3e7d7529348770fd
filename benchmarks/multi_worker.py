#!/usr/bin/env python
"""Multi-worker training on local worker processes against one process: loss curves and samples/s.

Encodes the IMR90 WGBS calls of examples/data (chr22:24-35 Mb), then trains the same model (same seed) with
  fit        mrcnn-train --strategy auto (Keras model.fit, one process)
  1 worker   mrcnn-train --strategy multi-worker, TF_CONFIG with one worker (the custom distributed step)
  2 workers  two mrcnn-train processes on localhost ports, each taking half of every global batch
and prints loss and val_loss per epoch and samples/s. With --dropout 0 the three runs take the same steps,
so their curves differ only by the order of float additions; with dropout the replicas draw other masks.
No speed target: on a 2-core machine two workers share the cores that one uses.
Usage: python benchmarks/multi_worker.py [--epochs 3] [--arch mrcnn] [--dropout 0.3] [--batch-size 128]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)


def history(path):
    with open(path) as fh:
        lines = fh.read().splitlines()
    cols = lines[0].lstrip("#").split("\t")
    return [dict(zip(cols, ln.split("\t"))) for ln in lines[1:]]


def workers(n, argv_of):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    hosts = [f"localhost:{s.getsockname()[1]}" for s in socks]
    for s in socks:
        s.close()
    procs = []
    for i in range(n):
        env = dict(
            os.environ, TF_CONFIG=json.dumps({"cluster": {"worker": hosts}, "task": {"type": "worker", "index": i}})
        )
        procs.append(
            subprocess.Popen(
                [os.path.join(BIN, "mrcnn-train"), *argv_of(i)],
                env=env,
                stdin=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for p in procs:
        err = p.communicate()[1]
        if p.returncode:
            sys.exit(f"worker failed:\n{err}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--arch", default="mrcnn")
    ap.add_argument("--dropout", default="0.3")
    ap.add_argument("--batch-size", default="128")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "train.npz")
        subprocess.run(
            [
                os.path.join(BIN, "mrcnn-encode"),
                "-q",
                "--genome",
                os.path.join(ROOT, "examples/data/GRCh37_chr22_pieces.fa.gz"),
                "--calls",
                os.path.join(ROOT, "examples/data/IMR90_WGBS_chr22_24-35Mb_GRCh37.bismark.cov.gz"),
                "-o",
                data,
            ],
            check=True,
        )
        common = [
            data,
            "--arch",
            args.arch,
            "--epochs",
            str(args.epochs),
            "--dropout",
            args.dropout,
            "--batch-size",
            args.batch_size,
            "--seed",
            "1",
            "--val-fraction",
            "0.1",
            "--patience",
            "0",
            "--threads",
            "1",
        ]
        runs = {}
        subprocess.run(
            [os.path.join(BIN, "mrcnn-train"), *common, "--history", f"{d}/fit.tsv", "-o", f"{d}/fit.keras"],
            check=True,
            stderr=subprocess.DEVNULL,
        )
        runs["fit"] = history(f"{d}/fit.tsv")
        for n in (1, 2):
            workers(
                n,
                lambda i: [
                    *common,
                    "--strategy",
                    "multi-worker",
                    "--history",
                    f"{d}/w{n}.tsv",
                    "-o",
                    f"{d}/w{n}.keras",
                ],
            )
            runs[f"{n} worker{'s' * (n > 1)}"] = history(f"{d}/w{n}.tsv")
    print(
        f"{args.arch}, dropout {args.dropout}, global batch {args.batch_size}, "
        f"{len(runs['fit'])} epochs, 1 thread per process"
    )
    print("run\tepoch\tloss\tval_loss\tsamples/s")
    for name, rows in runs.items():
        for r in rows:
            print(
                f"{name}\t{r['epoch']}\t{float(r['loss']):.5f}\t{float(r['val_loss']):.5f}\t{float(r['samples_per_s']):,.0f}"
            )


if __name__ == "__main__":
    main()
