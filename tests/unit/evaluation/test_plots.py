"""mrcnn-eval's figures: legends outside the axes, n per group written, long model names shortened."""

import numpy as np
import pytest

from mrcnn_tools.evaluation import plots
from mrcnn_tools.evaluation.metrics import REGRESSION_GROUPS, calibration

LONG = "MRCNN predict on data 5 and data 3: predictions of the IMR90 chr22 test region"
OTHER = "MRCNN predict on data 7 and data 3: predictions of the IMR90 chr22 test region"


@pytest.fixture
def models():
    rng = np.random.default_rng(0)
    y = rng.random(300)
    return {LONG: (y, np.clip(y + rng.normal(0, 0.2, 300), 0, 1)), OTHER: (y, rng.random(300))}


@pytest.fixture
def drawn(monkeypatch):
    """The figures the plot functions draw, kept open and rendered instead of saved."""
    figs = []

    def keep(fig, path):
        fig.canvas.draw()
        figs.append(fig)
        return path

    monkeypatch.setattr(plots, "_save", keep)
    yield figs
    plots._plt().close("all")


def _outside(fig, legend):
    """The legend's box lies right of (or below) every axes' box, in display pixels."""
    renderer = fig.canvas.get_renderer()
    box = legend.get_window_extent(renderer)
    return all(
        box.x0 >= ax.get_window_extent(renderer).x1 or box.y1 <= ax.get_window_extent(renderer).y0
        for ax in fig.axes
        if ax.get_label() != "<colorbar>"
    )


def _legend_texts(legend):
    return [t.get_text() for t in legend.get_texts()]


def test_short_label_ellipsises_long_names_only():
    assert plots.short_label("mrcnn") == "mrcnn"
    cut = plots.short_label(LONG)
    assert len(cut) == plots.MAX_LABEL and cut.endswith("\u2026") and LONG.startswith(cut[:-1])


def test_short_labels_stay_distinct():
    short = plots.short_labels([LONG, OTHER])
    assert len(set(short)) == 2 and all(len(s) <= plots.MAX_LABEL for s in short)
    assert plots.short_labels(["a", "b"]) == ["a", "b"]
    same_ends = ["x" * 40 + "1" + "y" * 40, "x" * 40 + "2" + "y" * 40]
    assert len(set(plots.short_labels(same_ends))) == 2


def test_roc_legend_outside_the_axes_with_n_and_short_names(models, drawn, tmp_path):
    plots.roc_curves(models, tmp_path / "roc.png")
    (fig,) = drawn
    (ax,) = fig.axes
    legend = ax.get_legend()
    assert legend is not None and _outside(fig, legend)
    texts = _legend_texts(legend)
    assert len(texts) == 2
    for text in texts:
        name = text.split("\n")[0]
        assert len(name) <= plots.MAX_LABEL and name.endswith("\u2026")
        assert "AUC" in text and "n=300" in text
    y = models[LONG][0]
    npos = int((y > 0.5).sum())
    assert f"n = 300: {npos} methylated, {300 - npos} unmethylated" in ax.get_title()


def test_roc_png_keeps_the_legend(models, tmp_path):
    """The saved figure grows to take in the legend right of the 5-inch axes."""
    import matplotlib.image as mpimg

    path = plots.roc_curves(models, tmp_path / "roc.png")
    height, width = mpimg.imread(path).shape[:2]
    assert width > 1.4 * height


def test_error_boxplot_and_calibration_legends_outside_with_n(models, drawn, tmp_path):
    plots.error_boxplot(models, tmp_path / "box.png")
    plots.calibration_curve({k: calibration(y, p) for k, (y, p) in models.items()}, tmp_path / "cal.png")
    box, cal = drawn
    for fig in (box, cal):
        legend = fig.axes[0].get_legend()
        assert _outside(fig, legend)
        assert all("n=300" in t and len(t) < plots.MAX_LABEL + 12 for t in _legend_texts(legend))
    ticks = [t.get_text() for t in box.axes[0].get_xticklabels()]
    assert len(ticks) == len(REGRESSION_GROUPS) and all("(n=" in t for t in ticks)


def test_group_bars_write_n_under_each_group(drawn, tmp_path):
    rows = [
        {"model": m, "group": g, "n": n, "rmse": 0.2, "mae": 0.1}
        for m in (LONG, OTHER)
        for g, n in (("all", 300), ("hyper", 120), ("hypo", 90))
    ]
    plots.group_bars(rows, tmp_path / "bars.png", ("rmse", "mae"), title="t")
    (fig,) = drawn
    legend = fig.axes[-1].get_legend()
    assert _outside(fig, legend)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["all\n(n=300)", "hyper\n(n=120)", "hypo\n(n=90)"]
    assert all(len(t) <= plots.MAX_LABEL for t in _legend_texts(legend))


def test_hexbin_title_shortened(models, drawn, tmp_path):
    y, p = models[LONG]
    plots.hexbin(y, p, tmp_path / "hex.png", LONG)
    title = drawn[0].axes[0].get_title()
    assert "n=300" in title and LONG not in title and len(title) < plots.MAX_LABEL + 30
