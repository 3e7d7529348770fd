"""Man pages (argparse-manpage) exist for every command and document every option of its parser."""

import importlib

import pytest

from conftest import ROOT

COMMANDS = {"encode": "encode", "train": "train", "predict": "predict", "eval": "evaluate",
            "filters2meme": "filters2meme"}


@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_man_page_documents_every_option(cmd):
    page = (ROOT / "man" / f"mrcnn-{cmd}.1").read_text()
    assert page.startswith(".TH") and f"mrcnn\\-{cmd}".upper() in page.upper()
    parser = importlib.import_module(f"mrcnn_tools.cli.{COMMANDS[cmd]}").get_parser()
    for action in parser._actions:
        for opt in action.option_strings:
            if opt.startswith("--") and opt != "--help":  # argparse-manpage leaves -h/--help out
                assert opt.replace("-", "\\-") in page or opt in page, f"{opt} missing from mrcnn-{cmd}.1 (run make man)"
