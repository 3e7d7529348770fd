"""Option types and actions shared by the commands: numbers checked at parse time, one list syntax, hidden
deprecated aliases, and required options that an alias may stand in for.

Everything here fails at parse time, so a bad value exits 2 with the usage line before any work.
"""

import argparse
from dataclasses import fields


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose required options may also be given by a deprecated alias (:func:`add_alias`).

    argparse checks a required option by the action it has seen, not by the value, so such an option is made
    not required and checked here after parsing; the usage line and the help still show it as required.
    """

    def parse_known_args(self, args=None, namespace=None):
        namespace, rest = super().parse_known_args(args, namespace)
        missing = [
            "/".join(a.option_strings)
            for a in self._actions
            if getattr(a, "required_or_alias", False) and getattr(namespace, a.dest, None) is None
        ]
        if missing:
            self.error(f"the following arguments are required: {', '.join(missing)}")
        return namespace, rest

    def _as_required(self, method):
        marked = [a for a in self._actions if getattr(a, "required_or_alias", False)]
        for a in marked:
            a.required = True
        try:
            return method()
        finally:
            for a in marked:
                a.required = False

    def format_usage(self):
        return self._as_required(super().format_usage)

    def format_help(self):
        return self._as_required(super().format_help)


class ListOption(argparse.Action):
    """One list syntax for every command: ``--opt a,b``, ``--opt a --opt b`` and both mixed give [a, b].

    Never ``nargs="+"``, which swallows the positional arguments after it (``--val-chroms 22 train.npz``).
    A given list replaces the default; it does not extend it.
    """

    def __call__(self, parser, namespace, values, option_string=None):
        items = getattr(namespace, self.dest, None)
        items = [] if items is None or items is self.default else list(items)
        new = [v.strip() for v in values.split(",")]
        if not all(new):
            raise argparse.ArgumentError(self, f"empty item in '{values}'; give names separated by commas")
        setattr(namespace, self.dest, items + new)


def deprecated(new, note=""):
    """An action class for a hidden old spelling of option *new*: stores like it, with a warning.

    The warning is logged once logging is set up (:func:`run`); the alias is left out of ``--help``, the man
    pages and the README (``help=argparse.SUPPRESS``) and is removed in the next release.
    """

    class Deprecated(argparse._StoreAction):
        replaced_by = new  # for the man pages (man/build.py)

        def __call__(self, parser, namespace, values, option_string=None):
            namespace.__dict__.setdefault("_deprecated", []).append(
                f"warning: {option_string} is deprecated and will be removed in the next release; use {new}"
                + (f" ({note})" if note else "")
            )
            super().__call__(parser, namespace, values, option_string)

    Deprecated.note = note
    return Deprecated


def add_alias(group, old, dest, new, note="", **kwargs):
    """Add the hidden, deprecated option *old* that stores into *dest* as *new* does.

    When *new* is required, giving *old* instead is enough (checked by :class:`Parser`).
    """
    for action in group._actions:
        if action.dest == dest and action.required:
            action.required, action.required_or_alias = False, True
    group.add_argument(
        *([old] if isinstance(old, str) else old),
        dest=dest,
        action=deprecated(new, note),
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
        **kwargs,
    )


def _number(kind, low=None, high=None, low_open=False, high_open=False):
    """An argparse type: *kind* (int or float) within [low, high]; an open end excludes its bound."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not {'an integer' if kind is int else 'a number'}") from None
        below = low is not None and (value <= low if low_open else value < low)
        above = high is not None and (value >= high if high_open else value > high)
        if below or above or value != value:
            lo = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
            hi = "" if high is None else f"{high:g}" + (")" if high_open else "]")
            raise argparse.ArgumentTypeError(f"{text} is out of range: must lie in {lo or '(-inf'}, {hi or 'inf)'}")
        return value

    return parse


positive_int = _number(int, 1)
non_negative_int = _number(int, 0)
fraction = _number(float, 0.0, 1.0)
fraction_below_one = _number(float, 0.0, 1.0, high_open=True)
probability = _number(float, 0.0, 1.0, low_open=True)  # (0, 1]: a q-value threshold
positive_float = _number(float, 0.0, low_open=True)


def options_from_args(cls, args, **extra):
    """An options object of dataclass *cls* (``TrainOptions``, ``MotifOptions``) from the parsed *args*: each field
    from the option of the same destination (the field's default where the command has no such option), then
    *extra*."""
    values = vars(args)
    given = {f.name: values[f.name] for f in fields(cls) if f.name in values}
    return cls(**{**given, **extra})
