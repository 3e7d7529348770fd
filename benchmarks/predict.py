#!/usr/bin/env python
"""Benchmark genome-wide mrcnn-predict on the real chr20 (717,722 CpGs) against a naive loop and the model alone.

Cases, each in a child process (its own peak RSS), all with the same untrained MRCNN (speed does not depend
on the weights):
  predict chr20     mrcnn-predict --genome GRCh37_chr20.fa.gz (all CpGs), bedGraph to a file; timed from the
                    call of main() with TensorFlow already imported (model loading and FASTA reading included)
  predict 6 Mb      the same for chr20:1-6000000
  naive 6 Mb        per-site pyfaidx fetch, float32 one-hot, model.predict per batch
  model-alone       a compiled forward pass repeated on one batch already in memory
--ab (one process, alternated rounds, medians of CPU seconds; chr20:30-38 Mb, as acceptance 27):
  mrcnn-predict     --genome --region, bedGraph to a file (model loading and the FASTA read included)
  fair script       what a competent user writes: one whole-chromosome read (pyfaidx), CpGs and windows
                    vectorised (numpy sliding_window_view over codes), model.predict on the codes, pandas to_csv
  model execution   on 8,192 windows in memory: ours (compiled, PREDICT_ROWS block) vs model.predict, a 4096
                    block, XLA (jit_compile), bf16 (oneDNN; where the CPU has it), ONNX Runtime (--onnx-path DIR:
                    where onnxruntime and tf2onnx are installed, e.g. pip install --target DIR; optional)
--startup (alternated rounds of whole processes, as a job-array task runs; medians; chr20 copied to a temp dir):
  --help            the command's imports alone
  10-kb region      mrcnn-predict --genome --region 20:30,000,001-30,010,000 (one CpG chunk): the start-up of a
                    task (imports, TensorFlow, model loading, genome index and codes opened); wall, CPU, peak RSS
  8-Mb region       chr20:30-38 Mb (113k CpGs): the rate beyond start-up, and from both the smallest shard that
                    keeps start-up under 10% of a task's CPU (the README's Slurm sizing)
Usage: python benchmarks/predict.py [--batch-size 2048] [--ab [--rounds 5] [--onnx-path DIR]] [--startup [--rounds 5]]
"""

import argparse
import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from unittest import mock

import numpy as np
import pandas as pd
import pyfaidx
from _common import write_section
from numpy.lib.stride_tricks import sliding_window_view

from mrcnn_tools.cli.predict import main as predict_main
from mrcnn_tools.encoding import encode_bytes, extract_windows, find_cpgs
from mrcnn_tools.genome.fasta import Genome
from mrcnn_tools.models.architectures import build_mrcnn
from mrcnn_tools.models.backend import load_tensorflow
from mrcnn_tools.models.files import load_model, save_keras_model
from mrcnn_tools.models.precision import native_bf16, use_precision
from mrcnn_tools.prediction import predict as predict_module
from mrcnn_tools.prediction.predictors import PREDICT_ROWS, Predictor

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


REGION = ("20", 30_000_000, 38_000_000)  # 0-based, half-open: chr20:30,000,001-38,000,000


def fair_script(model, fasta, out, region=REGION):
    """A competent user's genome-wide prediction: one whole-chromosome read, vectorised windows, model.predict.

    Returns
    -------
    numpy.ndarray, float32 (n,): the predictions written to *out* (bedGraph)
    """
    chrom, start, end = region
    seq = pyfaidx.Fasta(fasta, as_raw=True)[chrom][:]  # the whole chromosome, once
    codes = encode_bytes(seq)
    sub = codes[start:end]
    pos = start + np.flatnonzero((sub[:-1] == 1) & (sub[1:] == 2))  # the C of each CG (codes T0 C1 G2 A3 N4)
    pad = np.full(200, 4, np.uint8)
    view = sliding_window_view(np.concatenate([pad, codes, pad]), 401)
    x = np.delete(view[pos], 200, axis=1)  # 200 bases each side, the C itself left out
    pred = np.clip(model.predict(x, batch_size=1024, verbose=0)[:, 0], 0, 1)
    pd.DataFrame({"c": chrom, "s": pos, "e": pos + 1, "p": pred}).to_csv(
        out, sep="\t", header=False, index=False, float_format="%.6g"
    )
    return pred


