"""Loading TensorFlow/Keras quietly, and the number of threads of every pool of the process (--threads)."""

import contextlib
import os
import sys
import tempfile

from threadpoolctl import threadpool_limits

# the --threads of the command, for TensorFlow when it starts after set_threads
_THREADS = None
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def set_threads(threads):
    """Limit the process to *threads* CPU threads inside the block: NumPy/BLAS and OpenMP, TensorFlow's op pools.

    BLAS/OpenMP pools already loaded are limited (threadpoolctl), libraries loaded later through their environment
    variables; TensorFlow's intra-/inter-op pools are set when :func:`load_tensorflow` starts it inside the block
    (its runtime allows no change once up). Everything is restored on leaving, so that in-process runs (tests)
    do not inherit each other's limit.

    Parameters
    ----------
    threads : int or None
        None or 0: no limit, nothing changed.

    Examples
    --------
    >>> with set_threads(args.threads):  # doctest: +SKIP
    ...     run_the_command()
    """
    global _THREADS
    if not threads:
        yield
        return

    saved = _THREADS, {var: os.environ.get(var) for var in _THREAD_VARIABLES}
    _THREADS = int(threads)
    os.environ.update({var: str(_THREADS) for var in _THREAD_VARIABLES})
    try:
        with threadpool_limits(_THREADS):
            yield
    finally:
        _THREADS = saved[0]
        for var, value in saved[1].items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


@contextlib.contextmanager
def _quiet_fd2():
    """Send what C++ code writes to file descriptor 2 to a temp file; replay it only if we fail."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), fd)
        try:
            yield
        except BaseException:
            os.dup2(saved, fd)
            tmp.seek(0)
            sys.stderr.write(tmp.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, fd)
            os.close(saved)


def load_tensorflow(threads=None):
    """Import TensorFlow with its start-up notes (oneDNN, CUDA probing) kept off stderr.

    Parameters
    ----------
    threads : int, optional
        Intra- and inter-op threads (default: those of :func:`set_threads`, else TensorFlow's own); they take
        effect only before TensorFlow starts its runtime.

    Returns
    -------
    module tensorflow
    """
    threads = threads or _THREADS
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    with _quiet_fd2():
        import tensorflow as tf

        if threads:
            try:
                tf.config.threading.set_intra_op_parallelism_threads(threads)
                tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))
            except RuntimeError:
                pass  # the runtime is already up (e.g. a second call in one process): keep its setting
        tf.config.list_physical_devices()
        import keras  # noqa: F401
    return tf
