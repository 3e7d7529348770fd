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
                if re.search(r"\.(fa|cov|bed|bedMethyl|npz|keras|skops|joblib|tsv|meme|gz)$", name):
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


def test_test_data_table_points_at_existing_files():
    conf = ROOT / "galaxy" / "tool_data_table_conf.xml.test"
    here = str(conf.parent)
    tables = ET.parse(conf).getroot().findall("table")
    assert [t.get("name") for t in tables] == ["fasta_indexes"]
    loc = tables[0].find("file").get("path").replace("${__HERE__}", here)
    rows = [ln.split("\t") for ln in open(loc).read().splitlines() if ln and not ln.startswith("#")]
    assert rows and all(len(r) == 4 for r in rows)
    loc_dir = str(conf.parent.joinpath(loc).resolve().parent)
    for value, dbkey, name, path in rows:
        assert (TEST_DATA / "fasta_indexes.loc").samefile(loc)
        assert ROOT.joinpath(path.replace("${__HERE__}", loc_dir)).is_file(), path
    # every cached genome a tool test names is in the table
    values = {r[0] for r in rows}
    for tool in TOOLS:
        for param in ET.parse(tool).getroot().iter("param"):
            if param.get("name") == "fasta" and param.get("value") and "." not in param.get("value"):
                assert param.get("value") in values


def test_data_table_genomes_get_their_index_files_linked():
    token = (ROOT / "galaxy" / "macros.xml").read_text().split('<token name="@LINK_GENOME@">')[1].split("</token>")[0]
    cached = token.split("#elif str($reference.fasta.fields.path)")[1]
    for ext in (".fai", ".gzi"):
        # both branches (bgzip and plain data-table FASTA) link the index when the data manager made one
        assert cached.count(f"ln -s '${{reference.fasta.fields.path}}{ext}' '${{genome}}{ext}'") == 2


def test_history_fasta_gz_is_unpacked_not_passed_on():
    token = (ROOT / "galaxy" / "macros.xml").read_text().split('<token name="@LINK_GENOME@">')[1].split("</token>")[0]
    history_gz = token.split("#elif")[0]
    assert "gzip -dc '$reference.fasta' > genome.fa" in history_gz
    assert "genome.fa.gz" not in history_gz
