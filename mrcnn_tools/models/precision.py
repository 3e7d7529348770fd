"""The one home of numeric precision: which precisions a Keras model may run at, and the CPU check for bfloat16.

``float32`` is the default everywhere. ``bf16`` turns on TensorFlow's oneDNN bfloat16 auto mixed precision
(a graph rewrite: convolutions and matrix products run in bfloat16 with float32 accumulation, the rest stays
float32), which pays only on CPUs with native bfloat16 instructions (AVX512-BF16 or AMX-BF16: Intel Cooper Lake,
Sapphire Rapids and later, AMD Zen 4 and later). Elsewhere TensorFlow emulates it (slower than float32) or skips it
silently, so :func:`check_precision` refuses ``bf16`` on such a CPU instead.

The rewrite is a process-wide TensorFlow setting read when a compiled function runs, so a predictor calls
:func:`use_precision` before each call of its function: a predictor's precision is its own even when predictors of
both precisions live in one process.
"""

from mrcnn_tools.errors import MrcnnError, UsageError

PRECISIONS = ("float32", "bf16")
# /proc/cpuinfo flags of native bfloat16 arithmetic (either is enough for oneDNN's bfloat16 kernels)
BF16_FLAGS = ("amx_bf16", "avx512_bf16")
CPUINFO = "/proc/cpuinfo"
ONEDNN_BF16 = "auto_mixed_precision_onednn_bfloat16"


def cpu_flags(path=None):
    """The CPU's feature flags as Linux lists them (the first ``flags`` line of *path*, default :data:`CPUINFO`).

    Returns
    -------
    frozenset of str, or None when *path* cannot be read or has no ``flags`` line (not Linux, not x86).
    """
    try:
        with open(path or CPUINFO, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() == "flags":
                    return frozenset(value.split())
    except OSError:
        return None
    return None


def native_bf16(path=None):
    """The native bfloat16 flags of the CPU (a tuple, empty when it has none), or None when they cannot be read."""
    flags = cpu_flags(path)
    return None if flags is None else tuple(f for f in BF16_FLAGS if f in flags)


def check_precision(precision, path=None):
    """Refuse a precision this machine cannot run fast, before any work.

    Parameters
    ----------
    precision : {'float32', 'bf16'}
    path : str, optional
        Where the CPU flags are read (default :data:`CPUINFO`, ``/proc/cpuinfo``).

    Raises
    ------
    UsageError
        An unknown precision (exit 2).
    MrcnnError
        ``bf16`` on a CPU without native bfloat16 instructions, or where they cannot be read (exit 1: the
        machine, not the command line, is what lacks it).
    """
    if precision not in PRECISIONS:
        raise UsageError(f"precision '{precision}': give one of {', '.join(PRECISIONS)}")
    if precision == "float32":
        return
    path = path or CPUINFO
    found = native_bf16(path)
    if not found:
        why = (
            f"cannot read the CPU flags from {path}"
            if found is None
            else f"this CPU has no native bfloat16 ({' or '.join(BF16_FLAGS)} not among the flags in {path})"
        )
        raise MrcnnError(
            f"--precision bf16: {why}, so bf16 would run slower than float32 or not at all; use --precision "
            "float32 (the default), or run on a CPU with AVX512-BF16/AMX (Intel Sapphire Rapids or later, "
            "AMD Zen 4 or later)"
        )


def use_precision(precision):
    """Make TensorFlow's compiled functions run at *precision* from now on (the oneDNN bfloat16 rewrite on or
    off); cheap when already so. Call it before a compiled function is first traced and run, and before each
    later call when predictors of both precisions may share the process."""
    import tensorflow as tf  # heavy: only when a Keras model runs

    want = precision == "bf16"
    if bool(tf.config.optimizer.get_experimental_options().get(ONEDNN_BF16, False)) != want:
        tf.config.optimizer.set_experimental_options({ONEDNN_BF16: want})
