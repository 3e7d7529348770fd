"""Loading TensorFlow/Keras quietly and with a set number of threads."""

import contextlib
import os
import sys
import tempfile


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
        Intra- and inter-op threads; must be set before TensorFlow starts its runtime.

    Returns
    -------
    module tensorflow
    """
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
