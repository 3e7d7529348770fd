"""Progress of long work, one way for every step: a tqdm bar where stderr is a terminal, else (Slurm, Galaxy, a
pipe into a log) a log line about every 30 s with done/total and the rate.

Use it as a context manager::

    with Progress("predicting", total=n, unit="CpG", log=log) as progress:
        for chunk in chunks:
            ...
            progress.update(len(chunk))

A step whose total is unknown (``total=None``) shows the count and rate alone. Nothing is shown when *enabled* is
False (``--quiet``), and a bar never draws into a pipe or a file, whatever ``TERM`` says.
"""

import logging
import sys
import time

from tqdm import tqdm

# seconds between two log lines when stderr is not a terminal
LOG_INTERVAL = 30.0


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
    interval : float
        Seconds between two log lines without a terminal.
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
        interval=LOG_INTERVAL,
        stream=None,
        clock=time.monotonic,
    ):
        self.desc, self.total, self.unit = desc, total, unit
        self.log = log or logging.getLogger("mrcnn_tools")
        self.interval, self.clock = interval, clock
        self.done = 0
        self.bar = None
        self.enabled = enabled
        stream = stream if stream is not None else sys.stderr
        if enabled and _isatty(stream):
            self.bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=True, file=stream, leave=False)
        self.start = self.last = clock()

    def update(self, n=1):
        """Add *n* units of work done; a log line when the interval has passed (no terminal)."""
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.enabled:
            now = self.clock()
            if now - self.last >= self.interval:
                self.last = now
                self.log.info("%s", self.line(now))

    def line(self, now=None):
        """``desc: done/total unit (p%), rate unit/s[, ~eta s left]``."""
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
