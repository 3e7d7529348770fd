"""Progress of long work, one way for every step: a tqdm bar where stderr is a terminal, else (Slurm, Galaxy, a
pipe into a log) a log line about every 30 s with done/total and the rate.

Use it as a context manager::

    with Progress("predicting", total=n, unit="CpG", log=log) as progress:
        for chunk in chunks:
            ...
            progress.update(len(chunk))

A step whose total is unknown (``total=None``) shows the count and rate alone. Nothing is shown when *enabled* is
False (``--quiet``), and a bar never draws into a pipe or a file, whatever ``TERM`` says. The seconds between two
log lines are ``$MRCNN_PROGRESS_INTERVAL`` where set (a denser log, or the tests), else 30.
"""

import logging
import os
import sys
import time

from tqdm import tqdm

# seconds between two log lines when stderr is not a terminal, unless the variable says otherwise
LOG_INTERVAL = 30.0
INTERVAL_VARIABLE = "MRCNN_PROGRESS_INTERVAL"


def log_interval():
    """Seconds between two log lines without a terminal: ``$MRCNN_PROGRESS_INTERVAL`` when it is a number >= 0,
    else :data:`LOG_INTERVAL`. Read here only, when a step starts."""
    try:
        value = float(os.environ.get(INTERVAL_VARIABLE, ""))
    except ValueError:
        return LOG_INTERVAL
    return value if value >= 0 else LOG_INTERVAL  # NaN compares False: the default too


def _fmt_count(n):
    """1234567 -> '1.23M' (3 significant digits); small counts as they are."""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= div:
            return f"{n / div:.3g}{suffix}"
    return f"{n:g}" if isinstance(n, float) else str(n)


class Progress:
    """Progress of one step.

    Parameters
    ----------
    desc : str
        What is being done (``"predicting"``, ``"epoch 3/10"``).
    total : int or float, optional
        The amount of work; None when unknown.
    unit : str
        The unit of *total* and :meth:`update` (``"CpG"``, ``"batch"``, ``"iteration"``).
    log : logging.Logger, optional
        Where the lines go without a terminal (default: the package logger).
    enabled : bool
        False: show nothing (``--quiet``, or a step too short to report).
    interval : float, optional
        Seconds between two log lines without a terminal (default: :func:`log_interval`).
    stream : file, optional
        The terminal the bar draws on (default: ``sys.stderr``, looked up when the step starts).
    clock : callable
        Seconds, monotonic (tests give their own).
    """

    def __init__(
        self,
        desc,
        total=None,
        unit="it",
        *,
        log=None,
        enabled=True,
        interval=None,
        stream=None,
        clock=time.monotonic,
    ):
        self.desc, self.total, self.unit = desc, total, unit
        self.log = log or logging.getLogger("mrcnn_tools")
        self.interval, self.clock = log_interval() if interval is None else interval, clock
        self.done, self.note = 0, None
        self.bar = None
        self.enabled = enabled
        stream = stream if stream is not None else sys.stderr
        if enabled and _isatty(stream):
            self.bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=True, file=stream, leave=False)
        self.start = self.last = clock()

    def update(self, n=1, note=None):
        """Add *n* units of work done; a log line when the interval has passed (no terminal).

        *note* (e.g. ``"loss 0.0123"``) replaces the last one: shown after the bar, or at the end of the log line.
        """
        self.done += n
        if note is not None:
            self.note = note
        if self.bar is not None:
            if note is not None:
                self.bar.set_postfix_str(note, refresh=False)
            self.bar.update(n)
        elif self.enabled:
            now = self.clock()
            if now - self.last >= self.interval:
                self.last = now
                self.log.info("%s", self.line(now))

    def line(self, now=None):
        """``desc: done/total unit (p%), rate unit/s[, ~eta s left][, note]``."""
        now = self.clock() if now is None else now
        secs = max(now - self.start, 1e-9)
        rate = self.done / secs
        text = f"{self.desc}: {_fmt_count(self.done)}"
        if self.total:
            text += f"/{_fmt_count(self.total)} {self.unit} ({100 * self.done / self.total:.0f}%)"
        else:
            text += f" {self.unit}"
        text += f", {_fmt_count(rate)} {self.unit}/s"
        if self.total and rate > 0 and self.done < self.total:
            text += f", ~{(self.total - self.done) / rate:.0f} s left"
        if self.note:
            text += f", {self.note}"
        return text

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False
