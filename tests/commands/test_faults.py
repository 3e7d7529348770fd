"""Nothing lost, nothing misleading: each fault a user, Slurm, a full disk or a typo causes gives its exit code,
one error line naming the path, no file left beside the output, and a pre-existing output unchanged."""

import argparse
import gc
import gzip
import hashlib
import importlib
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile

import numpy as np
import pytest
from Bio import motifs as bio_motifs
from helpers import run_main

from mrcnn_tools import io as mio
from mrcnn_tools import motifs as mo
from mrcnn_tools.cli import common
from mrcnn_tools.cli.encode import main as encode
from mrcnn_tools.cli.evaluate import main as evaluate
from mrcnn_tools.cli.filters2meme import main as filters2meme
from mrcnn_tools.cli.predict import main as predict
from mrcnn_tools.cli.train import main as train
from mrcnn_tools.io import atomic_path
from mrcnn_tools.prediction import predict as prediction
from mrcnn_tools.runtime import guard

COV = "IMR90_r1_chr22_20-21M_GRCh37.bismark.cov"
FA = "22_20-21M.fa"
OLD = b"a good result from an earlier run\n"
MODULES = {
    "encode": "encode",
    "train": "train",
    "predict": "predict",
    "eval": "evaluate",
    "filters2meme": "filters2meme",
}


def md5(path):
    return hashlib.md5(open(path, "rb").read()).hexdigest()


def leftovers(*dirs):
    """Temporary files of ours (.NAME.XXXX.part, index and probe files) anywhere under *dirs*."""
    found = []
    for d in dirs:
        for root, subdirs, files in os.walk(d):
            found += [
                os.path.join(root, f)
                for f in files + subdirs
                if ".part" in f or f.startswith((".mrcnn", ".mrcnn-index"))
            ]
    return found


def error_lines(err):
    lines = err if isinstance(err, list) else [ln for ln in err.splitlines() if ln.strip()]
    return [ln for ln in lines if "error:" in ln or "terminated" in ln or "interrupted" in ln]


def assert_fault(rc, err, want_rc, names, words=(), dirs=(), kept=None):
    """The common contract of a fault: exit code, one error line (the last) naming *names*, no traceback, no
    temporary file, the pre-existing output *kept* = (path, checksum) unchanged."""
    lines = err if isinstance(err, list) else [ln for ln in err.splitlines() if ln.strip()]
    assert rc == want_rc, lines
    assert not any("Traceback" in ln for ln in lines), lines
    errors = error_lines(lines)
    assert len(errors) == 1 and errors[0] == lines[-1], lines
    for word in (names, *words):
        assert word in errors[0], (word, errors[0])
    assert all(ch.isprintable() for ch in errors[0]), errors[0]
    assert not leftovers(*dirs), leftovers(*dirs)
    if kept is not None:
        assert os.path.exists(kept[0]) and md5(kept[0]) == kept[1], f"{kept[0]} changed"


def old_output(path):
    path.write_bytes(OLD)
    return path, md5(path)


# ---------------------------------------------------------------------------------------------------------------
# Refused or reported in-process: the cases that need no other user, no limit and no signal.


def _predict_onto_input(td, tmp):
    shutil.copy(td / "test_small.npz", tmp / "t.npz")
    return (
        predict,
        ["-m", td / "model_small.keras", tmp / "t.npz", "-o", tmp / "t.npz"],
        "t.npz",
        ["input"],
        tmp / "t.npz",
    )


def _predict_onto_hard_link(td, tmp):
    shutil.copy(td / "test_small.npz", tmp / "t.npz")
    os.link(tmp / "t.npz", tmp / "pred.tsv")
    return (
        predict,
        ["-m", td / "model_small.keras", tmp / "t.npz", "-o", tmp / "pred.tsv"],
        "pred.tsv",
        ["t.npz"],
        tmp / "t.npz",
    )


