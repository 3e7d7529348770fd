"""Consistent options across the five commands, and the library functions the commands call.

Fast: parsers, tiny hand-made inputs and the k-mer model of test-data (no network is built or trained). Every
expected value is written out by hand (or computed naively in the test), never taken from the code's output.
"""

import argparse
import importlib
import importlib.util
import math
import re
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from helpers import ROOT, TEST_DATA

from mrcnn_tools.cli import common
from mrcnn_tools.cli.encode import main as encode
from mrcnn_tools.cli.predict import main as predict
from mrcnn_tools.errors import InputFormatError, MrcnnError, UsageError
from mrcnn_tools.evaluation.report import evaluate_files, model_labels
from mrcnn_tools.motifs.run import choose_sites
from mrcnn_tools.prediction.files import PredictionWriter, read_predictions
from mrcnn_tools.prediction.options import PredictOptions
from mrcnn_tools.prediction.predict import predict_to_files
from mrcnn_tools.runtime.guard import check_outputs
from mrcnn_tools.training.run import model_kwargs

MODULES = {
    "mrcnn-encode": "encode",
    "mrcnn-train": "train",
    "mrcnn-predict": "predict",
    "mrcnn-eval": "evaluate",
    "mrcnn-filters2meme": "filters2meme",
}
GOLDEN = TEST_DATA / "golden"


def _module(prog):
    return importlib.import_module(f"mrcnn_tools.cli.{MODULES[prog]}")


def _parsed(prog, argv, capsys):
    """(exit code, Namespace seen by the command's body, stderr lines) of running *prog* on *argv* up to its body."""
    seen = {}

    def body(args, log):
        seen["args"] = args

    code = common.run(prog, _module(prog).get_parser(), body, [str(a) for a in argv])
    return code, seen.get("args"), capsys.readouterr().err.splitlines()


def _visible(parser):
    return {o for a in parser._actions if a.help != argparse.SUPPRESS for o in a.option_strings}


def _hidden(parser):
    return {o for a in parser._actions if a.help == argparse.SUPPRESS for o in a.option_strings}


