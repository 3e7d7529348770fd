"""PredictOptions: the one home of each prediction default, read by mrcnn-predict's parser and by the library."""

import inspect
from dataclasses import fields

import pytest

from mrcnn_tools.cli.predict import get_parser
from mrcnn_tools.errors import UsageError
from mrcnn_tools.prediction.options import DEFAULTS, PredictOptions, option_help
from mrcnn_tools.prediction.predict import predict_to_files

# option of the command -> field of PredictOptions
OPTIONS = {
    "--output-format": "output_format",
    "--chrom-names": "chrom_names",
    "--shard": "shard",
    "--keep-strands": "keep_strands",
    "--cache-dir": "cache_dir",
    "--chunk-size": "chunk_size",
    "--batch-size": "batch_size",
    "--threads": "threads",
}


def _actions():
    return {s: a for a in get_parser()._actions for s in a.option_strings}


def test_defaults():
    assert (DEFAULTS.batch_size, DEFAULTS.chunk_size) == (2048, 65536)
    assert (DEFAULTS.output_format, DEFAULTS.chrom_names) == ("tsv", "genome")
    assert DEFAULTS.shard is None and DEFAULTS.selection is None and not DEFAULTS.keep_strands


@pytest.mark.parametrize("option", list(OPTIONS))
def test_parser_defaults_come_from_the_options(option):
    action = _actions()[option]
    assert action.default == getattr(DEFAULTS, OPTIONS[option])


@pytest.mark.parametrize("option", ["--output-format", "--chrom-names", "--shard", "--chunk-size", "--cache-dir"])
def test_parser_help_comes_from_the_options(option):
    assert _actions()[option].help == option_help(OPTIONS[option]) != ""


def test_every_option_of_the_command_is_a_field():
    names = {f.name for f in fields(PredictOptions)}
    assert set(OPTIONS.values()) <= names


def test_chrom_names_choices():
    assert _actions()["--chrom-names"].choices == ("genome", "ucsc", "ensembl")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"output_format": "bed"}, "output format"),
        ({"chrom_names": "refseq"}, "chromosome names"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"batch_size": -1}, "batch_size"),
    ],
)
def test_library_callers_get_the_same_checks(kwargs, match):
    with pytest.raises(UsageError, match=match):
        PredictOptions(**kwargs)


def test_predict_to_files_takes_options_not_a_keyword_list():
    params = inspect.signature(predict_to_files).parameters
    assert "options" in params
    assert not {"chunk_size", "batch_size", "output_format", "chrom_names", "shard"} & set(params)