def _predict_onto_model_symlink(td, tmp):
    shutil.copy(td / "model_small.keras", tmp / "m.keras")
    os.symlink(tmp / "m.keras", tmp / "pred.tsv")
    return (
        predict,
        ["-m", tmp / "m.keras", td / "test_small.npz", "-o", tmp / "pred.tsv"],
        "pred.tsv",
        ["m.keras"],
        tmp / "m.keras",
    )


def _encode_onto_calls(td, tmp):
    shutil.copy(td / COV, tmp / "calls.npz")  # a calls file with an unlucky name
    return (
        encode,
        ["-g", td / FA, "-c", tmp / "calls.npz", "-o", tmp / "calls.npz"],
        "calls.npz",
        ["input"],
        tmp / "calls.npz",
    )


def _train_history_onto_dataset(td, tmp):
    shutil.copy(td / "train_small.npz", tmp / "tr.npz")
    return (
        train,
        [tmp / "tr.npz", "--history", tmp / "tr.npz", "-o", tmp / "m.keras"],
        "tr.npz",
        ["input"],
        tmp / "tr.npz",
    )


def _predict_output_is_bigwig(td, tmp):
    old_output(tmp / "p.bw")
    return (
        predict,
        ["-m", td / "model_small.keras", td / "test_small.npz", "-o", tmp / "p.bw", "--bigwig", tmp / "p.bw"],
        "p.bw",
        ["same file"],
        tmp / "p.bw",
    )


def _predict_output_is_directory(td, tmp):
    (tmp / "outdir").mkdir()
    return (
        predict,
        ["-m", td / "model_small.keras", td / "test_small.npz", "-o", tmp / "outdir"],
        "outdir",
        ["directory"],
        None,
    )


def _eval_out_dir_is_file(td, tmp):
    old_output(tmp / "ev")
    return evaluate, [td / "pred_small.tsv", "--out-dir", tmp / "ev"], "ev", ["not a directory"], tmp / "ev"


def _encode_output_directory_missing(td, tmp):
    return encode, ["-g", td / FA, "-c", td / COV, "-o", tmp / "nodir" / "x.npz"], "x.npz", ["does not exist"], None


def _encode_name_too_long(td, tmp):
    return encode, ["-g", td / FA, "-c", td / COV, "-o", tmp / ("n" * 300 + ".npz")], "nnnn", ["too long"], None


def _encode_stale_index(td, tmp):
    (td / (FA + ".fai")).write_text("22:20000001-21000000\t500000\t22\t60\t61\n")  # FASTA changed since
    old_output(tmp / "x.npz")
    return encode, ["-g", td / FA, "-c", td / COV, "-o", tmp / "x.npz"], FA, ["does not match", "delete"], tmp / "x.npz"


def _encode_bad_fasta_no_index_left(td, tmp):
    (tmp / "bad.fa").write_text(">a\nACGTACGTAC\nACG\nACGTACGTAC\n")
    return encode, ["-g", tmp / "bad.fa", "-c", td / COV, "-o", tmp / "x.npz"], "bad.fa", ["cannot index"], None


def _encode_binary_calls(td, tmp):
    (tmp / "calls.cov").write_bytes(bytes(range(256)) * 64)
    return encode, ["-g", td / FA, "-c", tmp / "calls.cov", "-o", tmp / "x.npz"], "calls.cov", [], None


def _eval_failure_leaves_no_directory(td, tmp):
    # read, then the output directory is made, then it fails: no label to evaluate
    (tmp / "nolabel.tsv").write_text("#chrom\tstart\tend\tstrand\tprediction\ty_true\nchr1\t5\t6\t.\t0.5\tNA\n")
    return evaluate, [tmp / "nolabel.tsv", "--out-dir", tmp / "ev"], "nolabel.tsv", ["no site with a label"], None


def _filters2meme_failure_leaves_no_directory(td, tmp):
    assert (
        encode(
            ["-q", "-g", str(td / FA), "--all-cpgs", "--region", "chr22:20600001-20610000", "-o", str(tmp / "all.npz")]
        )
        == 0
    )
    return (
        filters2meme,
        ["-m", td / "model_small.keras", tmp / "all.npz", "--out-dir", tmp / "motifs"],
        "all.npz",
        ["--by prediction"],
        None,
    )