# --- deprecated aliases -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prog, old, new, dest, value",
    [
        ("mrcnn-encode", ["--format", "bismark-cov"], ["--calls-format", "bismark-cov"], "calls_format", "bismark-cov"),
        ("mrcnn-predict", ["--format", "bedgraph"], ["--output-format", "bedgraph"], "output_format", "bedgraph"),
        ("mrcnn-eval", ["-o", "EV"], ["--out-dir", "EV"], "out_dir", "EV"),
        ("mrcnn-filters2meme", ["-o", "MO"], ["--out-dir", "MO"], "out_dir", "MO"),
    ],
)
def test_old_spelling_works_and_warns(prog, old, new, dest, value, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rest = {
        "mrcnn-encode": ["-g", "g.fa", "-c", "c.cov", "-o", "d.npz"],
        "mrcnn-predict": ["-m", "m.keras", "d.npz"],
        "mrcnn-eval": ["p.tsv"],
        "mrcnn-filters2meme": ["-m", "m.keras", "d.npz"],
    }[prog]
    code, args, err = _parsed(prog, rest + old, capsys)
    assert code == 0 and getattr(args, dest) == value
    assert [ln for ln in err if "deprecated" in ln] == [
        f"{prog}: warning: {old[0]} is deprecated and will be removed in the next release; use {new[0]}"
        + (" (-o names an output file in every command)" if old[0] == "-o" else "")
    ]
    code, args, err = _parsed(prog, rest + new, capsys)
    assert code == 0 and getattr(args, dest) == value and not any("deprecated" in ln for ln in err)


@pytest.mark.parametrize("prog", sorted(MODULES))
def test_help_shows_only_new_names(prog, capsys):
    parser = _module(prog).get_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    text = capsys.readouterr().out
    for old in _hidden(parser):
        assert not re.search(rf"(?<![\w-]){re.escape(old)}(?![\w-])", text), f"{old} shown in {prog} --help"
    assert "(default: None)" not in text


def test_new_names_everywhere():
    """-o is a file wherever it is visible; directories are --out-dir; no option takes nargs='+'."""
    for prog in MODULES:
        parser = _module(prog).get_parser()
        for action in parser._actions:
            if action.option_strings:
                assert action.nargs not in ("+", "*"), f"{prog} {action.option_strings} takes nargs={action.nargs}"
            if "-o" in action.option_strings and action.help != argparse.SUPPRESS:
                assert action.dest == "output", prog
    assert "--out-dir" in _visible(_module("mrcnn-eval").get_parser())
    assert "--out-dir" in _visible(_module("mrcnn-filters2meme").get_parser())
    assert "--calls-format" in _visible(_module("mrcnn-encode").get_parser())
    assert "--output-format" in _visible(_module("mrcnn-predict").get_parser())


# --- one list syntax ---------------------------------------------------------------------------------------------


def test_list_option_before_positional(capsys):
    code, args, _ = _parsed("mrcnn-train", ["--val-chroms", "22", "train.npz", "-o", "m.keras"], capsys)
    assert code == 0 and args.val_chroms == ["22"] and args.datasets == ["train.npz"]


@pytest.mark.parametrize(
    "prog, opt, rest",
    [
        ("mrcnn-train", "--val-chroms", ["t.npz", "-o", "m.keras"]),
        ("mrcnn-encode", "--chroms", ["-g", "g.fa", "--all-cpgs", "-o", "d.npz"]),
        ("mrcnn-encode", "--exclude-chroms", ["-g", "g.fa", "--all-cpgs", "-o", "d.npz"]),
        ("mrcnn-predict", "--chroms", ["-m", "m.keras", "-g", "g.fa"]),
        ("mrcnn-eval", "--labels", ["a.tsv", "b.tsv", "--out-dir", "ev"]),
        ("mrcnn-filters2meme", "--groups", ["-m", "m.keras", "d.npz", "--out-dir", "mo"]),
    ],
)
def test_comma_equals_repeated(prog, opt, rest, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dest = opt.lstrip("-").replace("-", "_")
    values = {"--groups": ["hyper", "hypo"]}.get(opt, ["21", "22"])
    code, comma, _ = _parsed(prog, rest + [opt, ",".join(values)], capsys)
    code2, repeated, _ = _parsed(prog, rest + [opt, values[0], opt, values[1]], capsys)
    assert code == code2 == 0 and getattr(comma, dest) == getattr(repeated, dest) == values


def test_list_replaces_default_and_refuses_empty_items(capsys):
    code, args, _ = _parsed("mrcnn-filters2meme", ["-m", "m.keras", "d.npz", "--out-dir", "mo"], capsys)
    assert args.groups == ["hypo", "mid", "hyper"]
    code, args, _ = _parsed(
        "mrcnn-filters2meme", ["-m", "m.keras", "d.npz", "--out-dir", "mo", "--groups", "mid"], capsys
    )
    assert args.groups == ["mid"]
    code, args, err = _parsed("mrcnn-train", ["t.npz", "-o", "m.keras", "--val-chroms", "21,,22"], capsys)
    assert code == 2 and "empty item" in err[-1]


def test_several_dataset_shards(capsys):
    code, args, _ = _parsed("mrcnn-filters2meme", ["-m", "m.keras", "a.npz", "b.npz", "--out-dir", "mo"], capsys)
    assert code == 0 and args.datasets == ["a.npz", "b.npz"]


# --- numbers checked at parse time -------------------------------------------------------------------------------

BASE = {
    "mrcnn-encode": ["-g", "g.fa", "--all-cpgs", "-o", "d.npz"],
    "mrcnn-train": ["t.npz", "-o", "m.keras"],
    "mrcnn-predict": ["-m", "m.keras", "d.npz"],
    "mrcnn-eval": ["p.tsv", "--out-dir", "ev"],
    "mrcnn-filters2meme": ["-m", "m.keras", "d.npz", "--out-dir", "mo"],
}


@pytest.mark.parametrize(
    "prog, opt, value",
    [
        ("mrcnn-predict", "--chunk-size", "0"),
        ("mrcnn-predict", "--chunk-size", "x"),
        ("mrcnn-predict", "--batch-size", "0"),
        ("mrcnn-predict", "--threads", "0"),
        ("mrcnn-predict", "--shard", "0/3"),
        ("mrcnn-predict", "--shard", "4/3"),
        ("mrcnn-predict", "--shard", "1"),
        ("mrcnn-filters2meme", "--q-value", "0"),
        ("mrcnn-filters2meme", "--q-value", "1.5"),
        ("mrcnn-filters2meme", "--q-value", "nan"),
        ("mrcnn-filters2meme", "--max-sites", "0"),
        ("mrcnn-filters2meme", "--sites-per-group", "0"),
        ("mrcnn-filters2meme", "--n-motifs", "0"),
        ("mrcnn-filters2meme", "--seqlet-width", "-3"),
        ("mrcnn-train", "--epochs", "0"),
        ("mrcnn-train", "--batch-size", "0"),
        ("mrcnn-train", "--val-fraction", "1"),
        ("mrcnn-train", "--val-fraction", "-0.1"),
        ("mrcnn-train", "--dropout", "1"),
        ("mrcnn-train", "--learning-rate", "0"),
        ("mrcnn-train", "--patience", "-1"),
        ("mrcnn-train", "--seed", "-1"),
        ("mrcnn-encode", "--flank", "0"),
        ("mrcnn-encode", "--max-n-fraction", "1.5"),
        ("mrcnn-encode", "--max-sites", "0"),
        ("mrcnn-encode", "--min-coverage", "-1"),
        ("mrcnn-encode", "--shard-size", "0"),
        ("mrcnn-encode", "--min-cpg-fraction", "2"),
        ("mrcnn-eval", "--cutoff", "1.01"),
        ("mrcnn-eval", "--min-coverage", "-2"),
    ],
)
def test_out_of_range_is_usage_error(prog, opt, value, capsys):
    code, args, err = _parsed(prog, BASE[prog] + [opt, value], capsys)
    assert code == 2 and args is None
    assert any(ln.startswith("usage:") for ln in err) and opt in err[-1]


@pytest.mark.parametrize(
    "prog, opt, value, parsed",
    [
        ("mrcnn-filters2meme", "--q-value", "1", 1.0),
        ("mrcnn-train", "--val-fraction", "0", 0.0),
        ("mrcnn-predict", "--shard", "3/3", (3, 3)),
        ("mrcnn-predict", "--chunk-size", "1", 1),
    ],
)
def test_range_bounds_that_are_allowed(prog, opt, value, parsed, capsys):
    code, args, _ = _parsed(prog, BASE[prog] + [opt, value], capsys)
    assert code == 0 and getattr(args, opt.lstrip("-").replace("-", "_")) == parsed


# --- README table, man pages and Galaxy wrappers agree with the parsers ------------------------------------------


def _builder():
    spec = importlib.util.spec_from_file_location("man_build", ROOT / "man" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_option_table_matches_parsers():
    build = _builder()
    text = (ROOT / "README.md").read_text()
    table = text.split(build.TABLE_BEGIN, 1)[1].split(build.TABLE_END, 1)[0].strip()
    assert table == build.option_table(), "README option table is stale: run make man"
    rows = {
        ln.split("|")[1].strip().strip("`"): [c.strip() for c in ln.split("|")[2:-1]] for ln in table.splitlines()[2:]
    }
    for k, prog in enumerate(MODULES):
        parser = _module(prog).get_parser()
        in_table = {o for name, cells in rows.items() if cells[k] for o in name.split("/")}
        assert in_table == _visible(parser), prog
        assert not in_table & _hidden(parser)


def _galaxy_arguments():
    """(xml file, argument) for every argument= attribute of the Galaxy wrappers."""
    out = []
    for path in sorted((ROOT / "galaxy").glob("*.xml")):
        for el in ET.parse(path).iter():
            if "argument" in el.attrib:
                out.append((path.name, el.attrib["argument"]))
    return out


def test_galaxy_arguments_are_current_options():
    """Every argument= of galaxy/*.xml names an option its command has, under its current name (no hidden alias)."""
    tools = {f"mrcnn_{MODULES[p] if p != 'mrcnn-eval' else 'eval'}.xml": p for p in MODULES}
    visible = {p: _visible(_module(p).get_parser()) for p in MODULES}
    found = _galaxy_arguments()
    assert found
    for name, arg in found:
        progs = [tools[name]] if name in tools else list(MODULES)  # macros.xml: the option of some command
        assert any(arg in visible[p] for p in progs), f"{name}: argument={arg} is no current option of {progs}"


# --- the predictions file, both ways -----------------------------------------------------------------------------


def _golden_rows():
    # the rows of test-data/golden/writer.tsv, written there by hand (test-data/README.md)
    return dict(
        chrom=np.array(["chr22", "chr22", "chr22", "22"]),
        pos=np.array([100, 105, 2000, 5]),
        strand=np.array(["+", "-", "+", "."]),
        pred=np.array([0.25, 0.1234567, 1.0, 0.0], np.float32),
        y=np.array([0.5, np.nan, 0.0, 1 / 3], np.float32),
        coverage=np.array([10, 0, 7, 3], np.int32),
        cgi=np.array([1, 0, -1, 0], np.int8),
    )


@pytest.mark.parametrize("fmt, golden", [("tsv", "writer.tsv"), ("bedgraph", "writer.bedGraph")])
def test_writer_matches_golden_byte_for_byte(fmt, golden, tmp_path):

    r = _golden_rows()
    out, bw = tmp_path / "p.txt", tmp_path / "bw.bedGraph"
    with open(out, "w", newline="\n") as fh, open(bw, "w", newline="\n") as bw_fh:
        writer = PredictionWriter(fh, fmt, ["y_true", "coverage", "cgi"], bw_fh)
        for part in (slice(0, 1), slice(1, 1), slice(1, 4)):  # chunks, one empty, keep their order
            writer.write(
                r["chrom"][part],
                r["pos"][part],
                r["strand"][part],
                r["pred"][part],
                r["y"][part],
                r["coverage"][part],
                r["cgi"][part],
            )
        writer.close()
    assert writer.rows == 4
    assert out.read_bytes() == (GOLDEN / golden).read_bytes()
    assert bw.read_bytes() == (GOLDEN / "writer.bedGraph").read_bytes()


def test_read_golden_predictions():

    df = read_predictions(str(GOLDEN / "writer.tsv"))
    assert list(df.columns) == ["chrom", "start", "end", "strand", "prediction", "y_true", "coverage", "cgi"]
    assert list(df["chrom"]) == ["chr22", "chr22", "chr22", "22"] and list(df["start"]) == [100, 105, 2000, 5]
    assert list(df["prediction"]) == [0.25, 0.123457, 1.0, 0.0]
    assert df["y_true"].iloc[0] == 0.5 and math.isnan(df["y_true"].iloc[1]) and list(df["cgi"]) == [1, 0, -1, 0]


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("", None, "empty"),
        ("#chrom\tstart\tend\tstrand\tprediction\nchr1\t1\t2\t+\t0.5\n", 1, "y_true missing"),
        (
            "#chrom\tstart\tend\tstrand\tprediction\ty_true\nchr1\t1\t2\t+\t0.5\t0.1\nchr1\t3\t4\t+\tx\t0.2\n",
            3,
            "'x' is not a number",
        ),
    ],
)
def test_read_predictions_errors(text, line, words, tmp_path):

    path = tmp_path / "p.tsv"
    path.write_text(text)
    with pytest.raises(InputFormatError) as exc:
        read_predictions(str(path))
    assert words in str(exc.value) and exc.value.line == line


def test_predictions_independent_of_chunk_and_batch_size(tmp_path):

    model, data = str(TEST_DATA / "model_small_gbr.skops"), [str(TEST_DATA / "test_small.npz")]
    outs = []
    for chunk, batch in ((65536, 2048), (7, 5), (100, 1)):
        out = tmp_path / f"p{chunk}.tsv"
        opts = PredictOptions(chunk_size=chunk, batch_size=batch)
        result = predict_to_files(model, datasets=data, output=str(out), options=opts)
        outs.append(out.read_bytes())
        assert result.rows == len(outs[-1].splitlines()) - 1 == 87  # the sites of test_small.npz
    assert outs[0] == outs[1] == outs[2]
    # shards concatenate to the whole
    parts = []
    for i in (1, 2, 3):
        out = tmp_path / f"s{i}.tsv"
        predict_to_files(model, datasets=data, output=str(out), options=PredictOptions(shard=(i, 3), chunk_size=50))
        parts.append(out.read_bytes().split(b"\n", 1)[1])
    assert outs[0].split(b"\n", 1)[1] == b"".join(parts)


# --- reports, motif site choice, guards ------------------------------------------------------------------------


def test_evaluate_files_hand_worked(tmp_path):

    head = "#chrom\tstart\tend\tstrand\tprediction\ty_true\n"
    (tmp_path / "a.tsv").write_text(
        head + "chr1\t10\t11\t+\t0.1\t0.0\nchr1\t20\t21\t+\t0.9\t1.0\n"
        "chr1\t30\t31\t+\t0.5\t0.5\nchr1\t40\t41\t+\t0.5\tNA\n"
    )
    # the same sites under Ensembl names, one more site, another order
    (tmp_path / "b.tsv").write_text(
        head + "1\t30\t31\t+\t0.2\t0.5\n1\t10\t11\t+\t0.0\t0.0\n1\t20\t21\t+\t1.0\t1.0\n"
        "1\t99\t100\t+\t0.3\t0.3\n1\t40\t41\t+\t0.5\tNA\n"
    )
    report = evaluate_files(
        [str(tmp_path / "a.tsv"), str(tmp_path / "b.tsv")], str(tmp_path / "ev"), labels=["A", "A"], plots=False
    )
    assert (report.sites, report.skipped, report.shared) == (3, 1, 4)
    rmse = {r["model"]: r["rmse"] for r in report.rows if r["group"] == "all"}
    assert rmse.keys() == {"A_1", "A_2"}  # equal labels made unique
    assert rmse["A_1"] == pytest.approx(math.sqrt((0.01 + 0.01 + 0) / 3))
    assert rmse["A_2"] == pytest.approx(math.sqrt((0 + 0 + 0.09) / 3))
    lines = (tmp_path / "ev" / "metrics.tsv").read_text().splitlines()
    assert lines[0] == "## mrcnn-eval: 3 sites, cutoff 0.5; groups by true level: hyper > 0.9, mid 0.4-0.6, hypo < 0.1"
    assert lines[1].startswith("#model\tgroup\tn\trmse\tmae\t")
    assert sorted(p.rsplit("/", 1)[1] for p in report.files) == ["calibration.tsv", "metrics.json", "metrics.tsv"]


def test_model_labels():

    assert model_labels(["x/run1.tsv.gz", "-"]) == ["run1", "stdin"]
    with pytest.raises(UsageError):
        model_labels(["-", "-"])
    with pytest.raises(UsageError):
        model_labels(["a.tsv", "b.tsv"], ["only-one"])


def test_choose_sites_caps():

    level = np.array([0.0, 0.05, 0.5, 0.95, 1.0, np.nan, 0.2, 0.99, 0.4, 0.6])
    # hypo < 0.1: 0, 1; mid 0.4-0.6 (ends included): 2, 8, 9; hyper > 0.9: 3, 4, 7
    chosen = choose_sites(level, ["hypo", "mid", "hyper"], 10, None, 0)
    assert {g: list(i) for g, i in chosen.items()} == {"hypo": [0, 1], "mid": [2, 8, 9], "hyper": [3, 4, 7]}
    capped = choose_sites(level, ["mid", "hyper"], 2, None, 1)
    assert [len(i) for i in capped.values()] == [2, 2]
    assert set(capped["mid"]) <= {2, 8, 9} and set(capped["hyper"]) <= {3, 4, 7}
    total = choose_sites(level, ["hypo", "mid", "hyper"], 10, 4, 2)
    picked = np.concatenate(list(total.values()))
    assert len(picked) == 4 and len(set(picked)) == 4 and all(np.all(np.diff(i) > 0) for i in total.values())
    assert choose_sites(level, ["hyper"], 10, 2, 5).keys() == {"hyper"}


def test_output_onto_input_refused(tmp_path):

    inp = tmp_path / "in.npz"
    inp.write_bytes(b"x")
    (tmp_path / "link.npz").symlink_to(inp)
    with pytest.raises(MrcnnError, match="is the input"):
        check_outputs([("-o", str(tmp_path / "link.npz"))], inputs=[("DATA", str(inp))])
    with pytest.raises(MrcnnError, match="does not exist; create it first"):
        check_outputs([("-o", str(tmp_path / "no" / "x.tsv"))])
    assert check_outputs([("-o", "-")], [("--out-dir", str(tmp_path / "new"))]) == [str(tmp_path / "new")]


def test_unexpected_errors_are_one_line(capsys):
    def meme_fails(args, log):
        subprocess.run(["false", "meme-like"], check=True)

    def bug(args, log):
        raise ZeroDivisionError("division by zero")

    parser = common.make_parser("prog", "test")
    assert common.run("prog", parser, meme_fails, []) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == ["prog: error: false failed (exit status 1): false meme-like; run it by hand to see its messages"]
    assert common.run("prog", parser, bug, []) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("prog: error: ZeroDivisionError: division by zero")
    assert common.run("prog", parser, bug, ["-v"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_threads_limit_blas(capsys):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    seen = []

    def body(args, log):
        seen.extend(p["num_threads"] for p in threadpoolctl.threadpool_info())

    assert (
        common.run(
            "mrcnn-predict", _module("mrcnn-predict").get_parser(), body, ["-m", "m.keras", "d.npz", "--threads", "1"]
        )
        == 0
    )
    np.ones((2, 2)) @ np.ones((2, 2))  # BLAS is loaded by NumPy
    assert seen and set(seen) == {1}


def test_predict_neighbour_baseline_hand_worked(td, tmp_path, capsys):
    """toy.fa's CpGs at 1, 5, 9, 17 observed with levels 0, 1, .5, .25; with one neighbour a side, weighted
    1 / (1 + distance): site 1 -> 1.0 (only 5); 5 -> (0 / 5 + .5 / 5) / (2 / 5) = .25; 9 -> (1 / 5 + .25 / 9) /
    (1 / 5 + 1 / 9) = .732143; 17 -> .5 (only 9)."""

    calls = tmp_path / "calls.tsv"
    calls.write_text("chrom\tstart\tcount_m\tcount_u\nchrT\t1\t0\t4\nchrT\t5\t4\t0\nchrT\t9\t2\t2\nchrT\t17\t1\t3\n")
    assert (
        encode(
            [
                "-q",
                "-g",
                str(td / "toy.fa"),
                "-c",
                str(calls),
                "--min-coverage",
                "1",
                "--flank",
                "3",
                "--max-n-fraction",
                "1",
                "--context",
                "1",
                "-o",
                str(tmp_path / "c.npz"),
            ]
        )
        == 0
    )
    out = tmp_path / "p.tsv"
    assert predict(["-q", "--baseline", "neighbours", str(tmp_path / "c.npz"), "-o", str(out)]) == 0
    rows = [ln.split("\t") for ln in out.read_text().splitlines()[1:]]
    assert [(r[1], r[4]) for r in rows] == [("1", "1.0"), ("5", "0.25"), ("9", "0.732143"), ("17", "0.5")]
    capsys.readouterr()
    assert predict(["--baseline", "neighbours", str(td / "test_small.npz"), "-o", str(tmp_path / "x.tsv")]) == 1
    assert "context_level" in capsys.readouterr().err.splitlines()[-1]
    assert predict(["-m", str(td / "model_small_gbr.skops"), "--baseline", "neighbours", str(tmp_path / "c.npz")]) == 2


def test_model_kwargs_per_architecture():

    assert model_kwargs("mrcnn", 8, 16, 0.2) == dict(filters2=8, filters3=8, filters4=8, dense_units=16, dropout=0.2)
    assert model_kwargs("simple-cnn", 8, 16, 0.2) == dict(filters=(8, 8), dense_units=16, dropout=0.2)
    assert model_kwargs("kmer-gbr", 8, 16, 0.2) == {}
    assert model_kwargs("mrcnn-context", 8, 16, 0.2, 0.5) == dict(context_dropout=0.5)
    with pytest.raises(UsageError, match="--context-dropout applies to"):
        model_kwargs("mrcnn", 8, 16, 0.2, 0.5)


def test_readme_names_every_deprecated_spelling():
    """The README's Options section tells users of 0.1 scripts what each hidden alias became."""
    text = " ".join((ROOT / "README.md").read_text().split("## Options", 1)[1].split("\n## ", 1)[0].split())
    for prog in MODULES:
        parser = _module(prog).get_parser()
        for action in parser._actions:
            for old in action.option_strings if action.help == argparse.SUPPRESS else ():
                assert re.search(rf"`{prog} {re.escape(old)}( DIR)?`[^`]*\(now `{action.replaced_by}`\)", text), (
                    f"{prog} {old} -> {action.replaced_by} missing from the README"
                )
