"""Output directories (issue 22): ``--out-dir`` is created with its parents, an output file inside that new
``--out-dir`` is accepted, ``-o FILE`` into a missing directory is refused in one line, and a command that fails
leaves no directory it created behind (docs/FORMATS.md §4)."""

import numpy as np
import pytest
from helpers import bundled, run_main

from mrcnn_tools.cli.evaluate import main as evaluate
from mrcnn_tools.cli.filters2meme import main as filters2meme
from mrcnn_tools.cli.predict import main as predict
from mrcnn_tools.cli.train import main as train
from mrcnn_tools.errors import MrcnnError
from mrcnn_tools.runtime.guard import check_outputs, make_dirs


def _one_error_line(err):
    errors = [ln for ln in err if "error:" in ln]
    assert len(errors) == 1 and not any("Traceback" in ln for ln in err), err
    return errors[0]


def test_eval_creates_a_nested_out_dir(tmp_path, capsys):
    out = tmp_path / "a" / "b" / "eval"
    rc, err = run_main(evaluate, [bundled("pred_small.tsv"), "--no-plots", "--out-dir", out], capsys)
    assert rc == 0, err
    assert (out / "metrics.tsv").stat().st_size > 0 and (out / "metrics.json").is_file()


def test_eval_that_fails_removes_the_directories_it_created(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("not a predictions file\n")
    (tmp_path / "kept").mkdir()  # existed before: left as it was
    out = tmp_path / "kept" / "a" / "b"
    rc, err = run_main(evaluate, [bad, "--out-dir", out], capsys)
    assert rc == 1
    _one_error_line(err)
    assert not (tmp_path / "kept" / "a").exists() and (tmp_path / "kept").is_dir()


@pytest.fixture(scope="module")
def two_groups(tmp_path_factory):
    """train_small.npz with half of its sites relabelled unmethylated, so that both hyper and hypo have sites."""
    with np.load(bundled("train_small.npz"), allow_pickle=False) as d:
        arrays = {k: d[k] for k in d.files}
    arrays["y"] = arrays["y"].copy()
    arrays["y"][::2] = 0.0
    path = tmp_path_factory.mktemp("outdirs") / "two_groups.npz"
    np.savez(path, **arrays)
    return path


def test_filters2meme_tsne_inside_a_new_nested_out_dir(two_groups, tmp_path, capsys):
    """The README's and make demo's call: --tsne names a file in the --out-dir that does not exist yet."""
    out = tmp_path / "demo-output" / "h1" / "motifs"
    argv = [
        "-m",
        bundled("model_small.keras"),
        two_groups,
        "--groups",
        "hyper,hypo",
        "--sites-per-group",
        "40",
        "--n-motifs",
        "1",
        "--tsne",
        out / "tsne.png",
        "--out-dir",
        out,
    ]
    rc, err = run_main(filters2meme, argv, capsys)
    assert rc == 0, err
    for name in ("motifs.meme", "motifs.tsv", "tsne.png", "tsne.tsv"):
        assert (out / name).stat().st_size > 0, name


def test_filters2meme_tsne_outside_the_out_dir_in_a_missing_directory_is_refused(tmp_path, capsys):
    out = tmp_path / "motifs"
    argv = ["-m", bundled("model_small.keras"), bundled("train_small.npz"), "--tsne", tmp_path / "no" / "t.png"]
    rc, err = run_main(filters2meme, [*argv, "--out-dir", out], capsys)
    assert rc == 1
    assert "does not exist; create it first" in _one_error_line(err)
    assert not out.exists() and not (tmp_path / "no").exists()  # refused before anything is created


@pytest.mark.parametrize("command", ["predict", "train"])
def test_output_file_into_a_missing_directory_is_refused(command, tmp_path, capsys):
    target = tmp_path / "missing" / "deeper" / ("p.tsv" if command == "predict" else "m.keras")
    if command == "predict":
        rc, err = run_main(
            predict, ["-m", bundled("model_small.keras"), bundled("test_small.npz"), "-o", target], capsys
        )
    else:
        rc, err = run_main(train, [bundled("train_small.npz"), "--epochs", "1", "-o", target], capsys)
    assert rc == 1
    line = _one_error_line(err)
    assert str(target) in line and "does not exist; create it first" in line
    assert not (tmp_path / "missing").exists()


def test_out_dir_below_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "file.txt").write_text("x")
    rc, err = run_main(evaluate, [bundled("pred_small.tsv"), "--out-dir", tmp_path / "file.txt" / "sub"], capsys)
    assert rc == 1
    assert "is a file, not a directory" in _one_error_line(err)


def test_check_outputs_lists_the_directories_to_create(tmp_path):
    out = tmp_path / "a" / "b"
    inside = out / "plots" / "t.png"
    new = check_outputs([("--tsne", str(inside))], [("--out-dir", str(out))])
    assert new == [str(out), str(out / "plots")]
    created = []
    make_dirs(new, created)
    assert created == [str(tmp_path / "a")] and (out / "plots").is_dir()
    with pytest.raises(MrcnnError, match="does not exist; create it first"):
        check_outputs([("--tsne", str(tmp_path / "elsewhere" / "t.png"))], [("--out-dir", str(tmp_path / "c"))])


def test_filters2meme_tsne_with_too_few_sites_is_skipped_with_a_warning(tmp_path, capsys):
    """train_small.npz has 4 hypo sites: no t-SNE worth drawing; the run still writes its motifs and exits 0."""
    out = tmp_path / "new" / "motifs"
    argv = [
        "-m",
        bundled("model_small.keras"),
        bundled("train_small.npz"),
        "--sites-per-group",
        "30",
        "--n-motifs",
        "1",
    ]
    rc, err = run_main(filters2meme, [*argv, "--tsne", out / "tsne.png", "--out-dir", out], capsys)
    assert rc == 0, err
    assert any("t-SNE needs at least 25 hyper and 25 hypo sites, here 30 and 4" in ln for ln in err), err
    assert (out / "motifs.meme").stat().st_size > 0 and not (out / "tsne.png").exists()
