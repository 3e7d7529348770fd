#!/usr/bin/env python
"""--precision bf16 vs float32: the held-out AUC and RMSE change of MRCNN on bundled data (limit: 0.002 each).

Data (as examples/demo.sh part 1): ENCODE H1 RRBS on hg19 chr20 (examples/data), trained below 45 Mb, held out
above; MRCNN trained by mrcnn-train (15 epochs, batch 32, seed 1). Predictions of the held-out sites in float32
(mrcnn-predict's Predictor) and in bfloat16:
  native    TensorFlow's oneDNN bfloat16 rewrite (mrcnn-predict --precision bf16), only on a CPU with AVX512-BF16/AMX
  emulated  the same weights in a Keras mixed_bfloat16 model (bfloat16 compute, float32 weights): the rounding of
            bfloat16 on any CPU; shown where the CPU has no native bf16, so that the size of the change is known
Also on 8,192 unlabelled chr20 windows: max |difference| and Pearson r to float32. Writes its table into
docs/REPRODUCTION.md (section precision-benchmark). Usage: python benchmarks/precision.py [--epochs 15]
"""

import argparse
import os
import shutil
import tempfile

import numpy as np
from _common import write_section

from mrcnn_tools.cli.encode import main as encode_main
from mrcnn_tools.cli.train import main as train_main
from mrcnn_tools.data.dataset import load_dataset
from mrcnn_tools.encoding import extract_windows, find_cpgs
from mrcnn_tools.evaluation.metrics import classification_metrics, regression_metrics
from mrcnn_tools.genome.fasta import Genome
from mrcnn_tools.models.architectures import build_mrcnn
from mrcnn_tools.models.files import load_model
from mrcnn_tools.models.precision import native_bf16, use_precision
from mrcnn_tools.prediction.predictors import PREDICT_ROWS, Predictor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DATA = os.path.join(ROOT, "examples", "data")
LIMIT = 0.002


def emulated_bf16(model):
    """The same weights in a Keras mixed_bfloat16 MRCNN: a predict function on uint8 codes (n, 400)."""
    import keras
    import tensorflow as tf

    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        twin = build_mrcnn(400)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    twin.set_weights(model.get_weights())
    fn = tf.function(lambda x: twin(x, training=False), input_signature=[tf.TensorSpec((PREDICT_ROWS, 400), tf.uint8)])

    def predict(seq):
        out = []
        for i in range(0, len(seq), PREDICT_ROWS):
            block = seq[i : i + PREDICT_ROWS]
            pad = np.full((PREDICT_ROWS - len(block), 400), 4, np.uint8)
            out.append(np.asarray(fn(np.concatenate([block, pad])), np.float32)[: len(block), 0])
        return np.clip(np.concatenate(out), 0, 1)

    return predict


def cpu_model():
    """The CPU's model name as Linux gives it ('unknown' elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            return next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "unknown")
    except OSError:
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=15)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    try:
        fasta = os.path.join(tmp, "chr20.fa.gz")
        shutil.copy(os.path.join(DATA, "GRCh37_chr20.fa.gz"), fasta)
        calls = os.path.join(DATA, "rrbsH1hESC_hg19_50k.bedMethyl")
        npz = {}
        for part, region in (("train", "chr20:1-45000000"), ("test", "chr20:45000001-63025520")):
            npz[part] = os.path.join(tmp, f"{part}.npz")
            argv = ["-q", "--genome", fasta, "--calls", calls, "--chroms", "chr20", "--region", region, "-o", npz[part]]
            assert encode_main(argv) == 0
        model_path = os.path.join(tmp, "mrcnn.keras")
        argv = [npz["train"], "--arch", "mrcnn", "--epochs", str(args.epochs), "--batch-size", "32", "--seed", "1"]
        assert train_main(["-q", *argv, "-o", model_path]) == 0
        model, meta = load_model(model_path)
        test = load_dataset(npz["test"])
        codes = Genome(fasta).codes("20")
        unlabelled = extract_windows(codes, find_cpgs(codes, 30_000_000)[:8192], 200)

        f32 = Predictor(model, meta)
        runs = {"float32": f32.predict}
        flags = native_bf16()
        if flags:
            runs["bf16, native (oneDNN)"] = Predictor(model, meta, precision="bf16").predict
        else:
            runs["bf16, emulated (Keras mixed_bfloat16)"] = emulated_bf16(model)
        rows = []
        ref = ref_u = None
        for name, predict in runs.items():
            p, u = predict(test.seq), predict(unlabelled)
            use_precision("float32")
            reg, cls = regression_metrics(test.y, p), classification_metrics(test.y, p)
            if ref is None:
                ref, ref_u = (reg, cls), u
                rows.append(f"| {name} | {cls['auc']:.4f} | {reg['rmse']:.4f} | | | | |")
                continue
            d_auc, d_rmse = cls["auc"] - ref[1]["auc"], reg["rmse"] - ref[0]["rmse"]
            ok = "yes" if abs(d_auc) <= LIMIT and abs(d_rmse) <= LIMIT else "NO"
            r = np.corrcoef(u, ref_u)[0, 1]
            rows.append(
                f"| {name} | {cls['auc']:.4f} | {reg['rmse']:.4f} | {d_auc:+.4f} | {d_rmse:+.4f} | "
                f"{np.abs(u - ref_u).max():.4f} / {r:.5f} | {ok} |"
            )
        cpu = f"CPU flags {', '.join(flags)}" if flags else f"this CPU ({cpu_model()}) has no native bf16"
        table = "\n".join(
            [
                f"H1 RRBS chr20, MRCNN ({args.epochs} epochs, seed 1), {len(test):,} held-out CpGs (> 45 Mb); {cpu}.",
                "",
                "| predictions | ROC AUC | RMSE | Δ AUC | Δ RMSE | 8,192 chr20 windows: max abs Δ / r | within 0.002 |",
                "|---|---|---|---|---|---|---|",
                *rows,
            ]
        )
        print(table)
        write_section("precision-benchmark", table)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
