"""filters2meme's t-SNE figure: one legend below the panels, outside every axes, with n per group."""

import numpy as np

from mrcnn_tools.motifs import plots


def test_tsne_legend_outside_the_panels_with_n(monkeypatch, tmp_path):
    figs = []

    def keep(fig, path):
        fig.canvas.draw()
        figs.append(fig)
        return path

    monkeypatch.setattr(plots, "_save", keep)
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(40, int), np.zeros(25, int)]
    embeds = {name: rng.normal(size=(65, 2)) for name in ("one-hot input", "first-layer features", "last hidden layer")}
    rows = [{"panel": name, "silhouette": 0.1} for name in embeds]
    plots.tsne_figure(embeds, rows, labels, tmp_path / "tsne.png")
    (fig,) = figs
    (legend,) = fig.legends
    renderer = fig.canvas.get_renderer()
    box = legend.get_window_extent(renderer)
    assert all(box.y1 <= ax.get_window_extent(renderer).y0 for ax in fig.axes)
    assert [t.get_text() for t in legend.get_texts()] == ["hyper (> 0.9), n=40", "hypo (< 0.1), n=25"]
    assert "n = 65" in fig._suptitle.get_text()
    assert all(ax.get_legend() is None for ax in fig.axes)
    plots._plt().close("all")


def test_tsne_png_written(tmp_path):
    rng = np.random.default_rng(1)
    labels = np.r_[np.ones(10, int), np.zeros(10, int)]
    path = plots.tsne_figure(
        {"one-hot input": rng.normal(size=(20, 2))}, [{"silhouette": 0.0}], labels, tmp_path / "tsne.png"
    )
    assert path.stat().st_size > 1000
