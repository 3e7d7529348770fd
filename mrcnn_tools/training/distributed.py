"""Training on several processes or nodes: a custom distributed step under ``MultiWorkerMirroredStrategy``.

Keras 3's ``model.fit`` fails under ``tf.distribute.MultiWorkerMirroredStrategy`` (its data adapter hands
``PerReplica`` values to ops that cannot take them), so multi-worker training runs its own loop:
``strategy.run`` of a step with ``GradientTape`` and ``tf.nn.compute_average_loss``; the optimizer sums the
gradients of all replicas (Keras' TensorFlow optimizer all-reduces in replica context) and losses are summed
with ``strategy.reduce``.

Every replica takes its own contiguous part of each global batch of the shuffled sites (shuffled by
``(seed, epoch)``, as single-process training), so a run on R replicas follows the same sequence of global
batches as a run on one, and a worker cuts only the windows of its own part. The cluster comes from
``TF_CONFIG`` or, when that is unset, from Slurm's variables (:func:`slurm_tf_config`). Only the chief writes
checkpoints and the model (:func:`chief_path`); every worker reads the chief's checkpoint on ``--resume``, so
the checkpoint directory must be on a file system that all nodes see.
"""

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import shutil
import tempfile
import time

import numpy as np

from mrcnn_tools.errors import MrcnnError, UsageError
from mrcnn_tools.models import registry
from mrcnn_tools.models.backend import load_tensorflow
from mrcnn_tools.training.state import TrainingRun, epoch_progress

log = logging.getLogger(__name__)

DEFAULT_PORT = 12345
# Set by train_multi_worker: whether this process is the chief of a multi-worker run (None: not one).
_ROLE = {"chief": None, "index": None, "workers": None}


class ClusterError(MrcnnError):
    """The cluster description (TF_CONFIG or Slurm variables) is missing or malformed."""


# --- Slurm variables -> TF_CONFIG ------------------------------------------------------------------------


def expand_hostlist(text):
    """Expand a Slurm host list (``node[01-03,7],gpu5``) into host names, as ``scontrol show hostnames``.

    Parameters
    ----------
    text : str

    Returns
    -------
    list of str
    """
    hosts = []
    for part in re.findall(r"[^,\[]+(?:\[[^\]]*\][^,\[]*)*", text or ""):
        pieces = re.split(r"(\[[^\]]*\])", part)
        names = [""]
        for piece in pieces:
            if piece.startswith("["):
                alternatives = []
                for item in piece[1:-1].split(","):
                    m = re.fullmatch(r"(\d+)(?:-(\d+))?", item.strip())
                    if not m:
                        raise ClusterError(f"Slurm node list {text!r}: cannot read {item!r}; set TF_CONFIG instead")
                    lo, hi = m[1], m[2] or m[1]
                    width = len(lo)
                    alternatives += [str(i).zfill(width) for i in range(int(lo), int(hi) + 1)]
                names = [n + a for n in names for a in alternatives]
            else:
                names = [n + piece for n in names]
        hosts += names
    return hosts


def expand_tasks_per_node(text):
    """Expand ``SLURM_STEP_TASKS_PER_NODE`` (``2(x3),1``) into tasks per node (``[2, 2, 2, 1]``)."""
    counts = []
    for item in (text or "").split(","):
        m = re.fullmatch(r"(\d+)(?:\(x(\d+)\))?", item.strip())
        if not m:
            raise ClusterError(f"Slurm tasks per node {text!r}: cannot read {item!r}; set TF_CONFIG instead")
        counts += [int(m[1])] * int(m[2] or 1)
    return counts


