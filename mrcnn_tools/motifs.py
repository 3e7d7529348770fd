"""Motifs a model learned: attribution seqlets, first-layer activations, weighted sequences for MEME; MEME
minimal format I/O; matching to known motifs with Tomtom (memelite); logos."""

import logging
import math
import re
import shutil
from dataclasses import dataclass

import numpy as np

from .encoding import ALPHABET, N
from .errors import InputFormatError, ModelError

log = logging.getLogger(__name__)

MEME_ORDER = "ACGT"
# column k of a code-ordered matrix (T, C, G, A) goes to MEME column _TO_MEME[k]
_CODE_TO_MEME = [ALPHABET.index(b) for b in MEME_ORDER]


@dataclass
class Motif:
    """A position weight matrix.

    Attributes
    ----------
    name : str
    pwm : numpy.ndarray float64 (width, 4), letter probabilities in MEME order A, C, G, T; rows sum to 1
    nsites : int
    alt : str, optional
    """

    name: str
    pwm: np.ndarray
    nsites: int = 0
    alt: str = ""

    @property
    def width(self):
        return len(self.pwm)


def pwm_from_onehot(onehot, pseudocount=0.5):
    """PWM (width, 4) in MEME order from one-hot seqlets (n, width, 4) in code order (T, C, G, A)."""
    counts = onehot.sum(0, dtype=np.float64)[:, _CODE_TO_MEME] + pseudocount
    return counts / counts.sum(1, keepdims=True)


def information(pwm, background=None):
    """Information content (bits) of each row of a PWM."""
    bg = np.full(4, 0.25) if background is None else np.asarray(background)
    return np.sum(pwm * np.log2(np.clip(pwm, 1e-9, None) / bg), axis=1)


def trim(pwm, min_ic=0.25, min_width=6):
    """Cut low-information columns off both ends, keeping at least *min_width* columns."""
    ic = information(pwm)
    lo, hi = 0, len(pwm)
    while hi - lo > min_width and ic[lo] < min_ic:
        lo += 1
    while hi - lo > min_width and ic[hi - 1] < min_ic:
        hi -= 1
    return pwm[lo:hi]


def background_frequencies(seq):
    """A, C, G, T frequencies of uint8 codes (N ignored)."""
    counts = np.bincount(seq[seq < N].ravel(), minlength=4).astype(np.float64)[_CODE_TO_MEME]
    return counts / max(counts.sum(), 1)


def write_meme(motifs, path, background):
    """Write motifs in MEME minimal motif format, version 4 (readable by MEME Suite, Tomtom, Bio.motifs)."""
    from .io import atomic_path

    names = [m.name for m in motifs]
    if len(set(names)) != len(names):
        raise ValueError("motif names must be unique")
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        fh.write("MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\nBackground letter frequencies\n")
        fh.write(" ".join(f"{b} {f:.4f}" for b, f in zip(MEME_ORDER, background)) + "\n\n")
        for m in motifs:
            fh.write(f"MOTIF {m.name}{(' ' + m.alt) if m.alt else ''}\n")
            fh.write(f"letter-probability matrix: alength= 4 w= {m.width} nsites= {m.nsites} E= 0\n")
            for row in m.pwm:
                row = np.asarray(row, np.float64)
                fh.write(" " + "  ".join(f"{v:.6f}" for v in row / row.sum()) + "\n")
            fh.write("\n")
    return path


