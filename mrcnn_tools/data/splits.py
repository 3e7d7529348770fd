"""Which sites a model trains and validates on: labelled sites, validation splits that leak little, leak counts."""

import numpy as np

from mrcnn_tools.errors import DatasetError, UsageError
from mrcnn_tools.genome.fasta import canonical_chrom

VAL_BLOCK = 10_000  # bp; --val-fraction holds out whole blocks so that few windows straddle the split


def labelled(data, path="dataset"):
    """The sites with a label (a view of *data*, nothing copied); refuses a dataset without any."""
    if len(data) == 0:
        raise DatasetError(f"{path}: the dataset is empty; check the mrcnn-encode filters")
    keep = np.isfinite(data.y)
    if not keep.any():
        raise DatasetError(
            f"{path}: no site has a label (all y are NaN, as from mrcnn-encode --all-cpgs); "
            "encode training data with --calls"
        )
    return data if keep.all() else data.rows(keep)


def _chrom_codes(data):
    """(names, int16 code per site, pos) of a Dataset or Rows view; the base's codes are made once."""
    base = getattr(data, "base", data)
    names, codes = base.chrom_codes()
    if base is data:
        return names, codes, base.pos
    return names, codes[data.index], base.pos[data.index]


def _block_ids(names, codes, pos):
    """Index of each site's 10-kb block among the blocks sorted as the strings "chrom:block" sort.

    The string order keeps the blocks that a seed holds out as before; the strings are made once per block,
    not per site. Sorted input (as mrcnn-encode writes it) needs no sort at all.
    """
    key = codes.astype(np.int64)
    key <<= 40
    key |= pos // VAL_BLOCK
    if len(key) < 2 or bool((key[1:] >= key[:-1]).all()):
        new = np.empty(len(key), bool)
        new[:1] = True
        np.not_equal(key[1:], key[:-1], out=new[1:])
        uniq = key[new]
        inverse = np.cumsum(new, dtype=np.int32)
        inverse -= 1
        del new
    else:
        uniq, inverse = np.unique(key, return_inverse=True)
        inverse = inverse.astype(np.int32)
    del key
    text = np.array([f"{names[k >> 40]}:{k & ((1 << 40) - 1)}" for k in uniq.tolist()])
    rank = np.empty(len(uniq), np.int32)
    rank[np.argsort(text, kind="stable")] = np.arange(len(uniq))
    np.take(rank, inverse, out=inverse, mode="clip")  # in place: one int32 per site in all
    return len(uniq), inverse


def split_validation(data, *, validation=None, val_chroms=None, val_fraction=0.0, seed=0):
    """Split off the validation sites, as views (index arrays) of *data*: nothing is copied.

    Parameters
    ----------
    data : Dataset or Rows
    validation : Dataset, optional
        A separate validation dataset (recommended: other chromosomes or regions).
    val_chroms : list of str, optional
        Hold out whole chromosomes.
    val_fraction : float
        Otherwise hold out this fraction of 10-kb blocks, chosen at random with *seed*.

    Returns
    -------
    (train, val or None, description)
    """
    if validation is not None:
        return data, validation, "separate validation dataset"
    if val_chroms:
        keys = {canonical_chrom(c) for c in val_chroms}
        names, codes, _ = _chrom_codes(data)
        mask = np.array([canonical_chrom(str(c)) in keys for c in names], bool)[codes]
        if not mask.any():
            raise UsageError(f"--val-chroms {' '.join(val_chroms)}: no training site lies on these chromosomes")
        if mask.all():
            raise UsageError("--val-chroms holds out every site; leave some chromosomes for training")
        return data.rows(~mask), data.rows(mask), f"chromosomes {', '.join(val_chroms)}"
    if not val_fraction:
        return data, None, "none"
    nblocks, inverse = _block_ids(*_chrom_codes(data))
    rng = np.random.default_rng(seed)
    order = rng.permutation(nblocks)
    sizes = np.bincount(inverse, minlength=nblocks)[order]
    take = order[: int(np.searchsorted(np.cumsum(sizes), val_fraction * len(data))) + 1]
    chosen = np.zeros(nblocks, bool)
    chosen[take] = True
    mask = chosen[inverse]
    del inverse
    if mask.all() or not mask.any():
        raise UsageError(
            f"--val-fraction {val_fraction}: cannot split {len(data)} sites in "
            f"{nblocks} blocks of {VAL_BLOCK} bp; use --validation or --val-chroms"
        )
    return (
        data.rows(~mask),
        data.rows(mask),
        f"{100 * mask.mean():.1f}% of sites in random {VAL_BLOCK // 1000}-kb blocks",
    )


def leaking_sites(train, val, distance):
    """Number of validation sites within *distance* bp of a training site on the same chromosome.

    Vectorised over all chromosomes at once: sites become sorted keys (chromosome << 40 | position), so the
    cost is one sort of the training sites whatever the number of chromosomes.
    """
    tnames, tcodes, tpos = _chrom_codes(train)
    vnames, vcodes, vpos = _chrom_codes(val)
    if len(tpos) == 0 or len(vpos) == 0:
        return 0
    lookup = {str(n): i for i, n in enumerate(tnames)}
    vmap = np.array([lookup.get(str(n), -1) for n in vnames], np.int64)[vcodes]
    tkeys = tcodes.astype(np.int64)
    del tcodes  # the sort below is the peak: one int64 key per training site, nothing else
    tkeys <<= 40
    tkeys |= tpos
    del tpos
    tkeys.sort()
    known = vmap >= 0
    vkeys = (vmap[known] << 40) | vpos[known]
    i = np.searchsorted(tkeys, vkeys)
    near = np.zeros(len(vkeys), bool)
    for j in (np.clip(i - 1, 0, len(tkeys) - 1), np.clip(i, 0, len(tkeys) - 1)):
        t = tkeys[j]
        near |= ((t >> 40) == (vkeys >> 40)) & (np.abs(t - vkeys) < distance)
    return int(near.sum())