def _timed(fn):
    """(CPU seconds, wall seconds) of fn()."""
    c, w = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c, time.perf_counter() - w


def onnx_session(model, onnx_path, say=print):
    """The model converted by tf2onnx into an ONNX Runtime session (onnxruntime and tf2onnx from *onnx_path*), or
    None with the reason printed: an optional, benchmark-only path."""
    import tensorflow as tf

    sys.path.insert(0, onnx_path)
    try:
        import onnxruntime as ort  # noqa: PLC0415 (optional, from --onnx-path)
        import tf2onnx  # noqa: PLC0415

        t = time.perf_counter()
        spec = (tf.TensorSpec((None, 400), tf.uint8, name="codes"),)
        proto, _ = tf2onnx.convert.from_function(
            tf.function(lambda c: model(c, training=False)), input_signature=spec, opset=17
        )
        session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
        took = time.perf_counter() - t
        say(f"ONNX Runtime {ort.__version__} (tf2onnx {tf2onnx.__version__}): model converted in {took:.1f} s")
        return session
    except Exception as exc:  # optional path: say why it is missing, measure the rest
        say(f"ONNX Runtime not measured: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        return None


class _Host:
    """What Predictor reads from its function's output: ``.numpy()``."""

    def __init__(self, array):
        self.array = array

    def numpy(self):
        return self.array


def onnx_predictor(session):
    """A Predictor whose fixed blocks run in ONNX Runtime instead of TensorFlow (benchmark only: end to end)."""
    name = session.get_inputs()[0].name

    class OnnxPredictor(Predictor):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._fn = lambda codes: _Host(session.run(None, {name: codes})[0])

    return OnnxPredictor


def _execution_cases(model, meta, x, session):
    """The ways of running the model on windows *x* (uint8 (n, 400)) measured side by side: name -> callable."""
    import tensorflow as tf

    def blocks(fn, rows):
        def run():
            for i in range(0, len(x), rows):
                fn(x[i : i + rows]).numpy()

        return run

    def compiled(rows, **kw):
        fn = tf.function(
            lambda c: model(c, training=False), input_signature=[tf.TensorSpec((rows, 400), tf.uint8)], **kw
        )
        return blocks(fn, rows)

    ours = Predictor(model, meta)
    cases = {
        f"ours: compiled, block {PREDICT_ROWS}": lambda: (use_precision("float32"), ours.predict(x)),
        "model.predict, batch 1024": lambda: model.predict(x, batch_size=1024, verbose=0),
        "compiled, block 4096": compiled(4096),
        f"XLA (jit_compile), block {PREDICT_ROWS}": compiled(PREDICT_ROWS, jit_compile=True),
    }
    if native_bf16():
        b16 = Predictor(model, meta, precision="bf16")
        big = compiled(4096)
        cases[f"bf16 (oneDNN), block {PREDICT_ROWS}"] = lambda: b16.predict(x)
        cases["bf16 (oneDNN), block 4096"] = lambda: (use_precision("bf16"), big())
    if session is not None:
        name = session.get_inputs()[0].name
        cases["ONNX Runtime, block 1024"] = lambda: [
            session.run(None, {name: x[i : i + 1024]}) for i in range(0, len(x), 1024)
        ]
    return cases


def ab(model_path, fasta, rounds, onnx_path=None):
    """Alternated rounds in this one process: mrcnn-predict vs the fair script on chr20:30-38 Mb, then the ways of
    running the model alone; prints medians (CPU seconds, the rate) and ratios."""
    load_tensorflow()
    lines = []

    def say(text):
        print(text, flush=True)
        lines.append(text)

    chrom, start, end = REGION
    tmp = os.path.dirname(model_path)
    ours_out, fair_out = os.path.join(tmp, "ours.bedGraph"), os.path.join(tmp, "fair.bedGraph")
    argv = ["-q", "-m", model_path, "--genome", fasta, "--output-format", "bedgraph", "-o", ours_out]
    argv += ["--region", f"{chrom}:{start + 1}-{end}"]
    model, meta = load_model(model_path)
    runs = {"mrcnn-predict": lambda: predict_main(argv), "fair script": lambda: fair_script(model, fasta, fair_out)}
    session = onnx_session(model, onnx_path, say) if onnx_path else None
    if session is not None:
        ort_argv = [*argv[:-4], "-o", os.path.join(tmp, "onnx.bedGraph"), *argv[-2:]]

        def with_onnx():
            with mock.patch.object(predict_module, "Predictor", onnx_predictor(session)):
                return predict_main(ort_argv)

        runs["mrcnn-predict, ONNX Runtime"] = with_onnx
    for run in runs.values():  # warm: indexes, caches, traced functions
        run()
    n = sum(1 for _ in open(ours_out))
    ours = np.loadtxt(ours_out, usecols=3, dtype=np.float32)
    fair = np.loadtxt(fair_out, usecols=3, dtype=np.float32)
    say(f"chr{chrom}:{start + 1:,}-{end:,}: {n:,} CpGs; max |ours - fair| {np.abs(ours - fair).max():.2g}")
    times = {k: [] for k in runs}
    for r in range(rounds):
        for k in runs if r % 2 == 0 else reversed(list(runs)):
            times[k].append(_timed(runs[k]))
    med = {k: np.median(np.array(v), axis=0) for k, v in times.items()}
    for k, (cpu, wall) in med.items():
        say(f"  {k:28s} median {cpu:6.1f} CPU s ({n / cpu:8,.0f} CpGs per CPU s), {wall:6.1f} s wall")
    a, b = med["mrcnn-predict"], med["fair script"]
    say(f"  mrcnn-predict / fair script: {b[0] / a[0]:.2f}x in CPU time, {b[1] / a[1]:.2f}x in wall ({rounds} rounds)")
    if "mrcnn-predict, ONNX Runtime" in med:
        c = med["mrcnn-predict, ONNX Runtime"]
        d = np.abs(np.loadtxt(os.path.join(tmp, "onnx.bedGraph"), usecols=3, dtype=np.float32) - ours).max()
        ratio = f"{a[0] / c[0]:.2f}x in CPU time, {a[1] / c[1]:.2f}x in wall"
        say(f"  mrcnn-predict with ONNX Runtime / with TensorFlow: {ratio}; max |Δ| {d:.2g}")

    part = encode_bytes(pyfaidx.Fasta(fasta, as_raw=True)[chrom][start : start + 4_000_000])
    x = extract_windows(part, find_cpgs(part, 200)[:8192], 200)
    cases = _execution_cases(model, meta, x, session)
    for run in cases.values():
        run()
    use_precision("float32")
    times = {k: [] for k in cases}
    for r in range(rounds):
        for k in cases if r % 2 == 0 else reversed(list(cases)):
            times[k].append(_timed(cases[k]))
            use_precision("float32")
    base = None
    say(f"model execution, {len(x):,} windows in memory, {rounds} alternated rounds (median CPU s; wall rate):")
    for k, v in times.items():
        cpu, wall = np.median(np.array(v), axis=0)
        base = base or (cpu, wall)
        rate = f"{len(x) / cpu:8,.0f} windows per CPU s ({base[0] / cpu:.2f}x)"
        say(f"  {k:36s} {rate}, {len(x) / wall:8,.0f}/s wall ({base[1] / wall:.2f}x)")
    write_section("predict-ab", "```text\n$ python " + " ".join(sys.argv) + "\n" + "\n".join(lines) + "\n```")


STARTUP_REGION = "20:30000001-30010000"  # 10 kb, as acceptance 27 measures start-up
RATE_REGION = "20:30000001-38000000"


def process_cost(argv):
    """Run *argv* as a child process: (wall s, CPU s (user + system), peak RSS MB).

    Through GNU time where there is one: a child forked from this process (TensorFlow loaded, for the model) would
    have this process's pages counted in its peak RSS until it execs; time's own child starts small."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as fh:
        timer = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", fh.name] if os.path.exists("/usr/bin/time") else []
        t = time.perf_counter()
        proc = subprocess.Popen([*timer, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {err[-2000:]}")
        if timer:
            wall, user, system, rss_kb = (float(v) for v in fh.read().split()[-4:])
            return wall, user + system, rss_kb / 1024
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def startup(model, fasta, rounds):
    """Start-up of mrcnn-predict as a job-array task pays it: alternated rounds of whole processes (--help, a
    10-kb region, an 8-Mb region), medians; the rate beyond start-up and the shard size it asks for."""
    out = os.path.join(os.path.dirname(model), "out.bedGraph")
    cmd = [os.path.join(os.path.dirname(sys.executable), "mrcnn-predict")]
    base = [*cmd, "-q", "-m", model, "--genome", fasta, "--output-format", "bedgraph", "-o", out]
    cases = {
        "--help (imports)": [*cmd, "--help"],
        "10-kb region": [*base, "--region", STARTUP_REGION],
        "8-Mb region": [*base, "--region", RATE_REGION],
    }
    process_cost(cases["10-kb region"])  # warm: the FASTA's index and the genome codes are built once
    tiny_sites = sum(1 for _ in open(out))
    process_cost(cases["8-Mb region"])
    big_sites = sum(1 for _ in open(out))
    runs = {k: [] for k in cases}
    for r in range(rounds):
        for k in cases if r % 2 == 0 else reversed(list(cases)):
            runs[k].append(process_cost(cases[k]))
    med = {k: np.median(np.array(v), axis=0) for k, v in runs.items()}
    say = print
    say(f"start-up of mrcnn-predict, whole processes, {rounds} alternated rounds (medians):")
    for k, (wall, cpu, rss) in med.items():
        say(f"  {k:18s} {wall:6.1f} s wall {cpu:6.1f} s CPU   peak RSS {rss:6,.0f} MB")
    cpu_tiny, cpu_big = med["10-kb region"][1], med["8-Mb region"][1]
    rate = (big_sites - tiny_sites) / max(cpu_big - cpu_tiny, 1e-9)
    shard = 9 * cpu_tiny * rate  # start-up <= 10% of the task's CPU
    say(f"  beyond start-up: {rate:,.0f} CpGs per CPU s ({big_sites:,} CpGs in 8 Mb, {tiny_sites} in 10 kb)")
    say(f"  start-up is 10% of a task of {shard:,.0f} CpGs (50% of one of {cpu_tiny * rate:,.0f})")
    return med, rate


def startup_main(args):
    """--startup: on a copy of chr20 in a temp dir (its index and codes built there), the untrained MRCNN."""
    tmp = tempfile.mkdtemp()
    try:
        fasta = os.path.join(tmp, "chr20.fa.gz")
        shutil.copy(FASTA, fasta)
        model = os.path.join(tmp, "m.keras")
        make_model(model)  # TensorFlow in this process only: each measured process starts its own
        startup(model, fasta, args.rounds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch-size", type=int, default=2048)
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--ab", action="store_true", help="only the alternated comparisons (one process)")
    ap.add_argument("--startup", action="store_true", help="only the start-up of whole processes (alternated)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--onnx-path", metavar="DIR", help="where onnxruntime and tf2onnx are installed (optional)")
    args = ap.parse_args()
    if args.ab:
        return ab_main(args)
    if args.startup:
        return startup_main(args)
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


def ab_main(args):
    """--ab: the alternated comparisons on a plain copy of chr20 (pyfaidx and mrcnn-predict read the same file)."""
    tmp = tempfile.mkdtemp()
    try:
        fasta = os.path.join(tmp, "chr20.fa")
        with gzip.open(FASTA, "rb") as src, open(fasta, "wb") as dst:
            shutil.copyfileobj(src, dst)
        model = os.path.join(tmp, "m.keras")
        make_model(model)
        ab(model, fasta, args.rounds, args.onnx_path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
