"""--precision: the CPU check for bfloat16 (flags read from a cpuinfo file), the refusal, and predictions that stay
bit-identical however the rows are split within a precision."""

import numpy as np
import pytest
from helpers import bundled, run_main

from mrcnn_tools.cli.predict import main as predict
from mrcnn_tools.errors import MrcnnError, UsageError
from mrcnn_tools.models import precision
from mrcnn_tools.models.architectures import build_mrcnn
from mrcnn_tools.models.backend import load_tensorflow
from mrcnn_tools.prediction.options import PredictOptions, option_help
from mrcnn_tools.prediction.predictors import PREDICT_ROWS, Predictor

# the first lines of /proc/cpuinfo of two real machines, flags shortened
WITH_AMX = (
    "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\n"
    "flags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n"
)
WITHOUT = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse4_2 avx avx2 fma\n"


@pytest.fixture
def cpuinfo(tmp_path, monkeypatch):
    """cpuinfo(text): make the precision check read *text* as the CPU's flags (whatever this machine has)."""

    def make(text):
        path = tmp_path / "cpuinfo"
        path.write_text(text)
        monkeypatch.setattr(precision, "CPUINFO", str(path))
        return str(path)

    return make


def test_flags_read_from_cpuinfo(cpuinfo, tmp_path):
    assert precision.native_bf16(cpuinfo(WITH_AMX)) == ("amx_bf16", "avx512_bf16")
    assert precision.native_bf16(cpuinfo(WITHOUT)) == ()
    assert precision.cpu_flags(cpuinfo(WITHOUT)) == {"fpu", "sse4_2", "avx", "avx2", "fma"}
    assert precision.native_bf16(str(tmp_path / "absent")) is None  # not Linux: unknown, not "none"
    assert precision.native_bf16(cpuinfo("processor\t: 0\n")) is None  # no flags line (not x86)


def test_bf16_refused_in_one_line_without_native_support(cpuinfo, tmp_path):
    cpuinfo(WITH_AMX)
    precision.check_precision("bf16")  # accepted
    precision.check_precision("float32")
    path = cpuinfo(WITHOUT)
    with pytest.raises(MrcnnError) as err:
        precision.check_precision("bf16")
    assert err.value.exit_code == 1 and "\n" not in str(err.value)
    assert path in str(err.value) and "avx512_bf16" in str(err.value) and "--precision float32" in str(err.value)
    precision.check_precision("float32")  # float32 runs anywhere
    with pytest.raises(MrcnnError, match="cannot read the CPU flags"):
        precision.check_precision("bf16", str(tmp_path / "absent"))
    with pytest.raises(UsageError):
        precision.check_precision("fp16")
    with pytest.raises(UsageError, match="give one of float32, bf16"):
        PredictOptions(precision="fp16")
    assert "AVX512-BF16" in option_help("precision") and PredictOptions().precision == "float32"


def test_predict_refuses_bf16_before_any_output(cpuinfo, td, tmp_path, capsys):
    cpuinfo(WITHOUT)
    out = tmp_path / "p.tsv"
    argv = ["-m", td / "model_small.keras", "--genome", td / "22_20-21M.fa", "--precision", "bf16", "-o", out]
    rc, err = run_main(predict, argv, capsys)
    assert rc == 1 and len(err) == 1 and "--precision bf16" in err[0] and "Traceback" not in err[0]
    assert not out.exists()
    argv = ["-m", bundled("model_small_gbr.skops"), bundled("test_small.npz"), "--precision", "bf16", "-o", out]
    rc, err = run_main(predict, argv, capsys)
    assert rc == 2 and len(err) == 1 and "for Keras models" in err[0] and not out.exists()


@pytest.fixture(scope="module")
def tiny():
    load_tensorflow()
    model = build_mrcnn(100, filters1=4, filters2=4, filters3=4, filters4=4, dense_units=8)
    return model, {"arch": "mrcnn", "flank": 50}


@pytest.mark.parametrize("mode", ["bf16", "float32"])
def test_bit_identical_however_split_within_a_precision(tiny, mode):
    """Rows predicted all at once, one by one, in pieces of 700, and in reverse order give the same bits; the
    rewrite is on while a bf16 predictor runs and off for float32, whichever predictor ran before. (Where the CPU
    has no bf16, TensorFlow skips the rewrite: the split check then holds for float32's kernels.)"""
    import tensorflow as tf

    model, meta = tiny
    seq = np.random.default_rng(3).integers(0, 5, (PREDICT_ROWS + 37, 100)).astype(np.uint8)
    other = Predictor(model, meta, precision="float32" if mode == "bf16" else "bf16")
    p = Predictor(model, meta, precision=mode)
    whole = p.predict(seq)
    assert tf.config.optimizer.get_experimental_options().get(precision.ONEDNN_BF16, False) == (mode == "bf16")
    other.predict(seq[:5])  # the other precision in between
    for piece in (1, 700):  # one by one: the first 3 rows (each call runs a whole padded block)
        parts = [p.predict(seq[i : i + piece]) for i in range(0, 3 if piece == 1 else len(seq), piece)]
        np.testing.assert_array_equal(np.concatenate(parts), whole[: sum(map(len, parts))])
    np.testing.assert_array_equal(p.predict(seq[::-1])[::-1], whole)
    precision.use_precision("float32")


@pytest.mark.skipif(not precision.native_bf16(), reason="this CPU has no native bfloat16")
def test_bf16_close_to_float32_where_the_cpu_has_it(tiny):
    model, meta = tiny
    seq = np.random.default_rng(4).integers(0, 4, (PREDICT_ROWS, 100)).astype(np.uint8)
    a = Predictor(model, meta).predict(seq)
    b = Predictor(model, meta, precision="bf16").predict(seq)
    precision.use_precision("float32")
    assert np.abs(a - b).max() < 0.02 and not np.array_equal(a, b)
