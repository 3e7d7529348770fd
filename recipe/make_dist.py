"""Build the release sdist and wheel reproducibly, check them, and write the sdist's sha256 into the recipe.

    python recipe/make_dist.py            # make dist: build, check, write the sha256 into recipe/meta.yaml
    python recipe/make_dist.py --check    # build and check; exit 1 when the recipe's sha256 differs

The sources are the last commit (``git archive HEAD``), not the work tree, so that the hash names exactly what
a commit holds and uncommitted edits cannot leak into a release; outside a git checkout the directory itself
is used. The build tools are pinned and live in their own venv (``build/dist-venv``), and the sdist is
re-packed with fixed timestamps, owners and order, so the same commit always gives the same sha256.
"""

import argparse
import gzip
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "recipe" / "meta.yaml"
DIST_VENV = ROOT / "build" / "dist-venv"
# one version of each tool: another setuptools writes other PKG-INFO fields, so another hash
TOOLS = ("setuptools==84.2.1", "wheel==0.48.0", "build==1.6.1", "twine==7.0.0")
# 2020-01-01: any fixed time works; zip (the wheel built from the sdist) cannot store times before 1980
FIXED_MTIME = 1577836800
# what the recipe's build and test sections use from the sdist
REQUIRED = ("setup.py", "README.md", "LICENSE", "PKG-INFO", "mrcnn_tools/__init__.py", "mrcnn_tools/cli/predict.py",
            "man/mrcnn-encode.1", "man/mrcnn-train.1", "man/mrcnn-predict.1", "man/mrcnn-eval.1",
            "man/mrcnn-filters2meme.1", "test-data/model_small_gbr.skops", "test-data/model_small.keras",
            "test-data/test_small.npz", "test-data/pred_small_gbr.tsv")


class DistError(Exception):
    """A build or check failed; the message says what to do."""


def version():
    return re.search(r'__version__ = "([^"]+)"', (ROOT / "mrcnn_tools" / "__init__.py").read_text()).group(1)


def sdist_name(ver=None):
    return f"mrcnn_tools-{ver or version()}.tar.gz"


def tool_python():
    """The Python of the pinned build-tools venv, created on first use."""
    py = DIST_VENV / "bin" / "python"
    stamp = DIST_VENV / ".tools"
    if not py.exists() or not stamp.exists() or stamp.read_text() != "\n".join(TOOLS):
        shutil.rmtree(DIST_VENV, ignore_errors=True)
        venv.EnvBuilder(with_pip=True).create(DIST_VENV)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *TOOLS], check=True)
        stamp.write_text("\n".join(TOOLS))
    return py


def export_sources(dest):
    """The files of the last commit in *dest*; the work tree when this is not a git checkout."""
    inside = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--is-inside-work-tree"], capture_output=True,
                            text=True)
    if inside.returncode != 0:
        shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(".venv*", "build", "dist", "*.egg-info", ".git"))
        return "work tree"
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "HEAD"], capture_output=True,
                             check=True).stdout
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tf:
        tf.extractall(dest, filter="data") if hasattr(tarfile, "data_filter") else tf.extractall(dest)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    return f"commit {head}"


def normalise_sdist(path):
    """Re-pack an sdist with fixed times, owners and modes, in name order, in a gzip without a timestamp."""
    with tarfile.open(path) as src:
        members = sorted(src.getmembers(), key=lambda m: m.name)
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as dst:
            for m in members:
                data = src.extractfile(m).read() if m.isfile() else None
                m.mtime = FIXED_MTIME
                m.uid = m.gid = 0
                m.uname = m.gname = ""
                m.mode = 0o755 if m.isdir() or (m.mode & 0o111) else 0o644
                m.pax_headers = {}
                dst.addfile(m, io.BytesIO(data) if data is not None else None)
    with open(path, "wb") as fh, gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_contents(sdist, wheel):
    """Refuse an sdist without what the recipe needs, and a wheel without the package and man pages."""
    with tarfile.open(sdist) as tf:
        prefix = tf.getnames()[0].split("/")[0]
        names = {n[len(prefix) + 1:] for n in tf.getnames()}
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        raise DistError(f"{sdist}: the sdist lacks {', '.join(missing)}; list them in MANIFEST.in")
    with zipfile.ZipFile(wheel) as zf:
        wnames = zf.namelist()
    if not any(n.endswith("mrcnn_tools/cli/predict.py") for n in wnames) or \
            not any(n.endswith("man1/mrcnn-predict.1") for n in wnames):
        raise DistError(f"{wheel}: the wheel lacks the package or the man pages")
    return sorted(names)


def recipe_sha256(text=None):
    text = RECIPE.read_text() if text is None else text
    m = re.search(r"^\s*sha256:\s*([0-9a-f]{64})\s*$", text, re.M)
    return m.group(1) if m else None


def write_recipe_sha256(digest):
    text = RECIPE.read_text()
    new, n = re.subn(r"^(\s*sha256:\s*)[0-9a-f]{64}(\s*)$", lambda m: m.group(1) + digest + m.group(2), text,
                     flags=re.M)
    if n != 1:
        raise DistError(f"{RECIPE}: no single 'sha256: <64 hex digits>' line to update")
    if new != text:
        RECIPE.write_text(new)


def build(outdir, log=print):
    """Build sdist and wheel of the last commit into *outdir*; return (sdist, wheel, source description)."""
    py = tool_python()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mrcnn-dist-") as tmp:
        src = Path(tmp) / "src"
        what = export_sources(src)
        stage = Path(tmp) / "out"
        # the wheel is built from the unpacked sdist, which proves the sdist is complete enough to build
        subprocess.run([str(py), "-m", "build", "--no-isolation", "--outdir", str(stage), str(src)], check=True,
                       stdout=subprocess.DEVNULL if log is None else None)
        sdist = stage / sdist_name()
        wheels = list(stage.glob("*.whl"))
        if not sdist.exists() or len(wheels) != 1:
            raise DistError(f"build wrote {sorted(p.name for p in stage.iterdir())}, expected {sdist.name} and one "
                            "wheel")
        normalise_sdist(sdist)
        for f in (sdist, wheels[0]):
            shutil.copy(f, outdir / f.name)
    return outdir / sdist.name, outdir / wheels[0].name, what


def twine_check(*files):
    subprocess.run([str(tool_python()), "-m", "twine", "check", "--strict", *map(str, files)], check=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not write the recipe; exit 1 when its sha256 differs")
    parser.add_argument("--outdir", default=str(ROOT / "dist"), help="where the sdist and wheel go (default dist/)")
    args = parser.parse_args(argv)
    try:
        sdist, wheel, what = build(args.outdir)
        twine_check(sdist, wheel)
        check_contents(sdist, wheel)
        digest = sha256(sdist)
        print(f"{sdist} ({what}): sha256 {digest}")
        print(f"{wheel}")
        if args.check:
            if recipe_sha256() != digest:
                raise DistError(f"{RECIPE} has sha256 {recipe_sha256()}, the sdist of {what} {digest}: run "
                                "`make dist` and commit recipe/meta.yaml")
        else:
            write_recipe_sha256(digest)
            print(f"wrote the sha256 into {RECIPE}")
    except (DistError, subprocess.CalledProcessError) as exc:
        print(f"make_dist: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
