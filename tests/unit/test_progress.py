import io
import logging

from mrcnn_tools.progress import Progress


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_without_a_terminal_a_line_every_interval(caplog):
    """10 updates of 5 CpGs, 10 s apart, interval 30 s: lines at t = 30, 60, 90 s only, each with done/total,
    percent and rate worked by hand (at 30 s: 15 of 100 CpG, 15%, 0.5 CpG/s, 170 s left)."""
    clock = Clock()
    log = logging.getLogger("mrcnn_tools.test_progress")
    with caplog.at_level(logging.INFO, logger="mrcnn_tools.test_progress"):
        with Progress("predicting", 100, "CpG", log=log, stream=io.StringIO(), clock=clock) as p:
            for _ in range(10):
                clock.t += 10
                p.update(5)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "predicting: 15/100 CpG (15%), 0.5 CpG/s, ~170 s left",
        "predicting: 30/100 CpG (30%), 0.5 CpG/s, ~140 s left",
        "predicting: 45/100 CpG (45%), 0.5 CpG/s, ~110 s left",
    ]
    assert p.bar is None


def test_unknown_total_and_large_counts():
    clock = Clock()
    p = Progress("training", None, "batch", stream=io.StringIO(), clock=clock)
    clock.t += 2
    p.update(3_000_000)
    assert p.line() == "training: 3M batch, 1.5M batch/s"


def test_a_terminal_gets_a_bar_and_no_log_lines(caplog):
    term = Terminal()
    clock = Clock()
    with caplog.at_level(logging.INFO):
        with Progress("predicting", None, "CpG", stream=term, clock=clock) as p:
            clock.t += 100
            p.update(7)
            assert p.bar is not None and p.bar.n == 7
    assert term.getvalue().startswith("\rpredicting: ")
    assert not caplog.records and p.bar is None


def test_disabled_shows_nothing(caplog):
    term = Terminal()
    clock = Clock()
    with caplog.at_level(logging.INFO):
        with Progress("x", 10, stream=term, enabled=False, clock=clock) as p:
            clock.t += 100
            p.update(10)
    assert term.getvalue() == "" and not caplog.records and p.done == 10
