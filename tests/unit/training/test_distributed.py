"""Multi-worker training (own distributed step under MultiWorkerMirroredStrategy) and TF_CONFIG from Slurm."""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import TEST_DATA, run_main

from mrcnn_tools.cli.encode import main as encode
from mrcnn_tools.cli.train import main as train
from mrcnn_tools.models.files import load_model
from mrcnn_tools.training import distributed
from mrcnn_tools.training.distributed import (
    ClusterError,
    chief_path,
    cluster_config,
    expand_hostlist,
    expand_tasks_per_node,
    is_chief,
    replica_rows,
    slurm_tf_config,
)

# --- Slurm variables -> TF_CONFIG (known answers from `scontrol show hostnames`, Slurm 22.05) ---------------


@pytest.mark.parametrize(
    "hostlist, hosts",
    [
        ("localhost", ["localhost"]),
        ("node[01-03,7],gpu5", ["node01", "node02", "node03", "node7", "gpu5"]),
        ("a[1-2]b[3-4]", ["a1b3", "a1b4", "a2b3", "a2b4"]),
        ("n[008-011]", ["n008", "n009", "n010", "n011"]),
        ("x1,y[2]", ["x1", "y2"]),
    ],
)
def test_hostlist_expanded_as_scontrol_does(hostlist, hosts):
    assert expand_hostlist(hostlist) == hosts


def test_tasks_per_node_expanded():
    assert expand_tasks_per_node("2(x3),1") == [2, 2, 2, 1]
    assert expand_tasks_per_node("4") == [4]
    with pytest.raises(ClusterError, match="TF_CONFIG"):
        expand_tasks_per_node("2(y3)")


def _slurm_env(**kw):
    env = {
        "SLURM_PROCID": "3",
        "SLURM_NTASKS": "4",
        "SLURM_STEP_NODELIST": "gpu[1-2]",
        "SLURM_STEP_TASKS_PER_NODE": "2(x2)",
        "SLURM_JOB_ID": "70001",
    }
    env.update(kw)
    return {k: v for k, v in env.items() if v is not None}


def test_tf_config_from_slurm_block_layout_and_ports():
    # tasks 0,1 on gpu1 and 2,3 on gpu2 (block distribution); the k-th task of a node listens on port + k
    conf = slurm_tf_config(_slurm_env(MRCNN_PORT="20000"))
    assert conf == {
        "cluster": {"worker": ["gpu1:20000", "gpu1:20001", "gpu2:20000", "gpu2:20001"]},
        "task": {"type": "worker", "index": 3},
    }
    # default port: 12345 + job id mod 20000 = 12345 + 10001
    assert slurm_tf_config(_slurm_env())["cluster"]["worker"][0] == "gpu1:22346"
    # one node, two tasks (what srun -n2 sets on the test cluster)
    conf = slurm_tf_config(
        {
            "SLURM_PROCID": "0",
            "SLURM_NTASKS": "2",
            "SLURM_STEP_NODELIST": "localhost",
            "SLURM_STEP_TASKS_PER_NODE": "2",
            "SLURM_JOB_ID": "1",
        }
    )
    assert conf["cluster"]["worker"] == ["localhost:12346", "localhost:12347"] and is_chief(conf)


def test_tf_config_refusals():
    assert slurm_tf_config({}) is None
    with pytest.raises(ClusterError, match="disagree"):
        slurm_tf_config(_slurm_env(SLURM_NTASKS="5"))
    with pytest.raises(ClusterError, match="block"):
        slurm_tf_config(_slurm_env(SLURM_DISTRIBUTION="cyclic"))
    with pytest.raises(ClusterError, match="TF_CONFIG or a Slurm job step"):
        cluster_config({})
    with pytest.raises(ClusterError, match="TF_CONFIG is not valid"):
        cluster_config({"TF_CONFIG": '{"cluster": {}}'})
    own = {"cluster": {"worker": ["h:1"]}, "task": {"type": "worker", "index": 0}}
    assert cluster_config({"TF_CONFIG": json.dumps(own), **_slurm_env()}) == (own, "TF_CONFIG")
    assert cluster_config(_slurm_env())[1] == "Slurm"


def test_chief():
    two = {"worker": ["a:1", "b:1"]}
    assert is_chief({"cluster": two, "task": {"type": "worker", "index": 0}})
    assert not is_chief({"cluster": two, "task": {"type": "worker", "index": 1}})
    with_chief = {"chief": ["c:1"], "worker": ["a:1"]}
    assert is_chief({"cluster": with_chief, "task": {"type": "chief", "index": 0}})
    assert not is_chief({"cluster": with_chief, "task": {"type": "worker", "index": 0}})


def test_replica_rows_split_a_batch_in_order():
    assert [replica_rows(10, r, 3) for r in range(3)] == [(0, 3), (3, 6), (6, 10)]
    assert [replica_rows(1, r, 2) for r in range(2)] == [(0, 0), (0, 1)]


