"""mrcnn-filters2meme's work: sites chosen per methylation group, motifs found by one method, written in MEME
format with logos, matched to known motifs, and a t-SNE of the model's features (docs/FORMATS.md §7).

The pieces (MEME I/O, Tomtom, attributions, seqlets, logos, t-SNE) are in :mod:`mrcnn_tools.motifs`; this
module only runs them in order and writes the tables.
"""

import logging
import os
import subprocess
from dataclasses import dataclass, field

import numpy as np

from mrcnn_tools import levels
from mrcnn_tools import motifs as mo
from mrcnn_tools.data.attach import attach_genome
from mrcnn_tools.data.dataset import load_datasets
from mrcnn_tools.errors import MrcnnError
from mrcnn_tools.io import atomic_path
from mrcnn_tools.models.backend import load_tensorflow
from mrcnn_tools.models.files import check_model_fits, load_model, read_model_meta
from mrcnn_tools.motifs.methods import find_group_motifs
from mrcnn_tools.motifs.options import DEFAULTS
from mrcnn_tools.prediction.predict import Predictor
from mrcnn_tools.progress import Progress

log = logging.getLogger(__name__)

# sites of each group in the t-SNE: at most this many; fewer than the minimum make no picture worth drawing (and
# t-SNE's first step keeps 50 principal components)
TSNE_MAX_SITES, TSNE_MIN_SITES = 500, 25


@dataclass
class MotifRun:
    """What :func:`find_motifs` found and wrote.

    ``chosen``: group -> site indices (int64) into the joined datasets; ``motifs``: the Motifs found;
    ``best``: motif name -> best match (dict, Tomtom row); ``significant``: motifs with a match below the
    q-value; ``tsne``: rows of tsne.tsv; ``files``: the paths written.
    """

    chosen: dict
    motifs: list
    best: dict = field(default_factory=dict)
    significant: int = 0
    tsne: list = None
    files: list = field(default_factory=list)


def choose_sites(level, groups, per_group, max_sites, seed):
    """Indices of the sites of each group: at most *per_group* of each, then at most *max_sites* in all.

    Both caps draw a random subset (``numpy.random.default_rng(seed)``) and keep the chosen indices sorted.

    Parameters
    ----------
    level : numpy.ndarray, float (n,)
        True or predicted level; NaN sites are in no group.
    groups : sequence of str
        Names of :data:`mrcnn_tools.levels.NAMES`.

    Returns
    -------
    dict of str -> numpy.ndarray int64
        Only the groups with sites, in the order of *groups*.
    """
    rng = np.random.default_rng(seed)
    chosen = {}
    for g in groups:
        idx = np.flatnonzero(levels.mask(g, level))
        if len(idx) == 0:
            log.warning("warning: group %s has no sites; skipped", g)
            continue
        if len(idx) > per_group:
            idx = np.sort(rng.choice(idx, per_group, replace=False))
        chosen[g] = idx
    total = sum(len(i) for i in chosen.values())
    if max_sites is not None and total > max_sites:
        keep = np.zeros(total, bool)
        keep[rng.choice(total, max_sites, replace=False)] = True
        parts, start = {}, 0
        for g, idx in chosen.items():
            parts[g] = idx[keep[start : start + len(idx)]]
            start += len(idx)
        chosen = {g: i for g, i in parts.items() if len(i)}
    return chosen