def slurm_tf_config(env=None, port=None):
    """The TF_CONFIG of this Slurm task, or None outside a Slurm job step.

    Worker *i* is Slurm task *i* (``SLURM_PROCID``); tasks are laid out on the step's nodes in Slurm's default
    block distribution (``SLURM_STEP_NODELIST``, ``SLURM_STEP_TASKS_PER_NODE``), and the k-th task of a node
    listens on port ``port + k``. The port is ``MRCNN_PORT`` when set, else 12345 + the job id modulo 20000,
    so that two jobs sharing a node rarely collide.

    Parameters
    ----------
    env : mapping, optional
        The environment (default ``os.environ``).
    port : int, optional

    Returns
    -------
    dict or None
    """
    env = os.environ if env is None else env
    if "SLURM_PROCID" not in env or "SLURM_NTASKS" not in env:
        return None
    nodes = expand_hostlist(env.get("SLURM_STEP_NODELIST") or env.get("SLURM_JOB_NODELIST") or "")
    per_node = expand_tasks_per_node(
        env.get("SLURM_STEP_TASKS_PER_NODE") or env.get("SLURM_TASKS_PER_NODE") or str(env["SLURM_NTASKS"])
    )
    ntasks, rank = int(env["SLURM_NTASKS"]), int(env["SLURM_PROCID"])
    if not nodes or len(per_node) != len(nodes) or sum(per_node) != ntasks:
        raise ClusterError(
            f"Slurm variables disagree: {ntasks} tasks, nodes {nodes}, tasks per node {per_node}; "
            "set TF_CONFIG yourself"
        )
    distribution = env.get("SLURM_DISTRIBUTION", "block").split(":")[0]
    if distribution not in ("block", "", "unknown") and ntasks > len(nodes):
        raise ClusterError(
            f"SLURM_DISTRIBUTION={distribution}: worker addresses assume the default block "
            "distribution; run srun with --distribution=block or set TF_CONFIG yourself"
        )
    if port is None:
        # one port range per job, so that two jobs sharing a node do not collide
        job_port = DEFAULT_PORT + int(env.get("SLURM_JOB_ID", 0)) % 20000
        port = int(env["MRCNN_PORT"]) if env.get("MRCNN_PORT") else job_port
    workers = [f"{host}:{port + k}" for host, n in zip(nodes, per_node) for k in range(n)]
    if not 0 <= rank < len(workers):
        raise ClusterError(f"SLURM_PROCID={rank} is outside the {len(workers)} tasks of the step")
    return {"cluster": {"worker": workers}, "task": {"type": "worker", "index": rank}}