def _train_validation_other_flank(td, tmp):
    assert (
        encode(
            [
                "-q",
                "-g",
                str(td / FA),
                "-c",
                str(td / COV),
                "--region",
                "chr22:20600001-20700000",
                "--flank",
                "50",
                "-o",
                str(tmp / "val50.npz"),
            ]
        )
        == 0
    )
    return (
        train,
        [td / "train_small.npz", "--validation", tmp / "val50.npz", "-o", tmp / "m.keras"],
        "val50.npz",
        ["--flank"],
        None,
    )


FAULTS = {
    f.__name__[1:]: f
    for f in (
        _train_validation_other_flank,
        _predict_onto_input,
        _predict_onto_hard_link,
        _predict_onto_model_symlink,
        _encode_onto_calls,
        _train_history_onto_dataset,
        _predict_output_is_bigwig,
        _predict_output_is_directory,
        _eval_out_dir_is_file,
        _encode_output_directory_missing,
        _encode_name_too_long,
        _encode_stale_index,
        _encode_bad_fasta_no_index_left,
        _encode_binary_calls,
        _eval_failure_leaves_no_directory,
        _filters2meme_failure_leaves_no_directory,
    )
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_in_process(fault, td, tmp_path, capsys):
    tmp = tmp_path / "w"
    tmp.mkdir()
    main, argv, name, words, keep = FAULTS[fault](td, tmp)
    kept = (keep, md5(keep)) if keep is not None else None
    before = sorted(os.listdir(tmp))
    rc, err = run_main(main, argv, capsys)
    assert_fault(rc, err, 1, name, words, dirs=(tmp, td), kept=kept)
    assert sorted(os.listdir(tmp)) == before, "a file or directory was created or removed"
    if fault == "encode_bad_fasta_no_index_left":
        assert not (tmp / "bad.fa.fai").exists()


def test_legal_long_output_name_works(td, tmp_path, capsys):
    """255 bytes is the limit of most file systems: the temporary name must not push a legal name over it."""
    out = tmp_path / ("n" * 246 + ".npz")
    rc, err = run_main(
        encode, ["-q", "-g", td / FA, "-c", td / COV, "--region", "chr22:20000001-20100000", "-o", out], capsys
    )
    assert rc == 0, err
    assert out.exists() and not leftovers(tmp_path)


def test_library_warnings_only_with_verbose(capsys):
    """A library's Python warning (pyfaidx, matplotlib) is no line with a site-packages path on stderr."""

    def body(args, log):
        warnings.warn_explicit(
            "Index file x.fai is older than FASTA file x.fa",
            RuntimeWarning,
            "/venv/lib/python3.11/site-packages/pyfaidx/__init__.py",
            1,
        )

    parser = common.make_parser("prog", "test")
    assert common.run("prog", parser, body, []) == 0
    assert capsys.readouterr().err == ""
    assert common.run("prog", parser, body, ["-v"]) == 0
    err = capsys.readouterr().err
    assert "older than" in err and len(err.splitlines()) == 1
    assert isinstance(parser, argparse.ArgumentParser)


def test_os_error_has_traceback_only_with_verbose(tmp_path, capsys):
    def body(args, log):
        raise OSError(28, "No space left on device")

    parser = common.make_parser("prog", "test")
    parser.add_argument("-o", "--output")
    out = tmp_path / "x.tsv"
    assert common.run("prog", parser, body, ["-o", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"prog: error: {out}: no space left on the device; free space or write the output elsewhere"]
    assert common.run("prog", parser, body, ["-v", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.splitlines()[-1].startswith("prog: error: ")


def test_filters2meme_no_motif_writes_valid_empty_meme(td, tmp_path, capsys, monkeypatch):
    """No motif found (here: weighted sequences without MEME installed) is exit 0, a MEME file that MEME's
    readers accept with no motif in it, and a warning that says so."""

    monkeypatch.setattr(mo, "have_meme", lambda: False)
    rc, err = run_main(
        filters2meme,
        [
            "-m",
            td / "model_small.keras",
            td / "test_small.npz",
            "--method",
            "weighted-sequences",
            "--out-dir",
            tmp_path / "m",
        ],
        capsys,
    )
    assert rc == 0, err
    assert any("no motif found" in e and "motifs.meme" in e for e in err), err
    text = (tmp_path / "m" / "motifs.meme").read_text()
    assert text.startswith("MEME version 4") and "MOTIF" not in text and "Background letter frequencies" in text
    with open(tmp_path / "m" / "motifs.meme") as fh:
        assert len(bio_motifs.parse(fh, "minimal")) == 0


# ---------------------------------------------------------------------------------------------------------------
# Real processes: another user's permissions, the file-size limit, a full disk, signals.


def command(name, *args):
    return [sys.executable, "-m", f"mrcnn_tools.cli.{MODULES[name]}", *map(str, args)]


def unprivileged(cmd):
    """*cmd* run so that file permissions apply: as it is for a normal user; as root (CI) without the
    capabilities that bypass them, as the acceptance check does."""
    if os.geteuid() != 0:
        return cmd
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *cmd]


def _default_signals():
    # a test run in the background of a shell ignores SIGINT, and so would the child: give it the default
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_cmd(cmd, limit=None, **kwargs):
    def preexec():
        _default_signals()
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **kwargs.pop("env", {}))
    p = subprocess.run(cmd, stderr=subprocess.PIPE, text=True, preexec_fn=preexec, env=env, **kwargs)
    return p.returncode, p.stderr


@pytest.mark.parametrize("what", ["calls", "genome"])
def test_unreadable_input(what, td, tmp_path):
    os.chmod(tmp_path, 0o755)
    shutil.copy(td / COV, tmp_path / "c.cov")
    shutil.copy(td / FA, tmp_path / "g.fa")
    bad = tmp_path / ("c.cov" if what == "calls" else "g.fa")
    os.chmod(bad, 0)
    rc, err = run_cmd(
        unprivileged(command("encode", "-g", tmp_path / "g.fa", "-c", tmp_path / "c.cov", "-o", tmp_path / "x.npz"))
    )
    assert_fault(rc, err, 1, bad.name, ["permission denied"], dirs=(tmp_path,))
    assert not (tmp_path / "x.npz").exists()
    if what == "genome":
        assert not (tmp_path / "g.fa.fai").exists()


def test_read_only_output_directory_found_before_work(td, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    kept = old_output(ro / "x.npz")
    os.chmod(ro, 0o555)
    try:
        rc, err = run_cmd(unprivileged(command("encode", "-g", td / FA, "-c", td / COV, "-o", ro / "x.npz")))
    finally:
        os.chmod(ro, 0o755)
    assert_fault(rc, err, 1, "x.npz", ["cannot create files", "Permission denied"], dirs=(tmp_path,), kept=kept)
    assert "calls read" not in err, "the work was done before the output was checked"


def test_fasta_in_read_only_directory_indexed_in_cache(td, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    shutil.copy(td / FA, ro / FA)
    os.chmod(ro, 0o555)
    cache = tmp_path / "cache"
    try:
        rc, err = run_cmd(
            unprivileged(
                command(
                    "encode",
                    "-g",
                    ro / FA,
                    "-c",
                    td / COV,
                    "--region",
                    "chr22:20000001-20100000",
                    "-o",
                    tmp_path / "x.npz",
                )
            ),
            env={"MRCNN_CACHE_DIR": str(cache)},
        )
    finally:
        os.chmod(ro, 0o755)
    assert rc == 0, err
    assert os.listdir(ro) == [FA]
    assert [f.name for f in (cache / "fai").iterdir() if f.name.endswith(".fai")] and "index is written to" in err


# a k-mer GBR model in the fast tier (the child starts without TensorFlow); the Keras ones are the slow variants
KERAS_SLOW = pytest.mark.slow


@pytest.mark.parametrize(
    "cmd,model",
    [
        ("encode", None),
        ("predict", "gbr"),
        # 18 s of a k-mer GBR fit: slow; predict-gbr keeps the fast tier's child without TensorFlow
        pytest.param("train", "gbr", marks=KERAS_SLOW),
        pytest.param("predict", "keras", marks=KERAS_SLOW),
        pytest.param("train", "keras", marks=KERAS_SLOW),
    ],
)
def test_file_size_limit(cmd, model, td, tmp_path):
    """`ulimit -f` (and a disk that fills) while writing: EFBIG is one line, not SIGXFSZ, not a traceback."""
    suffix = ".skops" if model == "gbr" else ".keras"
    out = tmp_path / {"encode": "x.npz", "predict": "p.tsv", "train": "m" + suffix}[cmd]
    kept = old_output(out)
    predictor = td / ("model_small_gbr.skops" if model == "gbr" else "model_small.keras")
    argv = {
        "encode": ["-g", td / FA, "-c", td / COV, "-o", out],
        "predict": ["-m", predictor, "-g", td / FA, "-o", out],  # 630 kB of predictions
        "train": [
            td / ("test_small.npz" if model == "gbr" else "train_small.npz"),  # 87 sites: a quick fit
            "--arch",
            "kmer-gbr" if model == "gbr" else "mrcnn",
            "--epochs",
            "1",
            "-o",
            out,
        ],
    }[cmd]
    # predict: room to unpack the model (145 kB) but not for the predictions
    rc, err = run_cmd(command(cmd, *argv), limit=300_000 if cmd == "predict" else 2048)
    assert_fault(rc, err, 1, out.name, ["file too large"], dirs=(tmp_path,), kept=kept)


@pytest.mark.slow  # 17 s (a child starting TensorFlow); a full disk on a file stays fast: test_file_size_limit
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full to fill")
def test_full_disk_on_stdout(td, tmp_path):
    with open("/dev/full", "w") as full:
        rc, err = run_cmd(command("predict", "-m", td / "model_small_gbr.skops", td / "test_small.npz"), stdout=full)
    assert_fault(rc, err, 1, "standard output", ["no space left"])


def _wait_for(pred, proc, seconds=240, step=0.01):
    end = time.monotonic() + seconds
    while time.monotonic() < end and proc.poll() is None:
        if pred():
            return True
        time.sleep(step)
    return False


@pytest.mark.parametrize(
    "sig,code",
    # SIGINT in the fast tier; SIGTERM (14 s, the same path) slow
    [pytest.param(signal.SIGTERM, 143, marks=pytest.mark.slow), (signal.SIGINT, 130)],
)
def test_signal_during_genome_prediction_in_process(sig, code, td, tmp_path, capsys, monkeypatch):
    """The fast counterpart of the real processes below: the signal arrives while the second chunk is predicted,
    after the first was written to the temporary file."""

    out = tmp_path / "p.tsv"
    kept = old_output(out)
    real, chunks = prediction.Predictor.predict, []

    def predict_then_signal(self, seq):
        chunks.append(len(seq))
        if len(chunks) == 2:
            assert any(".part" in f for f in os.listdir(tmp_path)), "no temporary file while predicting"
            os.kill(os.getpid(), sig)
        return real(self, seq)

    monkeypatch.setattr(prediction.Predictor, "predict", predict_then_signal)
    rc, err = run_main(
        predict, ["-m", td / "model_small_gbr.skops", "--genome", td / FA, "--chunk-size", 2000, "-o", out], capsys
    )
    assert len(chunks) == 2, chunks  # stopped by the signal, not after the 10 chunks of the genome
    assert_fault(
        rc, err, code, "temporary files removed" if code == 143 else "interrupted", dirs=(tmp_path,), kept=kept
    )


# real processes: the k-mer GBR model (no TensorFlow in the child) and the Keras one; slow, the in-process test
# above and the encode ones below are their fast counterparts
@pytest.mark.slow
@pytest.mark.parametrize(
    "sig,code,model",
    [
        (signal.SIGTERM, 143, "model_small_gbr.skops"),
        (signal.SIGINT, 130, "model_small_gbr.skops"),
        (signal.SIGTERM, 143, "model_small.keras"),
        (signal.SIGINT, 130, "model_small.keras"),
    ],
)
def test_signal_during_genome_prediction(sig, code, model, td, examples, tmp_path):
    out = tmp_path / "p.tsv"
    kept = old_output(out)
    proc = subprocess.Popen(
        command(
            "predict", "-m", td / model, "--genome", examples / "GRCh37_chr20.fa.gz", "--chunk-size", 5000, "-o", out
        ),
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        preexec_fn=_default_signals,
    )
    assert _wait_for(lambda: any(".part" in f for f in os.listdir(tmp_path)), proc), "no .part file seen"
    time.sleep(0.3)  # well inside the work: chr20 takes seconds
    proc.send_signal(sig)
    err = proc.communicate(timeout=120)[1]
    assert_fault(
        proc.returncode,
        err,
        code,
        "temporary files removed" if code == 143 else "interrupted",
        dirs=(tmp_path,),
        kept=kept,
    )


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_while_encode_writes(sig, code, examples, tmp_path):
    out = tmp_path / "all.npz"
    kept = old_output(out)
    proc = subprocess.Popen(
        command(
            "encode", "-g", examples / "GRCh37_chr20.fa.gz", "--all-cpgs", "--region", "chr20:1-20000000", "-o", out
        ),
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_signals,
    )
    assert _wait_for(lambda: any(".part" in f for f in os.listdir(tmp_path)), proc, step=0.002), "no .part file seen"
    proc.send_signal(sig)
    err = proc.communicate(timeout=120)[1]
    assert_fault(
        proc.returncode, err, code, "terminated" if code == 143 else "interrupted", dirs=(tmp_path,), kept=kept
    )


@pytest.mark.slow
@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_training_then_resume(sig, code, td, tmp_path):
    out, ckpt = tmp_path / "m.keras", tmp_path / "ckpt"
    kept = old_output(out)
    errfile = tmp_path / "err.txt"
    with open(errfile, "w") as fh:
        proc = subprocess.Popen(
            command(
                "train", td / "train_small.npz", "--epochs", 50, "--patience", 0, "--checkpoint-dir", ckpt, "-o", out
            ),
            stderr=fh,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
            preexec_fn=_default_signals,
        )
        assert _wait_for(lambda: "epoch 1/50" in errfile.read_text(), proc, step=0.1), errfile.read_text()
        proc.send_signal(sig)
        proc.wait(timeout=120)
    err = errfile.read_text()
    errfile.unlink()
    assert_fault(
        proc.returncode, err, code, "terminated" if code == 143 else "interrupted", dirs=(tmp_path,), kept=kept
    )
    rc, err = run_cmd(
        command(
            "train",
            td / "train_small.npz",
            "--epochs",
            2,
            "--patience",
            0,
            "--checkpoint-dir",
            ckpt,
            "--resume",
            "-o",
            out,
        )
    )
    assert rc == 0 and "resuming after epoch" in err, err
    assert md5(out) != kept[1] and not leftovers(tmp_path)


def test_help_shows_no_empty_or_doubled_defaults(capsys):

    for name, module in MODULES.items():
        # in-process: the text argparse prints for --help, without starting five interpreters
        assert importlib.import_module(f"mrcnn_tools.cli.{module}").main(["--help"]) == 0, name
        text = capsys.readouterr().out
        flat = " ".join(text.split())
        assert "--version" in flat and "(default: None)" not in flat and "(default: False)" not in flat, name
        assert not re.search(r"\(default[^()]*\) \(default", flat), name
        assert "DESIGN" not in flat and "../shared" not in flat, name
        assert "FORMATS.md" in flat, name


@pytest.mark.parametrize(
    "raw,clean",
    [
        (
            "f.cov, line 2: bad line 'ab\x00\x01\ufffd\ufffdcd' (1 columns)",
            "f.cov, line 2: bad line '<binary data>' (1 columns)",
        ),
        ("f.cov: value 'abc' is not a number", "f.cov: value 'abc' is not a number"),
        ("two\nlines\tand a tab", "two lines and a tab"),
        ("a stray \x1b[31m escape", "a stray ?[31m escape"),
        ("x" * 1200, "x" * 997 + "..."),
    ],
)
def test_error_messages_are_one_printable_line(raw, clean):
    assert guard.clean_message(raw) == clean


def test_output_to_dev_null_is_written_not_replaced(td, capsys):
    """A device is written as it is: renaming a temporary file onto /dev/null would replace the device."""

    rc, err = run_main(predict, ["-m", td / "model_small.keras", td / "test_small.npz", "-o", "/dev/null"], capsys)
    assert rc == 0, err
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert not [f for f in os.listdir("/dev") if ".part" in f]


def test_signal_while_the_temporary_file_is_made(tmp_path, capsys, monkeypatch):
    """SIGTERM arriving right after the temporary file exists, before its name is known to the cleanup, must
    not leave it behind (Python runs the handler between any two bytecodes)."""

    made = []
    real_mkstemp = tempfile.mkstemp

    def mkstemp_then_signal(*args, **kwargs):
        fd, name = real_mkstemp(*args, **kwargs)
        made.append(name)
        os.kill(os.getpid(), signal.SIGTERM)
        return fd, name

    def body(args, log):
        monkeypatch.setattr(tempfile, "mkstemp", mkstemp_then_signal)
        with atomic_path(str(tmp_path / "x.txt")) as tmp, open(tmp, "w") as fh:
            fh.write("never finished\n")

    rc = common.run("prog", common.make_parser("prog", "test"), body, [])
    assert rc == 143 and len(made) == 1
    assert os.listdir(tmp_path) == [], os.listdir(tmp_path)
    assert capsys.readouterr().err.splitlines() == ["prog: terminated (SIGTERM); temporary files removed"]


@pytest.mark.parametrize("compress", [False, True])
def test_input_from_a_pipe_loses_nothing(compress, tmp_path, capsys, fifo):
    """A pipe (bash's <(zcat ...)) can be read once: sniffing gzip must not eat its first bytes."""

    text = b"#chrom\tstart\tend\tstrand\tprediction\ty_true\nchr1\t5\t6\t.\t0.5\t0.4\nchr1\t7\t8\t.\t0.2\t0.1\n"
    pipe = fifo(gzip.compress(text) if compress else text, "pred.fifo")
    rc, err = run_main(evaluate, [pipe, "--labels", "m", "--no-plots", "--out-dir", tmp_path / "ev"], capsys)
    assert rc == 0, err
    rows = [
        ln.split("\t") for ln in (tmp_path / "ev" / "metrics.tsv").read_text().splitlines() if ln.startswith("m\tall\t")
    ]
    # errors 0.1 and 0.1: n 2, RMSE 0.1, MAE 0.1
    assert (
        rows
        and rows[0][2] == "2"
        and float(rows[0][3]) == pytest.approx(0.1)
        and float(rows[0][4]) == pytest.approx(0.1)
    )


def test_interrupt_inside_an_npz_entry_stays_an_interrupt(tmp_path, monkeypatch, capsys):
    # a signal that lands while an NPZ entry is being closed left zipfile unable to close the archive, and its
    # ValueError hid the interrupt (exit 1 with a traceback instead of 130): seen once in the encode signal test

    real = zipfile._ZipWriteFile.close
    seen = []

    def interrupted(self):
        seen.append(1)
        if len(seen) == 2:
            raise KeyboardInterrupt
        return real(self)

    monkeypatch.setattr(zipfile._ZipWriteFile, "close", interrupted)
    out = tmp_path / "d.npz"
    with pytest.raises(KeyboardInterrupt):
        mio.save_npz(str(out), {"a": np.arange(5), "b": np.arange(3)})
    gc.collect()
    assert os.listdir(tmp_path) == []
    assert "Traceback" not in capsys.readouterr().err
