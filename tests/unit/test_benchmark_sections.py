"""benchmarks/_common.write_section: the one way the benchmark scripts put their tables into docs/REPRODUCTION.md."""

import importlib.util

from helpers import ROOT


def _write_section():
    spec = importlib.util.spec_from_file_location("bench_common", ROOT / "benchmarks" / "_common.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_section


def test_only_the_text_between_the_markers_is_replaced(tmp_path):
    write_section = _write_section()
    doc = tmp_path / "R.md"
    doc.write_text(
        "# R\n\nprose a\n<!-- t:begin -->\nold\ntable\n<!-- t:end -->\nprose b\n<!-- u:begin -->\nu\n<!-- u:end -->\n"
    )
    write_section("t", "new table\n", doc)
    assert doc.read_text() == (
        "# R\n\nprose a\n<!-- t:begin -->\nnew table\n<!-- t:end -->\nprose b\n<!-- u:begin -->\nu\n<!-- u:end -->\n"
    )


def test_a_section_without_markers_is_appended(tmp_path):
    write_section = _write_section()
    doc = tmp_path / "R.md"
    doc.write_text("# R\n\nprose\n\n")
    write_section("v", "x", doc)
    write_section("v", "y", doc)
    assert doc.read_text() == "# R\n\nprose\n\n<!-- v:begin -->\ny\n<!-- v:end -->\n"
    assert [p.name for p in tmp_path.iterdir()] == ["R.md"]