def _group_motifs(model, g, seq, other, names, out_dir, opts, files):
    method = opts.method
    if method != "weighted-sequences":
        found = find_group_motifs(
            method,
            model,
            seq,
            g,
            other=other,
            n_motifs=opts.n_motifs,
            width=opts.seqlet_width,
            seed=opts.seed,
            batch_size=opts.batch_size,
        )
        return [mo.Motif(f"{g}_{label}", pwm, n, f"{g}_{method}") for pwm, n, label in found]
    fasta = os.path.join(out_dir, f"{g}.weighted.fa")
    mo.write_weighted_fasta(fasta, seq, mo.sequence_weights(model, seq), names)
    files.append(fasta)
    cmd = mo.meme_command(fasta, os.path.join(out_dir, f"meme_{g}"))
    if not mo.have_meme():
        script = os.path.join(out_dir, f"run_meme_{g}.sh")
        with atomic_path(script) as tmp, open(tmp, "w") as fh:
            fh.write(
                "#!/bin/sh\n# MEME Suite not found on PATH: run this where it is installed\n" + " ".join(cmd) + "\n"
            )
        files.append(script)
        log.info("meme is not on PATH: wrote %s and the command in %s", fasta, script)
        return []
    log.info("running %s", " ".join(cmd))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return [
        mo.Motif(f"{g}_meme{k + 1}", m.pwm, m.nsites, m.name)
        for k, m in enumerate(mo.read_meme(os.path.join(out_dir, f"meme_{g}", "meme.txt")))
    ]


def _write_matches(out_dir, found, matches, best, q_value, files):
    with atomic_path(os.path.join(out_dir, "matches.tsv")) as tmp, open(tmp, "w") as fh:
        fh.write("#motif\tmatch_id\tmatch_name\tp\tE\tq\torientation\n")
        for r in matches:
            if r["significant"]:
                fh.write(
                    f"{r['motif']}\t{r['match_id']}\t{r['match_name']}\t{r['p']:.3g}\t{r['E']:.3g}\t"
                    f"{r['q']:.3g}\t{r['orientation']}\n"
                )
    with atomic_path(os.path.join(out_dir, "matches.md")) as tmp, open(tmp, "w") as fh:
        fh.write("| motif | logo | best match | p-value | q-value |\n|---|---|---|---|---|\n")
        for m in found:
            b = best.get(m.name)
            hit = f"{b['match_id']} {b['match_name']}" if b and b["significant"] else f"none (q >= {q_value:g})"
            fh.write(
                f"| {m.name} | ![{m.name}](logos/{mo.safe_name(m.name)}.png) | {hit} | "
                f"{mo.fmt_p(b['p']) if b else 'NA'} | {mo.fmt_p(b['q']) if b else 'NA'} |\n"
            )
    files += [os.path.join(out_dir, "matches.tsv"), os.path.join(out_dir, "matches.md")]


def _write_motif_table(out_dir, found, best, files):
    path = os.path.join(out_dir, "motifs.tsv")
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        fh.write("#motif\tgroup\twidth\tnsites\tmean_information\tbest_match\tbest_match_name\tp\tq\n")
        for m in found:
            b = best.get(m.name, {})
            fh.write(
                f"{m.name}\t{m.name.split('_')[0]}\t{m.width}\t{m.nsites}\t{mo.information(m.pwm).mean():.3f}\t"
                f"{b.get('match_id', 'NA')}\t{b.get('match_name', 'NA')}\t{mo.fmt_p(b.get('p'))}\t"
                f"{mo.fmt_p(b.get('q'))}\n"
            )
    files.append(path)


def _tsne(model, data, chosen, out_dir, path, seed, files):
    have = {g: len(chosen.get(g, ())) for g in ("hyper", "hypo")}
    if min(have.values()) < TSNE_MIN_SITES:
        log.warning(
            "warning: t-SNE needs at least %d hyper and %d hypo sites, here %d and %d; %s not written (more sites: "
            "--sites-per-group, --max-sites)",
            TSNE_MIN_SITES,
            TSNE_MIN_SITES,
            have["hyper"],
            have["hypo"],
            path,
        )
        return None
    n = min(TSNE_MAX_SITES, have["hyper"], have["hypo"])
    rows = mo.tsne_panels(
        model, data.windows(chosen["hyper"][:n]), data.windows(chosen["hypo"][:n]), seed=seed, path=path
    )
    table = os.path.join(out_dir, "tsne.tsv")
    with atomic_path(table) as tmp, open(tmp, "w") as fh:
        fh.write("#panel\tsilhouette\tn_hyper\tn_hypo\n")
        for r in rows:
            fh.write(f"{r['panel']}\t{r['silhouette']:.4f}\t{r['n_hyper']}\t{r['n_hypo']}\n")
    files += [path, table]
    return rows