def read_meme(path):
    """Read motifs from a MEME minimal format file (as written by MEME, JASPAR or :func:`write_meme`)."""
    from .io import iter_lines

    motifs, name, alt, rows, want, nsites = [], None, "", [], 0, 0
    saw_version = False
    for lineno, line in iter_lines(path):
        text = line.strip()
        if text.startswith("MEME version"):
            saw_version = True
        elif text.startswith("MOTIF"):
            parts = text.split()
            if len(parts) < 2:
                raise InputFormatError("MOTIF line without a name", path, lineno)
            name, alt, rows = parts[1], " ".join(parts[2:]), []
        elif text.startswith("letter-probability matrix"):
            if name is None:
                raise InputFormatError("a matrix before any MOTIF line", path, lineno)
            m = re.search(r"w=\s*(\d+)", text)
            want = int(m[1]) if m else 0
            s = re.search(r"nsites=\s*([\d.]+)", text)
            nsites = int(float(s[1])) if s else 0
            if want == 0:
                raise InputFormatError("letter-probability matrix without w=", path, lineno)
        elif want and text:
            try:
                values = [float(v) for v in text.split()]
            except ValueError:
                raise InputFormatError(f"'{text[:40]}' is not a row of 4 probabilities", path, lineno) from None
            if len(values) != 4:
                raise InputFormatError(f"{len(values)} values in a matrix row, expected 4 (A C G T)", path, lineno)
            rows.append(values)
            if len(rows) == want:
                pwm = np.array(rows)
                motifs.append(Motif(name, pwm / pwm.sum(1, keepdims=True), nsites, alt))
                want = 0
    if not saw_version or not motifs:
        raise InputFormatError("not a MEME motif file (needs 'MEME version' and MOTIF ... letter-probability "
                               "matrix blocks); convert it with the MEME Suite (e.g. jaspar2meme)", path)
    return motifs


def jaspar_motifs(collection="CORE", tax_group="vertebrates"):
    """JASPAR CORE vertebrate motifs from the pyjaspar package (bundled database, no network)."""
    try:
        from pyjaspar import jaspardb
    except ImportError:
        raise ModelError("--jaspar needs the pyjaspar package; pip install pyjaspar, or give --motif-db") from None
    db = jaspardb()
    out = []
    for m in db.fetch_motifs(collection=collection, tax_group=[tax_group]):
        counts = np.array([m.counts[b] for b in MEME_ORDER], np.float64).T + 0.1
        out.append(Motif(m.matrix_id, counts / counts.sum(1, keepdims=True), int(sum(m.counts["A"][0:1]) or 0),
                         m.name))
    log.info("matching against %d motifs of %s %s %s", len(out), db.release, collection, tax_group)
    return out


MEMELITE_INSTALL = "pip install 'mrcnn-tools[motifs]' (or pip install memelite)"


def require_memelite():
    """Refuse Tomtom matching up front when memelite, an optional dependency, is not installed.

    memelite is on PyPI only (neither conda-forge nor bioconda), so a conda install lacks it.

    Raises
    ------
    MrcnnError
        Naming the install command.
    """
    try:
        import memelite  # noqa: F401
    except ImportError:
        from .errors import MrcnnError

        raise MrcnnError("matching motifs (--jaspar, --motif-db) needs the optional package memelite, which is not "
                         f"installed; install it with {MEMELITE_INSTALL}, or leave out --jaspar/--motif-db") from None


def match(motifs, database, q_threshold=0.05):
    """Compare motifs with a database using Tomtom (memelite), q-values by Benjamini-Hochberg per query.

    Returns
    -------
    list of dict(motif, match_id, match_name, p, E, q, orientation, offset, overlap), sorted by motif and p
    """
    import warnings

    require_memelite()
    from memelite import tomtom

    if not motifs or not database:
        return []
    queries = [np.ascontiguousarray(m.pwm.T) for m in motifs]
    targets = [np.ascontiguousarray(t.pwm.T) for t in database]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, _, offsets, overlaps, strands = tomtom(queries, targets)[:5]
    rows = []
    n_t = len(database)
    for i, m in enumerate(motifs):
        pv = np.asarray(p[i], np.float64)
        order = np.argsort(pv)
        ranked = pv[order]
        q = np.minimum.accumulate((ranked * n_t / np.arange(1, n_t + 1))[::-1])[::-1]
        for rank, j in enumerate(order):
            if q[rank] >= q_threshold and rank > 0:
                break
            rows.append({"motif": m.name, "match_id": database[j].name, "match_name": database[j].alt,
                         "p": float(pv[j]), "E": float(pv[j] * n_t), "q": float(min(q[rank], 1.0)),
                         "orientation": "-" if strands[i][j] else "+", "offset": int(offsets[i][j]),
                         "overlap": int(overlaps[i][j]), "significant": bool(q[rank] < q_threshold)})
    return rows