def test_chief_path(monkeypatch, tmp_path):
    out = str(tmp_path / "model.keras")
    monkeypatch.setitem(distributed._ROLE, "chief", None)  # not a multi-worker run
    with chief_path(out) as path:
        assert path == out
    monkeypatch.setitem(distributed._ROLE, "chief", True)
    with chief_path(out) as path:
        assert path == out
    monkeypatch.setitem(distributed._ROLE, "chief", False)
    monkeypatch.setitem(distributed._ROLE, "index", 1)
    with chief_path(out) as path:
        assert path != out and os.path.basename(path) == "model.keras"
        Path(path).write_text("x")
    assert not os.path.exists(path) and not os.path.exists(os.path.dirname(path)) and not os.path.exists(out)


# --- real runs: worker processes on localhost ports ----------------------------------------------------

ARGS = [
    "--arch",
    "simple-cnn",
    "--filters",
    "8",
    "--dense-units",
    "16",
    "--dropout",
    "0",
    "--batch-size",
    "64",
    "--seed",
    "3",
    "--val-fraction",
    "0.1",
    "--threads",
    "1",
]


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _workers(n, argv_of, timeout=300):
    """Start *n* mrcnn-train processes as one cluster; return their (exit code, stderr)."""
    hosts = [f"localhost:{p}" for p in _free_ports(n)]
    procs = []
    for i in range(n):
        env = dict(
            os.environ, TF_CONFIG=json.dumps({"cluster": {"worker": hosts}, "task": {"type": "worker", "index": i}})
        )
        env.pop("SLURM_PROCID", None)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "mrcnn_tools.cli.train", *map(str, argv_of(i))],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                stdin=subprocess.DEVNULL,
            )
        )
    out = []
    try:
        for p in procs:
            out.append((p.wait(timeout=timeout), p.stderr.read()))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return out


def _digests(err):
    return [ln.rsplit(" ", 1)[1] for ln in err.splitlines() if "final weights sha256" in ln]


def _model_digest(path):
    """SHA-256 of a saved model's weights, computed here from the file."""

    model, _ = load_model(str(path))
    h = hashlib.sha256()
    for w in model.get_weights():
        h.update(np.asarray(w, np.float32).tobytes())
    return h.hexdigest()


def _losses(history_tsv):
    lines = Path(history_tsv).read_text().splitlines()
    cols = lines[0].lstrip("#").split("\t")
    rows = [dict(zip(cols, ln.split("\t"))) for ln in lines[1:]]
    return np.array([[float(r["loss"]), float(r["val_loss"])] for r in rows])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """2 workers, 2 epochs; 2 workers, 1 epoch + resume to 2; 1 worker, 2 epochs, sites-only (all mrcnn-train)."""
    d = tmp_path_factory.mktemp("mw")
    # the same sites with stored windows and without (sites-only: windows cut from the genome per batch)

    fasta, data, sites = d / "22_20-21M.fa", d / "windows.npz", d / "sites.npz"
    shutil.copy(TEST_DATA / "22_20-21M.fa", fasta)
    for out, extra in ((data, []), (sites, ["--no-windows"])):
        assert (
            encode(
                [
                    "-q",
                    "--genome",
                    str(fasta),
                    "--calls",
                    str(TEST_DATA / "IMR90_r1_chr22_20-21M_GRCh37.bismark.cov"),
                    "--region",
                    "chr22:20000001-20200000",
                    *extra,
                    "-o",
                    str(out),
                ]
            )
            == 0
        )
    with np.load(sites) as a, np.load(data) as b:
        assert np.array_equal(a["pos"], b["pos"]) and np.array_equal(a["y"], b["y"]) and a["seq"].size == 0
    r = {"dir": d}
    r["full"] = _workers(
        2,
        lambda i: [
            data,
            *ARGS,
            "--epochs",
            "2",
            "--history",
            d / f"full{i}.tsv",
            "-o",
            d / f"full{i}.keras",
            "--strategy",
            "multi-worker",
        ],
    )
    ck = d / "ckpt"
    r["first"] = _workers(
        2,
        lambda i: [
            data,
            *ARGS,
            "--epochs",
            "1",
            "--checkpoint-dir",
            ck,
            "-o",
            d / f"first{i}.keras",
            "--strategy",
            "multi-worker",
        ],
    )
    r["resumed"] = _workers(
        2,
        lambda i: [
            data,
            *ARGS,
            "--epochs",
            "2",
            "--checkpoint-dir",
            ck,
            "--resume",
            "-o",
            d / f"res{i}.keras",
            "--strategy",
            "multi-worker",
        ],
    )
    # one worker on the sites-only dataset
    r["one"] = _workers(
        1,
        lambda i: [
            sites,
            "--genome",
            fasta,
            *ARGS,
            "--epochs",
            "2",
            "--history",
            d / "one.tsv",
            "-o",
            d / "one.keras",
            "--strategy",
            "multi-worker",
        ],
    )
    return r


