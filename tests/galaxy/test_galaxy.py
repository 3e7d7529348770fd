"""Galaxy wrappers: every file a tool test names is in test-data/; tokens and versions agree."""

import gzip
import importlib
import json
import re
import uuid
import xml.etree.ElementTree as ET

import pytest
import yaml
from helpers import ROOT, TEST_DATA

from mrcnn_tools import __version__
from mrcnn_tools.data.samples import read_sample_sheet

TOOLS = sorted((ROOT / "galaxy").glob("mrcnn_*.xml"))


def test_five_tools():
    assert [t.stem for t in TOOLS] == [
        "mrcnn_encode",
        "mrcnn_eval",
        "mrcnn_filters2meme",
        "mrcnn_predict",
        "mrcnn_train",
    ]


@pytest.mark.parametrize("tool", TOOLS, ids=lambda p: p.stem)
def test_test_files_exist(tool):
    root = ET.parse(tool).getroot()
    named = set()
    for test in root.iter("test"):
        for param in [*test.iter("param"), *test.iter("element")]:  # collection elements name files too
            value = param.get("value", "")
            for name in value.split(","):
                if re.search(r"\.(fa|cov|bed|bedMethyl|npz|keras|skops|joblib|tsv|meme|gz|vcf)$", name):
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


def _command_without_directives(tool):
    """The command of a tool with its macros expanded by hand (tokens only), Cheetah directives dropped."""
    macros = (ROOT / "galaxy" / "macros.xml").read_text()
    text = ET.parse(tool).getroot().find("command").text
    for name, body in re.findall(r'<token name="(@\w+@)"><!\[CDATA\[(.*?)\]\]></token>', macros, re.S):
        text = text.replace(name, body)
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]


@pytest.mark.parametrize("tool", TOOLS, ids=lambda p: p.stem)
def test_every_variable_in_a_command_is_quoted(tool):
    for line in _command_without_directives(tool):
        # what stays outside '...' and "..." may hold no $variable (an escaped \$ is the shell's)
        outside = re.sub(r"'[^']*'|\"[^\"]*\"", "", line).replace("\\$", "")
        assert "$" not in outside, f"{tool.name}: unquoted variable in: {line}"