def input_model(model, from_layer="one_hot"):
    """The part of a chain Keras model after *from_layer*, taking float one-hot (n, W, 4) input."""
    import keras

    names = [layer.name for layer in model.layers]
    if from_layer not in names:
        raise ModelError(f"the model has no '{from_layer}' layer; motifs need a model from mrcnn-train")
    start = names.index(from_layer) + 1
    inp = keras.Input(tuple(model.get_layer(from_layer).output.shape[1:]))
    x = inp
    for layer in model.layers[start:]:
        x = layer(x)
    return keras.Model(inp, x)


def onehot(seq):
    """float32 (n, W, 4) one-hot in code order; N rows zero."""
    from .encoding import one_hot

    return one_hot(seq)


def layer_outputs(model, seq, names, batch_size=256):
    """Outputs of the named layers of a chain Keras model for windows *seq*, applied eagerly after the one-hot.

    Returns
    -------
    dict name -> numpy.ndarray (n, ...)
    """
    layers = [layer for layer in model.layers if type(layer).__name__ not in ("InputLayer",)]
    start = [layer.name for layer in layers].index("one_hot") + 1
    last = max(i for i, layer in enumerate(layers) if layer.name in names)
    out = {name: [] for name in names}
    for i in range(0, len(seq), batch_size):
        x = onehot(seq[i:i + batch_size])
        for layer in layers[start:last + 1]:
            x = layer(x, training=False)
            if layer.name in out:
                out[layer.name].append(np.asarray(x))
    return {k: np.concatenate(v) for k, v in out.items()}


def attributions(model, seq, batch_size=256):
    """Gradient x input per position, summed over the 4 channels.

    Returns
    -------
    numpy.ndarray, float32, shape (n, W)
    """
    import tensorflow as tf

    sub = input_model(model)
    out = np.empty(seq.shape, np.float32)
    for i in range(0, len(seq), batch_size):
        x = tf.convert_to_tensor(onehot(seq[i:i + batch_size]))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(sub(x, training=False))
        g = tape.gradient(y, x)
        out[i:i + batch_size] = tf.reduce_sum(g * x, axis=-1).numpy()
    return out


def seqlets(seq, scores, width=15, per_seq=1, keep_fraction=0.5):
    """Windows of highest summed contribution, at most *per_seq* per sequence (no overlap); the top
    *keep_fraction* of them by score.

    Returns
    -------
    numpy.ndarray uint8 (k, width), codes of the seqlets
    """
    kernel = np.ones(width, np.float32)
    found = []
    for r in range(len(seq)):
        s = np.convolve(scores[r], kernel, mode="valid")
        s = s.copy()
        for _ in range(per_seq):
            j = int(np.argmax(s))
            if not np.isfinite(s[j]):
                break
            found.append((float(s[j]), r, j))
            s[max(0, j - width + 1):j + width] = -np.inf
    if not found:
        return np.empty((0, width), np.uint8)
    found.sort(reverse=True)
    found = found[: max(1, int(len(found) * keep_fraction))]
    return np.stack([seq[r, j:j + width] for _, r, j in found])


def orient(x, iters=5):
    """Flip one-hot seqlets (n, w, 4, code order) onto one strand: a motif found in both orientations would
    otherwise blur into a palindrome. Starts from the highest-scoring seqlet (the first) and refines.

    In code order T, C, G, A the complement is the reversed channel axis, so the reverse complement of a
    one-hot seqlet is ``x[::-1, ::-1]``.
    """
    if len(x) == 0:
        return x
    rc = x[:, ::-1, ::-1]
    flip = np.zeros(len(x), bool)
    ref = x[0] + 0.1
    for _ in range(iters):
        logp = np.log(ref / ref.sum(1, keepdims=True))
        new = np.einsum("nwc,wc->n", rc, logp) > np.einsum("nwc,wc->n", x, logp)
        if (new == flip).all() and _:
            break
        flip = new
        ref = np.where(flip[:, None, None], rc, x).sum(0) + 0.5
    return np.where(flip[:, None, None], rc, x)


