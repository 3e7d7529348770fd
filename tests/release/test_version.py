"""One version number everywhere."""

import re

from helpers import ROOT

from mrcnn_tools import __version__
from mrcnn_tools.cli.encode import main


def test_version_in_setup_and_packaging():
    setup = (ROOT / "setup.py").read_text()
    assert "mrcnn_tools/__init__.py" in setup  # setup.py reads the version from the package
    # both files are part of the project: a missing one is a failure, never a pass
    m = re.search(r'<token name="@TOOL_VERSION@">([^<]+)</token>', (ROOT / "galaxy" / "macros.xml").read_text())
    assert m and m[1] == __version__
    m = re.search(r'set version = "([^"]+)"', (ROOT / "recipe" / "meta.yaml").read_text())
    assert m and m[1] == __version__


def test_cli_version(capsys):

    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out
