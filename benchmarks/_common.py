"""What the benchmark scripts share: the one way a script puts its table into docs/REPRODUCTION.md.

Each script owns a section between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` lines; only what lies between
its markers is replaced, so the prose around the tables, and the other scripts' sections, are kept.
"""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPRODUCTION = os.path.join(ROOT, "docs", "REPRODUCTION.md")


def write_section(marker, text, path=REPRODUCTION):
    """Put *text* between the ``<!-- marker:begin/end -->`` lines of *path*; the section (with its markers) is
    appended at the end when the file has none. Written through a temporary file, so an interrupted write leaves
    the old file."""
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    doc = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
    block = f"{begin}\n{text.strip(chr(10))}\n{end}"
    if begin in doc:
        head, rest = doc.split(begin, 1)
        if end not in rest:
            raise SystemExit(f"{path}: {begin} without {end}; mend the file by hand")
        doc = head + block + rest.split(end, 1)[1]
    else:
        doc = doc.rstrip("\n") + ("\n\n" if doc else "") + block + "\n"
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(doc)
    os.replace(tmp, path)
