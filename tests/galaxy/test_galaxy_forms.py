"""The Galaxy forms offer what they should: each data input the formats its readers take, checked against the types
Galaxy's upload gives real files (galaxy/upload_types.json, measured on a live Galaxy 26.1 by make
galaxy-browser-test), and the workflow stores every tool's full state (it runs from the run form as imported)."""

import json
import xml.etree.ElementTree as ET

import pytest
from helpers import ROOT

GALAXY = ROOT / "galaxy"
TOOLS = {p.stem: p for p in sorted(GALAXY.glob("mrcnn_*.xml"))}
UPLOADS = json.loads((GALAXY / "upload_types.json").read_text())["uploads"]

# the datatype hierarchy of Galaxy 26.1 for the types above (galaxy.datatypes: BedGraph and Bed are Interval, Interval,
# GenomeGraphs and TSV are Tabular, Tabular, Json and Fasta are Text; Npz and CompressedZipArchive are Binary)
PARENT = {
    "bed": "interval",
    "bedgraph": "interval",
    "interval": "tabular",
    "gg": "tabular",
    "tsv": "tabular",
    "tabular": "txt",
    "json": "txt",
    "fasta": "txt",
    "txt": "data",
    "npz": "binary",
    "zip": "binary",
    "binary": "data",
    "tabular.gz": "binary",
    "fasta.gz": "binary",
    "vcf": "tabular",
    "vcf_bgzip": "binary",
}


def _accepts(formats, ext):
    while ext:
        if ext in formats:
            return True
        ext = PARENT.get(ext)
    return False


def _macros(tool):
    """The xml macros of macros.xml and of the tool's own <macros>."""
    found = ET.parse(GALAXY / "macros.xml").getroot().findall("xml")
    found += ET.parse(TOOLS[tool]).getroot().findall("macros/xml")
    return {m.get("name"): m for m in found}


def _expand(elem, macros):
    """The children of *elem* with <expand macro=...> replaced by the macro's children (recursively)."""
    for child in elem:
        if child.tag == "expand":
            yield from _expand(macros[child.get("macro")], macros)
        else:
            yield child


def _name(param):
    return param.get("name") or param.get("argument", "").lstrip("-").replace("-", "_")


def data_inputs(tool):
    """{path as 'cond|param' (case values left out): set of formats} of every data input of *tool*."""
    macros = _macros(tool)
    out = {}

    def walk(elem, prefix):
        for child in _expand(elem, macros):
            if child.tag == "param" and child.get("type") == "data":
                out.setdefault(prefix + _name(child), set()).update(child.get("format").split(","))
            elif child.tag == "conditional":
                for when in child.findall("when"):
                    walk(when, prefix + child.get("name") + "|")
            elif child.tag in ("section", "repeat"):
                walk(child, prefix + child.get("name") + "|")

    walk(ET.parse(TOOLS[tool]).getroot().find("inputs"), "")
    return out


def test_calls_take_the_tab_separated_types_and_no_text():
    calls = data_inputs("mrcnn_encode")["input|calls"]
    assert calls == {"tabular", "tabular.gz", "interval", "bed", "bedgraph", "tsv"}
    assert not _accepts(calls, "json") and not _accepts(calls, "txt")


def test_predict_model_takes_keras_and_skops_as_galaxy_types_them():
    assert data_inputs("mrcnn_predict")["predictor|model"] == {"zip", "npz"}
    # filters2meme reads convolution filters: k-mer GBR (.skops) models have none and are refused, so not offered
    assert data_inputs("mrcnn_filters2meme")["model"] == {"zip"}


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_no_data_input_takes_any_text_but_the_meme_motifs(tool):
    for path, formats in data_inputs(tool).items():
        if (tool, path) == ("mrcnn_filters2meme", "db|motif_db"):
            assert formats == {"txt"}  # MEME motif files have no Galaxy datatype of their own
            continue
        assert not formats & {"txt", "data", "json", "binary"}, (tool, path, formats)


