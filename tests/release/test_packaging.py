"""bioconda recipe and release files: rendering, CFEP-25, requirements = setup.py, sdist hash and contents."""

import ast
import os
import re
import subprocess
import sys
import tarfile

import pytest
from helpers import ROOT, TEST_DATA, run_main

sys.path.insert(0, str(ROOT / "recipe"))
import jinja2
import make_dist  # noqa: E402
import yaml

from mrcnn_tools.cli import filters2meme

RECIPE = ROOT / "recipe" / "meta.yaml"
# setup.py name -> conda name, where they differ
CONDA_NAME = {"matplotlib": "matplotlib-base"}


def render(python_min="3.10"):
    """meta.yaml as conda-build renders it for noarch python (python_min from the conda-forge pinning)."""

    text = jinja2.Template(RECIPE.read_text()).render(
        python_min=python_min, PYTHON="python", pin_subpackage=lambda name, max_pin=None: f"{name} {max_pin}"
    )
    return yaml.safe_load(text)


def setup_kwargs():
    tree = ast.parse((ROOT / "setup.py").read_text())
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "setup")
    out = {}
    for kw in call.keywords:
        if kw.arg in ("install_requires", "extras_require", "python_requires"):
            out[kw.arg] = ast.literal_eval(kw.value)
    return out


def split_req(req):
    m = re.match(r"^([A-Za-z0-9_.-]+)\s*(.*)$", req.strip())
    return m[1].lower(), m[2].replace(" ", "")


def test_recipe_renders_with_url_sha256_and_cfep25():
    meta = render()
    src = meta["source"]
    assert "path" not in src
    assert src["url"] == "https://pypi.org/packages/source/m/mrcnn-tools/mrcnn_tools-0.1.0.tar.gz".replace(
        "0.1.0", meta["package"]["version"]
    )
    assert re.fullmatch(r"[0-9a-f]{64}", src["sha256"]) and set(src["sha256"]) != {"0"}
    reqs = meta["requirements"]
    assert "python 3.10" in reqs["host"]
    assert "python >=3.10" in reqs["run"]
    assert "python 3.10" in meta["test"]["requires"]
    assert meta["build"]["noarch"] == "python"
    # man pages are committed (man/*.1, in the sdist): nothing generates them at build time
    assert not any("argparse-manpage" in r for r in reqs["host"])


def test_run_requirements_equal_install_requires():
    meta = render()
    run = dict(split_req(r) for r in meta["requirements"]["run"] if not r.startswith("python "))
    want = {}
    for req in setup_kwargs()["install_requires"]:
        name, spec = split_req(req)
        want[CONDA_NAME.get(name, name)] = spec
    assert run == want


def test_memelite_is_an_optional_extra():
    kw = setup_kwargs()
    assert not any(r.startswith("memelite") for r in kw["install_requires"])
    assert any(r.startswith("memelite") for r in kw["extras_require"]["motifs"])
    assert not any(r.startswith("memelite") for r in render()["requirements"]["run"])


def test_filters2meme_without_memelite_says_how_to_install_before_any_work(tmp_path, capsys, monkeypatch):

    monkeypatch.setitem(sys.modules, "memelite", None)  # import memelite now raises ImportError
    out = tmp_path / "motifs"
    rc, err = run_main(
        filters2meme.main,
        ["-m", TEST_DATA / "model_small.keras", TEST_DATA / "test_small.npz", "--out-dir", out, "--jaspar"],
        capsys,
    )
    assert rc == 1 and len(err) == 1, err
    assert "memelite" in err[0] and "pip install" in err[0]
    assert not out.exists()


def test_maintainers_field_says_it_must_be_filled():
    text = RECIPE.read_text()
    assert "MUST be filled" in text
    assert render()["extra"]["recipe-maintainers"] == ["FILL-IN-GITHUB-LOGIN"]


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """sdist and wheel of the last commit, built as `make dist` builds them (pinned tools, own venv)."""
    out = tmp_path_factory.mktemp("dist")
    sdist, wheel, what = make_dist.build(out, log=None)
    return sdist, wheel, what


@pytest.mark.slow
def test_recipe_sha256_is_that_of_the_sdist_built_from_the_checkout(dist):
    sdist, _, what = dist
    assert make_dist.sha256(sdist) == make_dist.recipe_sha256(), (
        f"recipe/meta.yaml does not hold the sha256 of the sdist of {what}: run `make dist` and commit recipe/meta.yaml"
    )


@pytest.mark.slow
def test_sdist_holds_what_the_recipe_needs(dist):
    sdist, wheel, _ = dist
    names = make_dist.check_contents(sdist, wheel)
    for f in render()["test"]["source_files"]:
        assert f in names
    assert "recipe/meta.yaml" not in names  # else writing the hash would change the sdist it names


@pytest.mark.slow
def test_recipe_test_commands_pass_on_the_sdist_alone(dist, tmp_path):
    sdist, _, _ = dist
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(sdist),
        ],
        check=True,
    )
    work = tmp_path / "work"
    work.mkdir()
    with tarfile.open(sdist) as tf:
        prefix = tf.getnames()[0].split("/")[0]
        for m in tf.getmembers():
            if m.name.startswith(f"{prefix}/test-data/"):
                m.name = m.name[len(prefix) + 1 :]
                tf.extract(m, work)
    env = dict(
        os.environ,
        PYTHONPATH=str(target),
        PATH=f"{target / 'bin'}:{os.path.dirname(sys.executable)}:{os.environ['PATH']}",
    )
    probe = subprocess.run(
        [sys.executable, "-c", "import mrcnn_tools; print(mrcnn_tools.__file__)"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.startswith(str(target))  # the sdist's package, not the checkout's
    meta = render()
    for module in meta["test"]["imports"]:
        subprocess.run([sys.executable, "-c", f"import {module}"], env=env, cwd=work, check=True)
    for cmd in meta["test"]["commands"]:
        if cmd == "pip check":
            continue  # checks the environment, which here is the developer's venv, not the recipe's
        proc = subprocess.run(cmd, shell=True, cwd=work, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, (cmd, proc.stderr[-2000:])
