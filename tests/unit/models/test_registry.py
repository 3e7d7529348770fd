"""The one registry of architectures: every table that used to restate an architecture's name follows from it."""

import pytest

from mrcnn_tools.cli.train import get_parser
from mrcnn_tools.errors import UsageError
from mrcnn_tools.models import registry
from mrcnn_tools.models.files import check_model_suffix


def test_the_names_and_their_properties():
    assert registry.NAMES == ("mrcnn", "simple-cnn", "mrcnn-context", "context-only", "kmer-gbr")
    assert registry.KERAS_NAMES == ("mrcnn", "simple-cnn", "mrcnn-context", "context-only")
    assert registry.CONTEXT_NAMES == ("mrcnn-context", "context-only")
    # what reads no sequence needs no genome for a sites-only dataset: context-only and the neighbour baseline
    assert registry.WITHOUT_SEQUENCE == ("context-only", "neighbours")
    assert [registry.reads_sequence(n) for n in (*registry.NAMES, "neighbours")] == [
        True, True, True, False, True, False,
    ]  # fmt: skip
    with pytest.raises(ValueError, match="unknown architecture 'resnet'"):
        registry.get("resnet")


def test_arch_choices_and_model_suffixes_come_from_the_registry(tmp_path):
    arch = next(a for a in get_parser()._actions if a.dest == "arch")
    assert tuple(arch.choices) == registry.NAMES
    for name, spec in registry.ARCHITECTURES.items():
        check_model_suffix(name, str(tmp_path / f"m{spec.suffix}"))
        other = ".skops" if spec.suffix == ".keras" else ".keras"
        with pytest.raises(UsageError):
            check_model_suffix(name, str(tmp_path / f"m{other}"))


def test_each_keras_architecture_builds_from_its_entry():
    """Built through the registry with its own defaults: uint8 codes in (and the neighbour arrays for the context
    models), one level out."""
    for name in registry.KERAS_NAMES:
        spec = registry.get(name)
        kwargs = {"k": 2} if spec.reads_context else {}
        model = registry.build_model(name, 100, seed=1, **kwargs)
        assert model.output.shape[-1] == 1
        names = sorted(i.name for i in model.inputs)
        expected = (["codes"] if spec.reads_sequence else []) + (
            ["context_coverage", "context_dist", "context_level"] if spec.reads_context else []
        )
        assert names == sorted(expected), name
    with pytest.raises(ValueError, match="not a Keras architecture"):
        registry.build_model("kmer-gbr", 100)
