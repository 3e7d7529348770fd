"""Where calls sit on the reference: on a C (+) or G (-), on a CpG, and the diagnosis when they do not."""

import numpy as np

from mrcnn_tools.calls.formats import BY_NAME
from mrcnn_tools.encoding import C, G, is_cpg
from mrcnn_tools.errors import GenomeMismatchError


def on_cpg(codes, pos, strand):
    """Which calls sit on a CpG: strand from the file, or (unknown) either C->+ or G->-."""
    known = strand != 0
    ok = np.zeros(len(pos), bool)
    if known.any():
        ok[known] = is_cpg(codes, pos[known], strand[known])
    unk = ~known
    if unk.any():
        p = pos[unk]
        ok[unk] = is_cpg(codes, p, np.ones(len(p), np.int8)) | is_cpg(codes, p, -np.ones(len(p), np.int8))
    return ok


def on_base(codes, pos, strand):
    """Which calls sit on a cytosine: a C for '+', a G for '-', either when the strand is unknown."""
    inside = (pos >= 0) & (pos < len(codes))
    base = codes[np.clip(pos, 0, max(len(codes) - 1, 0))]
    return inside & np.where(strand > 0, base == C, np.where(strand < 0, base == G, (base == C) | (base == G)))


def check_on_base(hits, total, calls_format, genome_name, min_cpg_fraction, path):
    """Refuse calls that do not sit on cytosines of this genome, and say which fix would fit.

    *hits* maps 'base' to the number of calls on a C (+) or G (-), and a shift (-1, +1) to the number of calls
    on a CpG after that shift.
    """
    if total == 0:
        return
    frac = hits["base"] / total
    if frac >= min_cpg_fraction:
        return
    msg = (
        f"{path}: only {100 * frac:.1f}% of {total} calls sit on a C (+ strand) or G (- strand) of "
        f"{genome_name} (need {100 * min_cpg_fraction:.0f}%, --min-cpg-fraction)."
    )
    best = max((-1, 1), key=lambda s: hits[s])
    if hits[best] / total >= min_cpg_fraction:
        coords = BY_NAME[calls_format].coords if calls_format in BY_NAME else "?"
        # +1 fits: positions one short, as 0-based ones read as 1-based (and the reverse for -1)
        looks = "0-based" if best == 1 else "1-based"
        why = (
            f"the file looks {looks} where format {calls_format} is {coords}"
            if looks != coords
            else f"positions are off by one base for format {calls_format} ({coords})"
        )
        msg += (
            f" Shifting positions by {best:+d} would put {100 * hits[best] / total:.1f}% on CpGs: {why}; "
            "check --calls-format or the coordinate base of the file."
        )
    else:
        msg += (
            " Shifts of +-1 base do not fix it, so the calls probably come from another assembly than the "
            "genome (e.g. hg19 vs hg38), or the format is wrong (detected "
            f"{calls_format}; set --calls-format)."
        )
    raise GenomeMismatchError(msg)