@pytest.mark.slow
def test_two_workers_finish_with_equal_weights_and_only_the_chief_writes(runs):
    d = runs["dir"]
    (rc0, err0), (rc1, err1) = runs["full"]
    assert rc0 == 0 and rc1 == 0, err0 + err1
    assert "worker 0 of 2 (worker, chief)" in err0 and "worker 1 of 2 (worker)" in err1
    assert (d / "full0.keras").exists() and (d / "full0.tsv").exists()
    assert not (d / "full1.keras").exists() and not (d / "full1.tsv").exists()  # written to a temp dir
    held0, held1 = _digests(err0), _digests(err1)
    assert len(held0) == len(held1) == 1 and held0 == held1
    assert _model_digest(d / "full0.keras") == held0[0]


@pytest.mark.slow
def test_two_workers_follow_the_loss_curve_of_one(runs):
    # each replica takes half of every global batch and the gradients are summed: the same steps as one
    # worker, up to the order of float additions
    assert runs["one"][0][0] == 0, runs["one"][0][1]
    one, two = _losses(runs["dir"] / "one.tsv"), _losses(runs["dir"] / "full0.tsv")
    assert one.shape == two.shape == (2, 2)
    np.testing.assert_allclose(two, one, rtol=2e-3)
    assert not np.array_equal(two[0], two[1])  # it trained


@pytest.mark.slow
def test_resume_continues_where_the_checkpoint_left(runs):
    d = runs["dir"]
    assert all(rc == 0 for rc, _ in runs["first"] + runs["resumed"]), runs["resumed"]
    assert not (d / "ckpt" / "worker1").exists() and (d / "ckpt" / "state.json").exists()
    state = json.loads((d / "ckpt" / "state.json").read_text())
    assert state["state"]["epoch"] == 2
    assert all("resuming after epoch 1 of 2" in err for _, err in runs["resumed"])
    # dropout 0, same shuffles and restored Adam state: the resumed run ends where the uninterrupted one does
    assert _digests(runs["resumed"][0][1]) == _digests(runs["resumed"][1][1]) == _digests(runs["full"][0][1])


@pytest.mark.slow
def test_one_worker_custom_loop_matches_model_fit(runs, tmp_path, capsys):
    # also: the one-worker run cut its windows from the genome (sites-only dataset), model.fit read stored ones

    rc, err = run_main(
        train,
        [
            runs["dir"] / "windows.npz",
            *ARGS,
            "--epochs",
            "2",
            "--history",
            tmp_path / "fit.tsv",
            "-o",
            tmp_path / "fit.keras",
        ],
        capsys,
    )
    assert rc == 0, err
    np.testing.assert_allclose(_losses(runs["dir"] / "one.tsv"), _losses(tmp_path / "fit.tsv"), rtol=1e-4)


@pytest.mark.slow
def test_last_batch_smaller_than_the_replicas(tmp_path):
    # 129 training and 65 validation sites in global batches of 64: the last batch of each has one row, so
    # one of the two replicas has none (TensorFlow aborts on an empty batch in the collective step)

    calls = str(TEST_DATA / "IMR90_r1_chr22_20-21M_GRCh37.bismark.cov")
    for name, region, n in (("t", "chr22:20000001-20200000", 129), ("v", "chr22:20200001-20400000", 65)):
        assert (
            encode(
                [
                    "-q",
                    "--genome",
                    str(TEST_DATA / "22_20-21M.fa"),
                    "--calls",
                    calls,
                    "--region",
                    region,
                    "--max-sites",
                    str(n),
                    "--seed",
                    "1",
                    "-o",
                    str(tmp_path / f"{name}.npz"),
                ]
            )
            == 0
        )
        with np.load(tmp_path / f"{name}.npz") as a:
            assert len(a["y"]) == n
    args = [a for a in ARGS if a not in ("--val-fraction", "0.1")]
    out = _workers(
        2,
        lambda i: [
            tmp_path / "t.npz",
            "--validation",
            tmp_path / "v.npz",
            *args,
            "--epochs",
            "1",
            "--history",
            tmp_path / f"h{i}.tsv",
            "-o",
            tmp_path / f"m{i}.keras",
            "--strategy",
            "multi-worker",
        ],
    )
    assert [rc for rc, _ in out] == [0, 0], out
    assert _digests(out[0][1]) == _digests(out[1][1]) and len(_digests(out[0][1])) == 1
    assert np.isfinite(_losses(tmp_path / "h0.tsv")).all()


def test_multi_worker_without_cluster_is_refused(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG" and not k.startswith("SLURM_")}
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "mrcnn_tools.cli.train",
            str(TEST_DATA / "train_small.npz"),
            *ARGS,
            "--epochs",
            "1",
            "-o",
            str(tmp_path / "m.keras"),
            "--strategy",
            "multi-worker",
        ],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    last = p.stderr.strip().splitlines()[-1]
    assert p.returncode == 1 and last.startswith("mrcnn-train: error:") and "TF_CONFIG or a Slurm job step" in last
    assert "Traceback" not in p.stderr and not (tmp_path / "m.keras").exists()