def find_motifs(model_path, datasets, out_dir, options=DEFAULTS):
    """Find the motifs a Keras model uses per methylation group and write them into *out_dir*.

    Parameters
    ----------
    model_path : str
        Keras model (mrcnn or simple-cnn) from mrcnn-train.
    datasets : sequence of str
        Dataset NPZ files or shards (joined) with stored windows.
    out_dir : str
        Created with its parents when absent; motifs.meme is always written (a valid MEME file with no motif when
        none is found).
    options : MotifOptions
        Groups, method, sites, matching and t-SNE (:class:`mrcnn_tools.motifs.options.MotifOptions`, whose
        defaults are mrcnn-filters2meme's).

    Returns
    -------
    MotifRun

    Raises
    ------
    MrcnnError
        A k-mer model; a model that does not fit the data; no labels (by truth); no site in any group.
        subprocess.CalledProcessError when ``meme`` fails.
    """

    opts = options
    if opts.jaspar or opts.motif_db:
        mo.require_memelite()  # an optional dependency: say so before any work
    meta = read_model_meta(model_path)
    if meta.get("arch") == "kmer-gbr":
        raise MrcnnError(
            f"{model_path}: a k-mer GBR model has no convolution filters; give a Keras model "
            "(--arch mrcnn or simple-cnn)"
        )
    data = load_datasets(list(datasets))
    check_model_fits(meta, data.meta, data.window, model_path, datasets[0])
    attach_genome(data, None, datasets[0])  # sites-only data: says that windows are needed
    database = mo.read_meme(opts.motif_db) if opts.motif_db else None
    os.makedirs(out_dir, exist_ok=True)
    load_tensorflow(opts.threads)
    model, meta = load_model(model_path, threads=opts.threads)
    if opts.by == "prediction":
        level = Predictor(model, meta, batch_size=opts.batch_size).predict(data.windows())
    else:
        level = data.y
        if not np.isfinite(level).any():
            raise MrcnnError(f"{datasets[0]}: no labels to group by; use --by prediction for unlabelled data")
    chosen = choose_sites(level, opts.groups, opts.sites_per_group, opts.max_sites, opts.seed)
    if not chosen:
        raise MrcnnError(f"{datasets[0]}: none of the groups {', '.join(opts.groups)} has sites")
    run = MotifRun(chosen, [])
    background = mo.background_frequencies(data.windows(np.concatenate(list(chosen.values()))))
    enabled = log.isEnabledFor(logging.INFO)
    with Progress(f"motifs ({opts.method})", total=len(chosen), unit="group", log=log, enabled=enabled) as progress:
        for g, idx in chosen.items():
            names = [f"{c}:{p}" for c, p in zip(data.chrom[idx], data.pos[idx])]
            rest = [i for h, i in chosen.items() if h != g]  # the background of enrichment: the other groups' windows
            other = data.windows(np.concatenate(rest)) if rest else None
            run.motifs += _group_motifs(model, g, data.windows(idx), other, names, out_dir, opts, run.files)
            progress.update(1, note=f"{g} done: {len(run.motifs)} motifs so far")
    meme_path = os.path.join(out_dir, "motifs.meme")
    mo.write_meme(run.motifs, meme_path, background)
    run.files.append(meme_path)
    for m in run.motifs:
        os.makedirs(os.path.join(out_dir, "logos"), exist_ok=True)
        run.files.append(os.path.join(out_dir, "logos", f"{mo.safe_name(m.name)}.png"))
        mo.logo(m, run.files[-1])
    if opts.jaspar:
        database = mo.jaspar_motifs()
    matches = mo.match(run.motifs, database, opts.q_value) if (database and run.motifs) else []
    for r in matches:
        run.best.setdefault(r["motif"], r)
    run.significant = sum(1 for r in run.best.values() if r["significant"])
    _write_motif_table(out_dir, run.motifs, run.best, run.files)
    if database is not None:
        _write_matches(out_dir, run.motifs, matches, run.best, opts.q_value, run.files)
    if opts.tsne:
        run.tsne = _tsne(model, data, chosen, out_dir, opts.tsne, opts.seed, run.files)
    return run
