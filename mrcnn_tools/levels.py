"""The paper's methylation groups: hypo < 0.1, mid 0.4-0.6, hyper > 0.9 (Tian et al. 2019). The one table of them.

Every command and module that names a group (encode's summary, eval's rows, filters2meme's motif sets) takes it from
here, so a threshold changes in one place.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Level:
    """One group of sites by true methylation level.

    ``low``/``high`` are the bounds (None: unbounded). The paper's one-sided groups exclude their threshold
    (hypo < 0.1, hyper > 0.9) while mid includes both ends (0.4 <= level <= 0.6): ``inclusive`` says which.
    """

    name: str
    low: float = None
    high: float = None
    inclusive: bool = False

    def mask(self, level):
        """Which of *level* (numpy float (n,), NaN allowed) fall in this group: numpy bool (n,), NaN never."""
        level = np.asarray(level)
        if level.dtype.kind != "f":
            level = level.astype(np.float64)
        # The bounds in the levels' own precision: a float32 3/5 is 0.6000000238 and must still count as 0.6
        # (mid), as it does once written to a TSV and read back as float64.
        bound = level.dtype.type
        out = np.isfinite(level)
        with np.errstate(invalid="ignore"):
            if self.low is not None:
                out &= level >= bound(self.low) if self.inclusive else level > bound(self.low)
            if self.high is not None:
                out &= level <= bound(self.high) if self.inclusive else level < bound(self.high)
        return out

    def describe(self):
        """'hypo < 0.1', 'mid 0.4-0.6', 'hyper > 0.9'."""
        if self.low is not None and self.high is not None:
            return f"{self.name} {self.low:g}-{self.high:g}"
        return f"{self.name} < {self.high:g}" if self.high is not None else f"{self.name} > {self.low:g}"


# low to high; the order of encode's summary and of --groups' default
LEVELS = (Level("hypo", high=0.1), Level("mid", 0.4, 0.6, inclusive=True), Level("hyper", low=0.9))
BY_NAME = {lv.name: lv for lv in LEVELS}
NAMES = tuple(BY_NAME)
DESCRIPTION = ", ".join(lv.describe() for lv in LEVELS)


def mask(name, level):
    """Sites of group *name* ('hypo', 'mid', 'hyper') among *level*: numpy bool (n,); KeyError for other names."""
    return BY_NAME[name].mask(level)


def group_counts(level):
    """Number of sites per group, NaN levels left out: dict name -> int, in LEVELS order."""
    return {lv.name: int(lv.mask(level).sum()) for lv in LEVELS}
