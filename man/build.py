"""Write man/mrcnn-*.1 from the commands' argparse parsers (run by man/build.sh, `make man`).

The pages have what man-db expects: a NAME line ``command \\- what it does`` (whatis, apropos, lexgrog), a
SYNOPSIS, every option with the default it has (the text of ``--help``), the examples kept as written, EXIT
STATUS, ENVIRONMENT and SEE ALSO. tests/release/test_man.py checks that the committed pages equal what this writes.
"""

import argparse
import importlib
import re
import sys
from pathlib import Path

import mrcnn_tools
from mrcnn_tools.cli import common

COMMANDS = {
    "mrcnn-encode": "encode",
    "mrcnn-train": "train",
    "mrcnn-predict": "predict",
    "mrcnn-eval": "evaluate",
    "mrcnn-filters2meme": "filters2meme",
}

EXIT_STATUS = [
    ("0", "Success."),
    (
        "1",
        "An error in the data or the environment: a malformed or mismatched input, a missing, "
        "unreadable or unwritable file, a full disk or the file-size limit. One line on standard "
        "error names the file (and the line) and the fix; no partial output is left.",
    ),
    ("2", "Usage: options that cannot be parsed or contradict each other."),
    ("130", "Interrupted (SIGINT, Ctrl-C); temporary files are removed."),
    ("143", "Terminated (SIGTERM, as Slurm sends at the time limit or on scancel); temporary files are removed."),
]

ENVIRONMENT = [
    (
        "MRCNN_CACHE_DIR",
        "Where the index (.fai, .gzi) of a genome FASTA is written when the FASTA's "
        "directory is not writable, and where genome codes are kept (default: "
        "$XDG_CACHE_HOME/mrcnn-tools, else ~/.cache/mrcnn-tools).",
    )
]


def roff(text):
    """Escape text for roff: backslashes, hyphens (so that they are not hyphenation points) and control
    characters at the start of a line."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + ln if ln.startswith((".", "'")) else ln for ln in text.split("\n"))


def split_description(description):
    """(prose, example lines): the description up to a line ``example:`` / ``examples:``, and the lines after."""
    m = re.search(r"^examples?:\s*$", description, flags=re.M)
    if not m:
        return description.strip(), []
    examples = [ln.strip() for ln in description[m.end() :].strip("\n").split("\n") if ln.strip()]
    return description[: m.start()].strip(), examples


def summary(module):
    """The one-line description for NAME: the module docstring's first line after ``command:``."""
    first = (module.__doc__ or "").strip().split("\n")[0]
    return first.split(":", 1)[1].strip().rstrip(".") if ":" in first else first


