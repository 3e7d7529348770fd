"""Galaxy wrappers: every file a tool test names is in test-data/; tokens and versions agree."""

import re
import xml.etree.ElementTree as ET

import pytest

from mrcnn_tools import __version__

from conftest import ROOT, TEST_DATA

TOOLS = sorted((ROOT / "galaxy").glob("mrcnn_*.xml"))


def test_five_tools():
    assert [t.stem for t in TOOLS] == ["mrcnn_encode", "mrcnn_eval", "mrcnn_filters2meme", "mrcnn_predict",
                                       "mrcnn_train"]


@pytest.mark.parametrize("tool", TOOLS, ids=lambda p: p.stem)
def test_test_files_exist(tool):
    root = ET.parse(tool).getroot()
    named = set()
    for test in root.iter("test"):
        for param in test.iter("param"):
            value = param.get("value", "")
            for name in value.split(","):
                if re.search(r"\.(fa|cov|bed|bedMethyl|npz|keras|skops|joblib|tsv|meme)$", name):
                    named.add(name)
    assert named, f"{tool.name}: tests name no input file"
    missing = [n for n in named if not (TEST_DATA / n).exists()]
    assert not missing, f"{tool.name}: missing in test-data/: {missing}"


@pytest.mark.parametrize("tool", TOOLS, ids=lambda p: p.stem)
def test_wrapper_conventions(tool):
    text = tool.read_text()
    root = ET.fromstring(text)
    assert root.get("version") == "@TOOL_VERSION@+galaxy@VERSION_SUFFIX@"
    assert root.find("command").get("detect_errors") == "exit_code"
    assert len(root.find("tests").findall("test")) >= 2
    assert root.find("help") is not None and "Example" in root.find("help").text


def test_macros_version():
    macros = (ROOT / "galaxy" / "macros.xml").read_text()
    assert f'<token name="@TOOL_VERSION@">{__version__}</token>' in macros
    assert "10.1186/s12864-019-5488-5" in macros