def test_quote_check_catches_an_unquoted_variable(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<tool><command><![CDATA[\nmrcnn-eval --cutoff $cutoff\n]]></command></tool>")
    line = _command_without_directives(bad)[0]
    assert "$" in re.sub(r"'[^']*'|\"[^\"]*\"", "", line)


@pytest.mark.parametrize("tool", TOOLS, ids=lambda p: p.stem)
def test_xref_edam_creator_and_profile(tool):
    macros = ET.parse(ROOT / "galaxy" / "macros.xml").getroot()
    profile = macros.find("token[@name='@PROFILE@']").text
    assert tuple(int(x) for x in profile.split(".")) >= (26, 0)
    # every tool expands the xrefs macro; it names the bio.tools entry once there is one (recipe/README.md step 6)
    xrefs = macros.find("xml[@name='xrefs']")
    assert xrefs is not None
    assert all((x.get("type"), x.text) == ("bio.tools", "mrcnn-tools") for x in xrefs.iter("xref"))
    root = ET.parse(tool).getroot()
    assert root.get("profile") == "@PROFILE@"
    expands = [e.get("macro") for e in root.findall("expand")]
    assert {"xrefs", "creator", "edam_topics", "requirements", "citations"} <= set(expands)
    assert root.find("edam_operations/edam_operation").text.startswith("operation_")


WORKFLOWS = ROOT / "galaxy" / "workflows"


def _workflow():

    return json.loads((WORKFLOWS / "mrcnn-pipeline.ga").read_text())


def test_workflow_sources_with_iwc_files():
    sources = [p.name for p in WORKFLOWS.iterdir() if p.suffix in (".ga", ".yml", ".yaml") and p.name[0] != "."]
    assert sorted(sources) == [
        "mrcnn-cohort-tests.yml",
        "mrcnn-cohort.ga",
        "mrcnn-pipeline-tests.yml",
        "mrcnn-pipeline.ga",
    ]
    assert all((WORKFLOWS / name).is_file() for name in (".dockstore.yml", "CHANGELOG.md", "README.md"))
    assert "gxwf" not in (ROOT / "galaxy" / "run-tests.sh").read_text()


def test_run_tests_runs_every_workflow_that_has_a_test():
    script = (ROOT / "galaxy" / "run-tests.sh").read_text()
    assert 'for wf in "$ROOT"/galaxy/workflows/*.ga; do' in script and '[ -f "${wf%.ga}-tests.yml" ]' in script


@pytest.mark.parametrize("name", ["mrcnn-pipeline", "mrcnn-cohort"])
def test_workflow_metadata_matches_changelog_and_dockstore(name):
    wf = json.loads((WORKFLOWS / f"{name}.ga").read_text())
    assert wf["license"] == "MIT" and wf["creator"] and wf["creator"][0]["class"] in ("Person", "Organization")
    # one CHANGELOG for the folder: every workflow carries its latest release (planemo workflow_lint --iwc)
    first = next(ln for ln in (WORKFLOWS / "CHANGELOG.md").read_text().splitlines() if ln.startswith("## ["))
    assert first.startswith(f"## [{wf['release']}]")
    dock = yaml.safe_load((WORKFLOWS / ".dockstore.yml").read_text())
    entries = {e["primaryDescriptorPath"]: e for e in dock["workflows"]}
    entry = entries[f"/{name}.ga"]
    assert entry["testParameterFiles"] == [f"/{name}-tests.yml"] and entry["authors"]
    assert len({e["name"] for e in dock["workflows"]}) == len(dock["workflows"])


def test_workflow_steps_annotated_epochs_a_parameter_outputs_labelled():

    steps = _workflow()["steps"].values()
    assert all(s["annotation"].strip() and s["label"] for s in steps)
    by_label = {s["label"]: s for s in steps}
    epochs = by_label["Epochs"]
    assert epochs["type"] == "parameter_input"
    assert json.loads(epochs["tool_state"])["parameter_type"] == "integer"
    train = next(s for s in steps if s.get("tool_id") == "mrcnn_train")
    assert train["input_connections"]["epochs"]["id"] == epochs["id"]
    assert json.loads(train["tool_state"])["epochs"] == {"__class__": "ConnectedValue"}
    outputs = {o["label"]: (s["tool_id"], o["output_name"]) for s in steps for o in s["workflow_outputs"]}
    assert outputs["model"] == ("mrcnn_train", "model")
    assert outputs["plots"] == ("mrcnn_eval", "plots")
    assert outputs["predictions"] == ("mrcnn_predict", "output")
    # every connection points at an existing step
    ids = {s["id"] for s in steps}
    assert all(c["id"] in ids for s in steps for c in s["input_connections"].values())


def test_workflow_test_sets_every_input_and_one_epoch():

    (case,) = yaml.safe_load((WORKFLOWS / "mrcnn-pipeline-tests.yml").read_text())
    inputs = {s["label"] for s in _workflow()["steps"].values() if s["type"] in ("data_input", "parameter_input")}
    assert set(case["job"]) == inputs
    assert case["job"]["Epochs"] == 1
    for value in case["job"].values():
        if isinstance(value, dict):
            assert (WORKFLOWS / value["path"]).is_file()
    labelled = {o["label"] for s in _workflow()["steps"].values() for o in s["workflow_outputs"]}
    assert set(case["outputs"]) <= labelled and {"model", "plots"} <= set(case["outputs"])


def test_root_dockstore_points_at_the_workflow_directory_entry():
    here = {e["name"]: e for e in yaml.safe_load((WORKFLOWS / ".dockstore.yml").read_text())["workflows"]}
    prefix = "/galaxy/workflows"
    for root in yaml.safe_load((ROOT / ".dockstore.yml").read_text())["workflows"]:
        entry = here[root["name"]]
        assert root["primaryDescriptorPath"] == prefix + entry["primaryDescriptorPath"]
        assert root["testParameterFiles"] == [prefix + p for p in entry["testParameterFiles"]]
        assert (ROOT / root["primaryDescriptorPath"][1:]).is_file()
        assert {k: v for k, v in root.items() if "Path" not in k and "Files" not in k} == {
            k: v for k, v in entry.items() if "Path" not in k and "Files" not in k
        }


# --- imputation: the wrappers offer what the parsers accept, and the baseline test asserts a hand-made value ----


def _choices(module, option):

    parser = importlib.import_module(f"mrcnn_tools.cli.{module}").get_parser()
    (action,) = [a for a in parser._actions if option in a.option_strings]
    return set(action.choices)


def _options(tool, param_name):
    root = ET.parse(ROOT / "galaxy" / tool).getroot()
    named = [
        p
        for p in root.find("inputs").iter("param")
        if (p.get("name") or p.get("argument", "").lstrip("-").replace("-", "_")) == param_name
    ]
    (param,) = named
    return [o.get("value") for o in param.findall("option")]


def test_train_offers_every_architecture_and_context_dropout_only_for_context_models():
    assert set(_options("mrcnn_train.xml", "arch")) == _choices("train", "--arch")
    cond = ET.parse(ROOT / "galaxy" / "mrcnn_train.xml").getroot().find("inputs/conditional[@name='architecture']")
    with_dropout = {
        w.get("value") for w in cond.findall("when") if w.find("expand[@macro='context_dropout']") is not None
    }
    assert with_dropout == {"mrcnn-context", "context-only"}
    command = ET.parse(ROOT / "galaxy" / "mrcnn_train.xml").getroot().find("command").text
    assert "#if $architecture.arch in ('mrcnn-context', 'context-only'):\n    --context-dropout" in command


def test_predict_offers_a_model_or_each_baseline():
    assert _options("mrcnn_predict.xml", "source") == ["model"] + sorted(_choices("predict", "--baseline"))
    command = ET.parse(ROOT / "galaxy" / "mrcnn_predict.xml").getroot().find("command").text
    assert "-m '" not in command and "--model '$predictor.model'" in command


def test_baseline_test_line_is_the_neighbour_average_of_the_cov_rows():
    """The predict tool test's first baseline line, recomputed naively from the Bismark .cov (no mrcnn_tools)."""
    rows = []
    for line in (TEST_DATA / "IMR90_r1_chr22_20-21M_GRCh37.bismark.cov").read_text().splitlines():
        chrom, start, _end, _pct, m, u = line.split("\t")
        if 20610001 <= int(start) <= 20700000 and int(m) + int(u) >= 5:  # the test dataset's region, min coverage
            rows.append((int(start), int(m), int(u)))
    rows.sort()
    assert len(rows) == 87  # the has_n_lines of the context tests: 87 sites and the header
    pos, m, u = rows[0]
    k = 2
    right = rows[1 : 1 + k]  # no observed CpG on the left of the first site inside the region
    weights = [1 / (1 + (p - pos)) for p, _, _ in right]
    level = sum(w * mm / (mm + uu) for w, (_, mm, uu) in zip(weights, right)) / sum(weights)
    expected = f"22\t{pos - 1}\t{pos}\t.\t{round(level, 6):g}\t{m / (m + u)!r}\t{m + u}\t0"
    tool = (ROOT / "galaxy" / "mrcnn_predict.xml").read_text().replace("&#009;", "\t")
    assert f'<has_line line="{expected}"/>' in tool
    assert tool.count('<has_n_lines n="88" delta="0"/>') >= 2  # the context tests (and the sites-only one)


# --- several samples (issue 25) and variant effects (issue 26) -----------------------------------------------------


@pytest.mark.parametrize("tool", TOOLS, ids=lambda p: p.stem)
def test_every_param_has_an_argument_or_a_name(tool):
    for param in ET.parse(tool).getroot().find("inputs").iter("param"):
        assert param.get("argument") or param.get("name"), (tool.name, param.attrib)


def _sheet_line(identifier):
    """The sample name the encode wrapper's configfile writes for a collection element (its Cheetah, in Python)."""
    sample = identifier.replace("\t", " ").replace("\r", " ").replace("\n", " ").strip()
    if sample.startswith("#"):
        sample = "_" + sample[1:]
    return sample


def test_encode_collection_becomes_a_sample_sheet_that_keeps_the_names(tmp_path):
    """Element identifiers with commas, spaces, a tab or a leading # reach the dataset as names: the wrapper writes
    them into a --calls-list sheet (no comma-separated --sample-names), read here by the library's own reader."""
    root = ET.parse(ROOT / "galaxy" / "mrcnn_encode.xml").getroot()
    command = root.find("command").text
    assert "--calls-list '$sample_sheet'" in command and "--min-samples '$input.min_samples'" in command
    assert "--sample-names" not in command
    sheet = root.find("configfiles/configfile[@name='sample_sheet']").text
    assert "#set $sample = str($el.element_identifier).replace('\\t', ' ').replace('\\r', ' ')" in sheet
    assert "${sample}\t${el}" in sheet and sheet.splitlines()[1] == "sample\tpath"
    identifiers = ["T cells, blood", "brain", "#3 lung", "tab\there"]
    lines = ["sample\tpath"]
    for k, ident in enumerate(identifiers):
        (tmp_path / f"d{k}.dat").write_text("chr1\t10\t10\t100\t1\t0\n")
        lines.append(f"{_sheet_line(ident)}\t{tmp_path / f'd{k}.dat'}")
    (tmp_path / "sheet").write_text("\n".join(lines) + "\n")
    samples = read_sample_sheet(str(tmp_path / "sheet"))
    assert [s.name for s in samples] == ["T cells, blood", "brain", "_3 lung", "tab here"]


def _cov_levels(name, lo, hi, min_cov=5):
    out = {}
    with gzip.open(TEST_DATA / "cohort" / f"{name}.hg38_chr1.cov.gz", "rt") as fh:
        for line in fh:
            chrom, start, _end, _pct, m, u = line.split("\t")
            if lo <= int(start) <= hi and int(m) + int(u) >= min_cov:
                out[int(start)] = (int(m) / (int(m) + int(u)), int(m) + int(u))
    return out


def test_samples_baseline_lines_of_the_predict_test_from_the_cov_files():
    """The predict tool test's hand-made lines: the other tissues' mean at the first site of cohort_small.npz."""
    tissues = {"brain": "brain", "lung": "lung", "T cells, blood": "T_cells"}
    levels = {name: _cov_levels(file, 0, 10**9) for name, file in tissues.items()}
    seen = {}
    for obs in levels.values():
        for pos in obs:
            seen[pos] = seen.get(pos, 0) + 1
    sites = sorted(p for p, n in seen.items() if n >= 2)  # --min-samples 2
    assert len(sites) == 149 and sum(seen[p] for p in sites) == 368
    first = sites[0]
    tool = (ROOT / "galaxy" / "mrcnn_predict.xml").read_text().replace("&#009;", "\t")
    for name, obs in levels.items():
        others = [lv[first][0] for other, lv in levels.items() if other != name and first in lv]
        y, cov = obs.get(first, (None, 0))
        y_text = "NA" if y is None else f"{round(y, 6):g}" if y not in (0, 1) else f"{y:.1f}"
        pred = sum(others) / len(others)
        pred_text = f"{round(pred, 6):g}" if pred not in (0, 1) else f"{pred:.1f}"
        line = f"chr1\t{first - 1}\t{first}\t.\t{name}\t{pred_text}\t{y_text}\t{cov}"
        assert f'<has_line line="{line}"/>' in tool, line
    assert '<has_n_lines n="448"/>' in tool and f'n="{149 * 3 - 368}"' in tool


def test_eval_sample_metrics_of_the_eval_test_from_the_tsv():
    """n and RMSE per sample and pooled, recomputed naively from pred_cohort_small.tsv, as the eval test asserts."""
    rows = [ln.split("\t") for ln in (TEST_DATA / "pred_cohort_small.tsv").read_text().splitlines()[1:]]
    groups = {"pooled": rows}
    for r in rows:
        groups.setdefault(r[4], []).append(r)
    tool = (ROOT / "galaxy" / "mrcnn_eval.xml").read_text()
    for sample, rs in groups.items():
        err = [(float(r[5]) - float(r[6])) ** 2 for r in rs]
        rmse = (sum(err) / len(err)) ** 0.5
        digits = str(rmse)[:7].replace(".", r"\.")
        expr = rf"samples-mean\t{sample}\tall\t{len(rs)}\t{digits}\d+\t"
        assert expr in tool, (sample, len(rs), rmse)


def _slice():
    text = (TEST_DATA / "22_20-21M.fa").read_text().splitlines()
    assert text[0] == ">22:20000001-21000000"
    return "".join(text[1:]), 20_000_000  # 0-based position of its first base


def test_variant_rows_of_the_predict_test_are_the_cpgs_within_the_window():
    """Each SNV of variants_chr22_small.vcf has the FASTA's CpGs within 200 bp of it (the flank of model_small.keras),
    plus a CpG its alternative allele creates or minus none; its REF is the genome's; the mismatch file's is not."""
    seq, off = _slice()
    cpgs = [i + off for i in range(len(seq) - 1) if seq[i : i + 2] == "CG"]
    records = [
        ln.split("\t") for ln in (TEST_DATA / "variants_chr22_small.vcf").read_text().splitlines() if ln[0] != "#"
    ]
    counts = {}
    for chrom, pos, vid, ref, alt, *_ in records:
        q = int(pos) - 1
        assert seq[q - off : q - off + len(ref)] == ref, vid
        near = [c for c in cpgs if abs(q - c) <= 200]
        alleles = alt.split(",")
        gained = 0
        for a in alleles:
            if len(a) == len(ref) == 1:  # SNVs: a CG made by the alt base with its neighbours
                alt_seq = seq[q - off - 1] + a + seq[q - off + 1]
                gained += ("CG" in alt_seq) and "CG" not in seq[q - off - 1 : q - off + 2]
        counts[vid] = (len(near) * len(alleles), gained)
    assert counts["snv_gain"] == (17, 1) and counts["snv_cpg_loss"][0] == 17
    assert counts["multi_allelic"] == (32, 0)
    assert seq[20610547 - off : 20610549 - off] == "CG"  # the C of this CpG is the lost one
    tool = (ROOT / "galaxy" / "mrcnn_predict.xml").read_text()
    assert '<has_text text="&#009;snv_gain&#009;" n="18"/>' in tool
    assert '<has_text text="&#009;snv_cpg_loss&#009;" n="17"/>' in tool
    assert '<has_text text="&#009;LowQual&#009;" n="32"/>' in tool
    bad = [ln.split("\t") for ln in gzip.open(TEST_DATA / "variants_chr22_ref_mismatch.vcf.gz", "rt") if ln[0] != "#"]
    assert bad[0][:5] == ["chr22", "20610534", "ref_not_genome", "G", "A"] and seq[20610533 - off] == "A"


def test_cohort_workflow_encodes_a_collection_without_a_genome_and_trains_one_model():
    wf = json.loads((WORKFLOWS / "mrcnn-cohort.ga").read_text())
    steps = wf["steps"].values()
    assert all(s["annotation"].strip() and s["label"] for s in steps)
    by_label = {s["label"]: s for s in steps}
    calls = by_label["Methylation calls of the samples"]
    assert calls["type"] == "data_collection_input"
    assert json.loads(calls["tool_state"])["collection_type"] == "list"
    encodes = [s for s in steps if s.get("tool_id") == "mrcnn_encode"]
    assert len(encodes) == 2
    for step in encodes:
        state = json.loads(step["tool_state"])
        assert state["reference"]["source"] == "none" and state["input"]["mode"] == "samples"
        assert step["input_connections"]["input|calls"]["id"] == calls["id"]
        assert step["input_connections"]["input|context"]["id"] == by_label["Neighbour context (K)"]["id"]
    train = next(s for s in steps if s.get("tool_id") == "mrcnn_train")
    assert json.loads(train["tool_state"])["architecture"]["arch"] == "context-only"
    predict = next(s for s in steps if s.get("tool_id") == "mrcnn_predict")
    assert json.loads(predict["tool_state"])["out_format"] == "per_sample"
    outputs = {o["label"]: (s["tool_id"], o["output_name"]) for s in steps for o in s["workflow_outputs"]}
    assert outputs["predictions per sample (bigWig)"] == ("mrcnn_predict", "sample_bigwigs")
    ids = {s["id"] for s in steps}
    assert all(c["id"] in ids for s in steps for c in s["input_connections"].values())
    (case,) = yaml.safe_load((WORKFLOWS / "mrcnn-cohort-tests.yml").read_text())
    inputs = {s["label"] for s in steps if s["type"].endswith("input")}
    assert set(case["job"]) == inputs and case["job"]["Epochs"] == 1
    for element in case["job"]["Methylation calls of the samples"]["elements"]:
        assert (WORKFLOWS / element["path"]).is_file()
    assert set(case["outputs"]) <= set(outputs)


@pytest.mark.parametrize("name", ["mrcnn-pipeline", "mrcnn-cohort"])
def test_workflow_uuids_are_distinct_version_4(name):
    """Galaxy refuses an invocation whose step UUIDs are not UUID4 ('Invalid step UUID4')."""
    wf = json.loads((WORKFLOWS / f"{name}.ga").read_text())
    steps = wf["steps"].values()
    found = [wf["uuid"], *(s["uuid"] for s in steps), *(o["uuid"] for s in steps for o in s["workflow_outputs"])]
    assert len(set(found)) == len(found)
    assert all(uuid.UUID(u).version == 4 and str(uuid.UUID(u)) == u for u in found)