def render(prog, module_name, version):
    """The man page of *prog* as a string."""

    module = importlib.import_module(f"mrcnn_tools.cli.{module_name}")
    parser = module.get_parser()
    formatter = parser._get_formatter()
    prose, examples = split_description(parser.description or "")
    usage = " ".join(parser.format_usage().split())
    usage = usage[len("usage: ") :]
    usage = usage[len(prog) :].strip() if usage.startswith(prog) else usage
    out = [
        f'.TH {roff(prog.upper())} 1 "" "mrcnn\\-tools {roff(version)}" "mrcnn\\-tools manual"',
        ".SH NAME",
        f"{roff(prog)} \\- {roff(summary(module))}",
        ".SH SYNOPSIS",
        f".B {roff(prog)}",
        roff(usage),
        ".SH DESCRIPTION",
    ]
    for para in re.split(r"\n\s*\n", prose):
        out += [roff(" ".join(para.split())), ".PP"]
    out.pop()
    out.append(".SH OPTIONS")
    for group in parser._action_groups:
        actions = [a for a in group._group_actions if a.help != argparse.SUPPRESS]
        if not actions:
            continue
        title = group.title or ""
        if title not in ("options", "optional arguments"):
            out.append(f".SS {roff(title[:1].upper() + title[1:])}")
        for action in actions:
            if action.option_strings:
                metavar = (
                    ""
                    if action.nargs == 0
                    else " " + formatter._format_args(action, formatter._get_default_metavar_for_optional(action))
                )
                names = ", ".join(
                    f"\\fB{roff(o)}\\fR" + (f"\\fI{roff(metavar)}\\fR" if metavar else "")
                    for o in action.option_strings
                )
            else:
                names = f"\\fB{roff(formatter._format_args(action, action.dest))}\\fR"
            out += [".TP", names, roff(" ".join(formatter._expand_help(action).split()))]
    old = [a for a in parser._actions if getattr(a, "replaced_by", None)]
    if old:
        # hidden from --help and the README, but a user reading an old script must find what they mean
        out.append(".SH DEPRECATED OPTIONS")
        for action in old:
            out += [
                ".TP",
                ", ".join(f"\\fB{roff(o)}\\fR" for o in action.option_strings),
                roff(
                    f"Old spelling of {action.replaced_by}, accepted with a warning until the next release"
                    + (f" ({action.note})." if action.note else ".")
                ),
            ]
    if examples:
        out += [".SH EXAMPLES", ".nf", ".RS"] + [roff(ln) for ln in examples] + [".RE", ".fi"]
    out.append(".SH EXIT STATUS")
    for code, text in EXIT_STATUS:
        out += [".TP", f"\\fB{code}\\fR", roff(text)]
    out.append(".SH ENVIRONMENT")
    for name, text in ENVIRONMENT:
        out += [".TP", f"\\fB{name}\\fR", roff(text)]
    others = [p for p in COMMANDS if p != prog]
    out += [
        ".SH SEE ALSO",
        ",\n".join(f".BR {roff(p)} (1)" for p in others),
        ".PP",
        roff(
            f"File formats, exit codes and conventions: {common.FORMATS_DOC} in the mrcnn-tools "
            "sources; the README for a walk-through."
        ),
    ]
    return "\n".join(out) + "\n"


TABLE_BEGIN = "<!-- option table: generated by make man from the parsers; do not edit -->"
TABLE_END = "<!-- end of option table -->"


def option_table():
    """The README's option table (Markdown): one row per option of any command, one column per command.

    A cell holds the option's default where it has one, else a check mark (a flag, or unset unless given);
    hidden deprecated aliases are left out. tests/commands/test_options.py checks that the README holds exactly this.
    """
    rows, cells = [], {}
    for prog, module_name in COMMANDS.items():
        parser = importlib.import_module(f"mrcnn_tools.cli.{module_name}").get_parser()
        for action in parser._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS:
                continue
            name = "/".join(action.option_strings)
            if name not in cells:
                rows.append(name)
                cells[name] = {}
            default = action.default
            if isinstance(default, (list, tuple)):
                default = ",".join(map(str, default))
            plain = action.nargs == 0 or default in (None, "") or isinstance(default, bool)
            cells[name][prog] = "✓" if plain else f"`{default}`"
    out = ["| option | " + " | ".join(p[len("mrcnn-") :] for p in COMMANDS) + " |", "|---|" + "---|" * len(COMMANDS)]
    for name in rows:
        out.append(f"| `{name}` | " + " | ".join(cells[name].get(p, "") for p in COMMANDS) + " |")
    return "\n".join(out)


def update_readme(path):
    """Replace the option table between the markers of the README at *path*; True when it changed."""
    text = path.read_text()
    head, rest = text.split(TABLE_BEGIN, 1)
    _, tail = rest.split(TABLE_END, 1)
    new = f"{head}{TABLE_BEGIN}\n{option_table()}\n{TABLE_END}{tail}"
    if new != text:
        path.write_text(new)
    return new != text


def main(argv=None):

    outdir = Path(argv[0] if argv else Path(__file__).parent)
    for prog, module_name in COMMANDS.items():
        (outdir / f"{prog}.1").write_text(render(prog, module_name, mrcnn_tools.__version__))
    update_readme(Path(__file__).resolve().parent.parent / "README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