@pytest.mark.parametrize("upload", UPLOADS, ids=lambda u: u["name"])
def test_each_upload_offered_exactly_where_upload_types_says(upload):
    """Direct offers follow from the formats and Galaxy's type hierarchy; the same list is checked on a live Galaxy
    (with its implicit conversions, the '... as EXT' entries) by make galaxy-browser-test."""
    want = {o for o in upload["offered"] if " as " not in o}
    got = {
        f"{tool} {path}"
        for tool in TOOLS
        for path, formats in data_inputs(tool).items()
        if _accepts(formats, upload["type"])
    }
    assert got == want


def test_upload_types_name_existing_files_and_inputs():
    inputs = {f"{tool} {path}" for tool in TOOLS for path in data_inputs(tool)}
    for upload in UPLOADS:
        assert "paste" in upload or (ROOT / upload["path"]).is_file(), upload["name"]
        for offer in upload["offered"]:
            assert offer.split(" as ")[0] in inputs, offer
    types = {u["name"]: u["type"] for u in UPLOADS}
    assert types["model_small.keras"] == "zip" and types["model_small_gbr.skops"] == "npz"


def _top_level_names(tool):
    macros = _macros(tool)
    names = set()
    for child in _expand(ET.parse(TOOLS[tool]).getroot().find("inputs"), macros):
        if child.tag in ("param", "conditional", "section", "repeat"):
            names.add(_name(child))
    return names


WORKFLOWS = sorted((GALAXY / "workflows").glob("*.ga"))


def _missing_state(elem, state, macros, prefix=""):
    """Inputs of *elem* (a tool's inputs or a conditional's case) that *state* does not store, case by case."""
    missing = []
    for child in _expand(elem, macros):
        if child.tag not in ("param", "conditional", "section", "repeat"):
            continue
        name = _name(child)
        if name not in state:
            missing.append(prefix + name)
        elif child.tag == "conditional" and isinstance(state[name], dict):
            test = child.find("param")
            case = state[name].get(_name(test))
            (when,) = [w for w in child.findall("when") if w.get("value") == case]
            missing += _missing_state(when, state[name], macros, f"{prefix}{name}|")
    return missing


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_steps_store_every_tool_input(workflow):
    """A tool step missing an input makes Galaxy ask to review 'tools which have changed' before the run form works,
    and the API refuse the run without allow_tool_state_corrections: checked down into the chosen conditional cases."""
    wf = json.loads(workflow.read_text())
    for step in wf["steps"].values():
        if step["type"] != "tool":
            continue
        state = json.loads(step["tool_state"])
        root = ET.parse(TOOLS[step["tool_id"]]).getroot().find("inputs")
        missing = _missing_state(root, state, _macros(step["tool_id"]))
        assert not missing, (workflow.name, step["label"], missing)


def test_state_check_catches_a_missing_input_inside_a_case():
    wf = json.loads((GALAXY / "workflows" / "mrcnn-pipeline.ga").read_text())
    predict = next(s for s in wf["steps"].values() if s.get("tool_id") == "mrcnn_predict")
    state = json.loads(predict["tool_state"])
    del state["input"]["impute_missing"]
    root = ET.parse(TOOLS["mrcnn_predict"]).getroot().find("inputs")
    assert _missing_state(root, state, _macros("mrcnn_predict")) == ["input|impute_missing"]


def test_encode_takes_a_list_collection_of_the_calls_types():
    """Several samples: a list collection of the same types as one calls file, in a case of its own."""
    root = ET.parse(TOOLS["mrcnn_encode"]).getroot()
    cond = root.find("inputs/conditional[@name='input']")
    (coll,) = cond.findall("when[@value='samples']/param[@type='data_collection']")
    assert coll.get("name") == "calls" and coll.get("collection_type") == "list"
    assert set(coll.get("format").split(",")) == data_inputs("mrcnn_encode")["input|calls"]
    assert [w.get("value") for w in cond.findall("when")] == ["calls", "samples", "all"]
    # the genome can be left out (sites as given, no windows)
    sources = [o.get("value") for o in root.findall("inputs/conditional[@name='reference']/param/option")]
    assert sources == ["cached", "history", "none"]


def test_predict_takes_vcf_and_bgzip_vcf_in_its_variant_mode():
    assert data_inputs("mrcnn_predict")["input|variants"] == {"vcf", "vcf_bgzip"}
    assert not _accepts({"vcf", "vcf_bgzip"}, "tabular")  # a calls table is never offered as variants