def cluster_config(env=None):
    """TF_CONFIG as a dict: the ``TF_CONFIG`` variable, else built from Slurm's variables.

    Returns
    -------
    (dict, str) : the configuration and where it came from
    """
    env = os.environ if env is None else env
    if env.get("TF_CONFIG"):
        try:
            conf = json.loads(env["TF_CONFIG"])
            conf["cluster"], conf["task"]["type"], int(conf["task"]["index"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ClusterError(
                f"TF_CONFIG is not valid ({type(exc).__name__}: {exc}); give JSON like "
                '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                '"task": {"type": "worker", "index": 0}}'
            ) from None
        return conf, "TF_CONFIG"
    conf = slurm_tf_config(env)
    if conf is None:
        raise ClusterError(
            "--strategy multi-worker needs TF_CONFIG or a Slurm job step (srun) to know the other "
            "workers; set TF_CONFIG or start one mrcnn-train per task with srun"
        )
    return conf, "Slurm"


def is_chief(conf):
    """Whether this task writes the outputs: the ``chief`` task, or worker 0 when there is no chief."""
    task = conf["task"]
    if task["type"] == "chief":
        return True
    return task["type"] == "worker" and int(task["index"]) == 0 and not conf["cluster"].get("chief")


@contextlib.contextmanager
def chief_path(path):
    """Yield *path* on the chief (or outside a multi-worker run), a temporary one on the other workers.

    Every worker saves what it holds, but only the chief's file is kept; the others write into a temporary
    directory that is removed afterwards, so that workers never race for one file on a shared file system.
    """
    if _ROLE["chief"] is not False:
        yield path
        return
    tmp = tempfile.mkdtemp(prefix=f"mrcnn-worker{_ROLE['index']}-")
    try:
        yield os.path.join(tmp, os.path.basename(path))
        log.debug("worker %s is not the chief: %s not kept", _ROLE["index"], path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def weights_digest(weights):
    """SHA-256 of a model's weights (float32 bytes, in order): equal digests mean equal weights."""
    h = hashlib.sha256()
    for w in weights:
        h.update(np.ascontiguousarray(w, np.float32).tobytes())
    return h.hexdigest()


# --- the training loop -----------------------------------------------------------------------------------


def replica_rows(n, replica, replicas):
    """The contiguous rows ``[lo, hi)`` of a global batch of *n* sites that a replica takes."""
    return replica * n // replicas, (replica + 1) * n // replicas


def epoch_order(n, seed, epoch):
    """The order of the training sites in an epoch, the same on all workers.

    The stateless shuffle by ``(seed, epoch)`` of ``tf_input.make_tf_dataset``, so that a multi-worker run
    sees the global batches of a single-process run with the same seed.
    """
    import tensorflow as tf

    return tf.random.experimental.stateless_shuffle(
        tf.range(n, dtype=tf.int64), seed=tf.constant([seed, epoch], tf.int64)
    ).numpy()


def _window_source(data):
    """A function from site indices to uint8 windows (N, W)."""
    windows = getattr(data, "windows", None)
    if callable(windows):  # datasets that cut windows from the genome on the fly
        return windows
    seq = data.seq
    return lambda idx: seq[idx]


def train_multi_worker(train, val, config, *, meta):
    """Train a Keras architecture on all workers of a ``MultiWorkerMirroredStrategy`` cluster.

    Parameters
    ----------
    train, val : Dataset (val may be None)
        Every worker holds the sites (and their labels); each one cuts only the windows of its part.
    config : training.TrainConfig
        ``batch_size`` is the global batch, split among all replicas.
    meta : dict
        Written into the checkpoints.

    Returns
    -------
    (keras.Model with the best weights, list of per-epoch history rows)
        The same on every worker.
    """
    conf, source = cluster_config()
    os.environ["TF_CONFIG"] = json.dumps(conf)  # MultiWorkerMirroredStrategy reads it at construction

    tf = load_tensorflow(config.threads)
    import keras

    # the strategy first: collectives must be configured before TensorFlow's runtime starts
    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    except (RuntimeError, ValueError) as exc:
        raise ClusterError(
            f"cannot start the multi-worker strategy from {source} ({exc}); "
            "start mrcnn-train in a fresh process with TF_CONFIG or under srun"
        ) from None
    chief = is_chief(conf)
    index, workers = int(conf["task"]["index"]), sum(len(v) for v in conf["cluster"].values())
    _ROLE.update(chief=chief, index=index, workers=workers)
    replicas = strategy.num_replicas_in_sync
    log.info(
        "worker %d of %d (%s%s), %d replicas in sync",
        index,
        workers,
        conf["task"]["type"],
        ", chief" if chief else "",
        replicas,
    )
    if config.batch_size < replicas:
        raise UsageError(
            f"--batch-size {config.batch_size} is smaller than the {replicas} replicas; "
            "the batch size is the global batch, split among the replicas"
        )
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    registry.register_layers()

    run = TrainingRun(config, meta, has_val=val is not None, writes=chief)
    with strategy.scope():
        model = run.start(keras, train.window, where=" (on a file system that every worker sees)")
        optimizer = model.optimizer
        optimizer.build(model.trainable_variables)

    def train_replica(x, y, w, n_global):
        with tf.GradientTape() as tape:
            pred = tf.reshape(model(x, training=True), [-1])
            per_site = tf.square(pred - y) * w
            loss = tf.nn.compute_average_loss(per_site, global_batch_size=n_global)
            if model.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return tf.reduce_sum(per_site)

    def eval_replica(x, y, w):
        pred = tf.reshape(model(x, training=False), [-1])
        return tf.reduce_sum(tf.square(pred - y) * w)

    @tf.function(reduce_retracing=True)
    def train_step(x, y, w, n_global):
        per_replica = strategy.run(train_replica, args=(x, y, w, n_global))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    @tf.function(reduce_retracing=True)
    def eval_step(x, y, w):
        return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(eval_replica, args=(x, y, w)), axis=None)

    def distribute(windows_of, labels, idx):
        """Per-replica (windows, labels, weights) of the global batch *idx*; a worker cuts only its parts.

        A replica left without rows (a last batch smaller than the replicas) gets one row of weight 0:
        TensorFlow's kernels abort on empty batches inside the collective step.
        """

        def value(ctx):
            lo, hi = replica_rows(len(idx), ctx.replica_id_in_sync_group, ctx.num_replicas_in_sync)
            part = np.sort(idx[lo:hi]) if hi > lo else idx[:1]  # in-order gathers read memory in order
            weight = np.full(len(part), 1.0 if hi > lo else 0.0, np.float32)
            return tf.constant(windows_of(part)), tf.constant(labels[part]), tf.constant(weight)

        return strategy.experimental_distribute_values_from_function(value)

    batch = config.batch_size
    train_windows, train_y = _window_source(train), np.asarray(train.y, np.float32)
    if val is not None:
        val_windows, val_y = _window_source(val), np.asarray(val.y, np.float32)
    n_train = len(train)
    for epoch in range(run.state["epoch"], config.epochs):
        if run.state["stopped"]:
            break
        t0 = time.perf_counter()
        order = epoch_order(n_train, config.seed, epoch)
        total = 0.0
        with epoch_progress(epoch, config.epochs, -(-n_train // batch)) as progress:
            for i in range(0, n_train, batch):
                idx = order[i : i + batch]
                x, y, w = distribute(train_windows, train_y, idx)
                total += float(train_step(x, y, w, tf.constant(len(idx), tf.int32)))
                progress.update(1, note=f"loss {total / (i + len(idx)):.4f}")  # the running mean, as Keras shows
        row = {"epoch": epoch + 1, "loss": total / n_train, "rmse": math.sqrt(total / n_train)}
        if val is not None:
            sse = 0.0
            for i in range(0, len(val), batch):
                x, y, w = distribute(val_windows, val_y, np.arange(i, min(i + batch, len(val))))
                sse += float(eval_step(x, y, w))
            row["val_loss"] = sse / len(val)
            row["val_rmse"] = math.sqrt(row["val_loss"])
        run.record_epoch(model, row, time.perf_counter() - t0, n_train)
    model, history = run.finish(model)
    log.info("worker %d of %d: final weights sha256 %s", index, workers, weights_digest(model.get_weights()))
    return model, history