def cluster_seqlets(lets, n_motifs=4, seed=0, min_sites=10):
    """k-means of one-hot seqlets into PWMs (MEME order), biggest cluster first.

    Returns
    -------
    list of (pwm (w, 4), nsites)
    """
    from sklearn.cluster import KMeans

    if len(lets) < min_sites:
        return []
    x = orient(onehot(lets))
    k = max(1, min(n_motifs, len(lets) // min_sites))
    labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(x.reshape(len(x), -1))
    out = []
    for c in range(k):
        members = x[labels == c]
        if len(members) >= min_sites:
            out.append((trim(pwm_from_onehot(members)), len(members)))
    out.sort(key=lambda t: -t[1])
    return out


def activation_motifs(model, seq, fraction=0.5, max_sites=2000, batch_size=256):
    """DeepCpG-style: for each first-layer filter (width > 1), the windows that activate it above *fraction* of
    its maximum, aligned into a PWM.

    Returns
    -------
    list of (filter index, pwm (width, 4), nsites)
    """
    layer = _first_conv(model)
    width = int(layer.kernel.shape[0]) if len(layer.kernel.shape) == 3 else 1
    if width <= 1:
        raise ModelError("--method activation needs a first convolution wider than 1 bp (e.g. --arch simple-cnn); "
                         "MRCNN's 1x4 first layer sees one base: use --method attribution")
    acts = layer_outputs(model, seq, [layer.name], batch_size)[layer.name]
    out = []
    for f in range(acts.shape[2]):
        a = acts[:, :, f]
        top = a.max()
        if top <= 0:
            continue
        rows, cols = np.nonzero(a > fraction * top)
        if len(rows) > max_sites:
            keep = np.argsort(a[rows, cols])[::-1][:max_sites]
            rows, cols = rows[keep], cols[keep]
        if len(rows) < 10:
            continue
        windows = np.stack([seq[r, c:c + width] for r, c in zip(rows, cols)])
        out.append((f, pwm_from_onehot(onehot(windows)), len(rows)))
    return out


def _first_conv(model):
    for layer in model.layers:
        if "conv" in type(layer).__name__.lower():
            return layer
    raise ModelError("the model has no convolution layer")


def sequence_weights(model, seq):
    """The paper's weighting: each base scored by the first-layer filter weights of its letter (the strongest
    filter), averaged over the window and scaled into (0, 1].

    Returns
    -------
    numpy.ndarray float64 (n,)
    """
    layer = _first_conv(model)
    kernel = np.asarray(layer.kernel)
    # (1, 4, 1, F) for MRCNN's 1x4 convolution, (k, 4, F) for a Conv1D: per-letter weight = mean over width
    per_letter = kernel.reshape(-1, 4, kernel.shape[-1]).mean(0) if kernel.ndim == 3 else kernel[0, :, 0, :]
    strength = np.abs(per_letter).max(1)  # (4,) in code order
    table = np.r_[strength, 0.0]
    raw = table[seq].mean(1)
    lo, hi = raw.min(), raw.max()
    w = (raw - lo) / (hi - lo) if hi > lo else np.ones(len(raw))
    return np.clip(w, 1e-3, 1.0)


def write_weighted_fasta(path, seq, weights, names):
    """FASTA with MEME's ``>WEIGHTS`` lines, as MEME reads sequence weights."""
    from .encoding import decode
    from .io import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        for i in range(0, len(weights), 20):
            fh.write(">WEIGHTS " + " ".join(f"{w:.4f}" for w in weights[i:i + 20]) + "\n")
        for name, s in zip(names, seq):
            text = decode(s)
            fh.write(f">{name}\n" + "\n".join(text[i:i + 80] for i in range(0, len(text), 80)) + "\n")
    return path


def meme_command(fasta, out_dir, nmotifs=5):
    return ["meme", fasta, "-dna", "-revcomp", "-oc", out_dir, "-mod", "zoops", "-nmotifs", str(nmotifs),
            "-minw", "6", "-maxw", "20", "-markov_order", "0", "-nostatus"]


def have_meme():
    return shutil.which("meme") is not None


def logo(motif, path):
    """Sequence logo (information content) of a motif, as PNG (logomaker)."""
    import matplotlib

    matplotlib.use("Agg")
    import logomaker
    import matplotlib.pyplot as plt
    import pandas as pd

    from .io import atomic_path

    pwm = np.asarray(motif.pwm, np.float64)
    bits = np.clip(2.0 + np.sum(pwm * np.log2(np.clip(pwm, 1e-9, None)), axis=1), 0, None)
    info = pd.DataFrame(pwm * bits[:, None], columns=list(MEME_ORDER))
    fig, ax = plt.subplots(figsize=(max(3, 0.45 * motif.width + 1), 2.4))
    logomaker.Logo(info, ax=ax, color_scheme="classic")
    ax.set_ylim(0, 2)
    ax.set_ylabel("bits")
    ax.set_title(f"{motif.name} (n={motif.nsites})", fontsize=10)
    ax.set_xticks([])
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight", dpi=100)
    plt.close(fig)
    return path


def tsne_panels(model, hyper, hypo, seed=0, path=None):
    """t-SNE of hyper vs hypo windows on the raw one-hot input, the first-layer features and the last hidden
    layer (paper Fig. 5), with a silhouette score per panel.

    Returns
    -------
    list of dict(panel, silhouette, n_hyper, n_hypo)
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from sklearn.metrics import silhouette_score

    seq = np.concatenate([hyper, hypo])
    labels = np.r_[np.ones(len(hyper), int), np.zeros(len(hypo), int)]
    first = _first_conv(model)
    dense = [layer.name for layer in model.layers if type(layer).__name__ == "Dense"]
    names = [first.name] + ([dense[-2]] if len(dense) >= 2 else [])
    outs = layer_outputs(model, seq, names)
    panels = {"one-hot input": onehot(seq).reshape(len(seq), -1),
              "first-layer features": outs[first.name],
              "last hidden layer": outs.get(dense[-2]) if len(dense) >= 2 else None}
    rows, embeds = [], {}
    for name, feats in panels.items():
        if feats is None:
            continue
        feats = feats.reshape(len(feats), -1)
        if feats.shape[1] > 50:
            feats = PCA(50, random_state=seed).fit_transform(feats)
        emb = TSNE(2, random_state=seed, init="pca", perplexity=min(30, max(5, len(feats) // 4))).fit_transform(feats)
        embeds[name] = emb
        rows.append({"panel": name, "silhouette": float(silhouette_score(emb, labels)),
                     "n_hyper": int(len(hyper)), "n_hypo": int(len(hypo))})
    if path:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from .io import atomic_path

        fig, axes = plt.subplots(1, len(embeds), figsize=(4.6 * len(embeds), 4.4), squeeze=False)
        for ax, (name, emb), row in zip(axes[0], embeds.items(), rows):
            ax.scatter(*emb[labels == 1].T, s=6, c="C3", label="hyper (> 0.9)", alpha=0.7)
            ax.scatter(*emb[labels == 0].T, s=6, c="C0", label="hypo (< 0.1)", alpha=0.7)
            ax.set_title(f"{name}\nsilhouette {row['silhouette']:.3f}")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0][0].legend(frameon=False, fontsize=9)
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, format="png", bbox_inches="tight", dpi=100)
        plt.close(fig)
    return rows


def safe_name(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def fmt_p(v):
    return "NA" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3g}"

