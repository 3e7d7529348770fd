"""Man pages (man/build.py): current, whatis-able, every option with its default, examples as written, exit
status, no placeholder URL."""

import importlib
import importlib.util
import re
import shutil
import subprocess

import pytest
from helpers import ROOT

import mrcnn_tools
from mrcnn_tools.cli.common import help_with_default

COMMANDS = {
    "encode": "encode",
    "train": "train",
    "predict": "predict",
    "eval": "evaluate",
    "filters2meme": "filters2meme",
}


def _builder():
    spec = importlib.util.spec_from_file_location("man_build", ROOT / "man" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page(cmd):
    return (ROOT / "man" / f"mrcnn-{cmd}.1").read_text()


def _unroff(text):
    return text.replace("\\-", "-").replace("\\e", "\\").replace("\\&", "")


@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_man_page_is_current(cmd):
    built = _builder().render(f"mrcnn-{cmd}", COMMANDS[cmd], mrcnn_tools.__version__)
    assert _page(cmd) == built, f"man/mrcnn-{cmd}.1 is out of date: run make man"


@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_man_page_documents_every_option_with_its_default(cmd):
    page = _page(cmd)
    text = " ".join(_unroff(page).split())
    assert page.startswith(".TH") and f"mrcnn\\-{cmd}".upper() in page.upper()
    parser = importlib.import_module(f"mrcnn_tools.cli.{COMMANDS[cmd]}").get_parser()
    for action in parser._actions:
        for opt in action.option_strings:
            assert opt in text, f"{opt} missing from mrcnn-{cmd}.1 (run make man)"
        shown = help_with_default(action)
        if shown != (action.help or "") and "%(" not in shown:
            default = shown[len(action.help or "") :].strip()  # "(default: X)"
            assert default in text, f"{action.dest}: {default} missing from mrcnn-{cmd}.1"
    assert "(default: None)" not in text and "(default: False)" not in text


@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_man_page_name_exit_status_examples_no_placeholder(cmd):
    page = _page(cmd)
    lines = page.splitlines()
    name = lines[lines.index(".SH NAME") + 1]
    assert re.fullmatch(rf"mrcnn\\-{cmd} \\- \S.{{10,}}", name), name
    assert ".SH EXIT STATUS" in lines
    status = page.split(".SH EXIT STATUS", 1)[1].split(".SH ", 1)[0]
    assert re.findall(r"\\fB(\d+)\\fR", status) == ["0", "1", "2", "130", "143"]
    assert "github.com" not in page and ".UR" not in page and "example.org" not in page
    parser = importlib.import_module(f"mrcnn_tools.cli.{COMMANDS[cmd]}").get_parser()
    examples = [ln.strip() for ln in parser.description.split("example", 1)[1].split("\n")[1:] if ln.strip()]
    assert examples, "the command's description has examples"
    block = page.split(".SH EXAMPLES\n.nf\n", 1)[1].split("\n.fi", 1)[0].splitlines()
    assert [_unroff(ln) for ln in block if not ln.startswith(".")] == examples  # one line each, not reflowed


@pytest.mark.skipif(not shutil.which("lexgrog"), reason="man-db's lexgrog is not installed")
@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_whatis_finds_the_description(cmd):
    p = subprocess.run(["lexgrog", str(ROOT / "man" / f"mrcnn-{cmd}.1")], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f'"mrcnn-{cmd} - ' in p.stdout
