"""Options objects (issue 24): TrainOptions and MotifOptions are the one home of the training and motif defaults;
the commands' parsers take their defaults and help from them, and the library functions take them whole."""

from dataclasses import fields

import pytest

from mrcnn_tools.cli import filters2meme, train
from mrcnn_tools.cli.options import options_from_args
from mrcnn_tools.errors import UsageError
from mrcnn_tools.motifs.options import MotifOptions
from mrcnn_tools.motifs.options import option_help as motif_help
from mrcnn_tools.training.options import DEFAULTS, TrainOptions, learning_rate_for
from mrcnn_tools.training.options import option_help as train_help


def _actions(parser):
    return {a.dest: a for a in parser._actions}


@pytest.mark.parametrize(
    "cls, parser, help_of",
    [(TrainOptions, train.get_parser(), train_help), (MotifOptions, filters2meme.get_parser(), motif_help)],
)
def test_parser_defaults_and_help_come_from_the_options(cls, parser, help_of):
    actions = _actions(parser)
    options = [f for f in fields(cls) if f.name in actions]
    assert len(options) == len(fields(cls))  # every field is an option of the command
    for f in options:
        default = actions[f.name].default
        assert (list(default) if isinstance(default, list) else default) == (
            list(f.default) if isinstance(f.default, tuple) else f.default
        ), f.name
        if help_of(f.name):
            assert actions[f.name].help == help_of(f.name), f.name


def test_parsed_defaults_make_the_default_options():
    args = train.get_parser().parse_args(["x.npz", "-o", "m.keras"])
    assert options_from_args(TrainOptions, args) == DEFAULTS
    args = filters2meme.get_parser().parse_args(["x.npz", "-m", "m.keras", "--out-dir", "o"])
    assert options_from_args(MotifOptions, args) == MotifOptions(groups=list(MotifOptions().groups))


def test_learning_rate_and_validation_by_architecture():
    assert TrainOptions().rate == learning_rate_for("mrcnn") == 1e-3
    assert TrainOptions(arch="kmer-gbr").rate == 0.1
    assert TrainOptions(arch="kmer-gbr", learning_rate=0.2).rate == 0.2
    assert TrainOptions().holdout_fraction() == 0.1
    assert TrainOptions(val_chroms=["chr22"]).holdout_fraction() == 0.0
    assert TrainOptions(val_fraction=0.3, validation="v.npz").holdout_fraction() == 0.3


def test_a_library_caller_gets_the_commands_refusals():
    with pytest.raises(UsageError, match="arch 'cnn'"):
        TrainOptions(arch="cnn")
    with pytest.raises(UsageError, match="strategy"):
        TrainOptions(strategy="horovod")
    with pytest.raises(UsageError, match="unknown group"):
        MotifOptions(groups=("hyper", "high"))
    with pytest.raises(UsageError, match="method"):
        MotifOptions(method="meme")
