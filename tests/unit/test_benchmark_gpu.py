"""benchmarks/gpu.py, ready for a GPU machine: without a GPU it says so; --cpu-smoke --tiny runs its code on the CPU."""

import importlib.util
import sys

import pytest
from helpers import ROOT

from mrcnn_tools.models.backend import load_tensorflow


@pytest.fixture(scope="module")
def gpu_bench():
    sys.path.insert(0, str(ROOT / "benchmarks"))  # as running the script does
    try:
        spec = importlib.util.spec_from_file_location("bench_gpu", ROOT / "benchmarks" / "gpu.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return module


def test_without_a_gpu_it_says_so(gpu_bench, capsys):
    if load_tensorflow().config.list_physical_devices("GPU"):
        pytest.skip("a GPU is visible: the script measures instead")
    assert gpu_bench.main([]) == 1
    assert "no GPU visible" in capsys.readouterr().out
    args = gpu_bench.parse_args(["--batch-sizes", "256,8192"])
    assert args.batch_sizes == "256,8192" and args.precisions == "float32,mixed" and not args.cpu_smoke


@pytest.mark.slow
def test_cpu_smoke_prints_the_table(gpu_bench, capsys):
    assert gpu_bench.main(["--cpu-smoke", "--tiny", "--batch-sizes", "16", "--steps", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == " | ".join(gpu_bench.COLUMNS)
    rows = [ln.split(" | ") for ln in lines[2:]]
    assert [r[:2] for r in rows] == [["float32", "16"], ["mixed", "16"]]
    assert all(cell.endswith("/s") for r in rows for cell in r[2:6]) and all(r[6] == "-" for r in rows)
