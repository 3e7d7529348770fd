"""Prediction: predictors over datasets and genomes, and the predictions file (docs/FORMATS.md §5).

``mrcnn_tools.prediction`` was one module in 0.2: its names (``Predictor``, ``predict_to_files``, ...) still resolve
here for this release, with a DeprecationWarning; they live in :mod:`mrcnn_tools.prediction.predictors` and
:mod:`mrcnn_tools.prediction.predict`.
"""

from mrcnn_tools import moved_name


def __getattr__(name):
    return moved_name("prediction", name, ("prediction.predictors", "prediction.predict"))
