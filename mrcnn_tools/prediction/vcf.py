"""Variants in: VCF or BCF, plain or bgzip, read with pysam one record at a time (bounded memory).

Each record is split into one :class:`Variant` per ALT allele (multi-allelic records); REF and ALT are trimmed of
the bases they share (suffix, then prefix), so that an indel is the bases it removes (``ref``) and inserts
(``alt``) at 0-based ``start`` of the chromosome. Symbolic alleles (``<DEL>``, ``*``, breakends), alleles with
letters other than ACGTN and changes longer than the model's flank are counted and skipped.
"""

import contextlib
import gzip
import os
import shutil
import tempfile
from dataclasses import dataclass

import numpy as np

from mrcnn_tools.encoding import N, decode, encode_bytes
from mrcnn_tools.errors import GenomeMismatchError, InputFormatError
from mrcnn_tools.genome.bgzf import is_bgzf
from mrcnn_tools.io import check_readable, is_gzip

_BASES = frozenset("ACGTN")
MISMATCHES_NAMED = 3  # records named in the REF mismatch error


@dataclass
class Variant:
    """One ALT allele of a VCF record, trimmed.

    Attributes
    ----------
    chrom : str
        As the VCF names it.
    pos : int
        1-based POS of the record, as in the VCF.
    id, ref_text, alt_text, filter : str
        ID (``.`` when none), REF and this ALT as written, FILTER (``PASS``, ``.``, or ``;``-joined names).
    start : int
        0-based position of the first changed reference base (of the insertion point for an insertion).
    ref, alt : numpy.ndarray, uint8 (r,), (a,)
        The changed bases as codes after trimming (r = 0: insertion; a = 0: deletion).
    """

    chrom: str
    pos: int
    id: str
    ref_text: str
    alt_text: str
    filter: str
    start: int
    ref: np.ndarray
    alt: np.ndarray

    @property
    def is_snv(self):
        return len(self.ref) == 1 and len(self.alt) == 1

    def name(self):
        return f"{self.chrom}:{self.pos} {self.ref_text}>{self.alt_text}"


def _starts_with(path, prefix):
    with open(path, "rb") as fh:
        return fh.read(len(prefix)) == prefix


def trim(pos0, ref, alt):
    """Remove the bases REF and ALT share: suffix first, then prefix.

    Returns
    -------
    (start, ref, alt) : (int, str, str)
        0-based start of the changed bases and the changed bases themselves.
    """
    while ref and alt and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    k = 0
    while k < len(ref) and k < len(alt) and ref[k] == alt[k]:
        k += 1
    return pos0 + k, ref[k:], alt[k:]


def _skip_reason(ref, alt, max_change):
    if alt is None or alt in (".", "*") or alt.startswith("<") or "[" in alt or "]" in alt:
        return "symbolic ALT"
    if not set(ref) <= _BASES or not set(alt) <= _BASES:
        return "letters other than ACGTN"
    if max(len(ref), len(alt)) > max_change + 1:
        return f"longer than {max_change} bases"
    return None


class VariantReader:
    """Stream the variants of a VCF/BCF file.

    Parameters
    ----------
    path : str
        VCF or BCF, plain or bgzip-compressed.
    max_change : int
        Alleles changing more bases than this (the model's flank) are skipped.

    Attributes
    ----------
    records : int
        VCF records read.
    skipped : dict
        Reason -> number of alleles skipped.
    """

    def __init__(self, path, max_change=200):
        self.path, self.max_change = path, max_change
        self.records = 0
        self.skipped = {}

    def _open(self):
        import pysam  # noqa: PLC0415 (heavy: only when variants are read)

        check_readable(self.path, "VCF")
        if os.path.isdir(self.path):
            raise InputFormatError("a directory, not a VCF file; give a .vcf, .vcf.gz or .bcf file", self.path)
        pysam.set_verbosity(0)  # htslib's warnings (contigs not in the header) are not the user's concern here
        path = self.path
        plain_gzip = os.path.isfile(path) and is_gzip(path) and not is_bgzf(path)
        if plain_gzip or (os.path.isfile(path) and not is_gzip(path) and not _starts_with(path, b"##fileformat")):
            # htslib reads neither plain gzip (only bgzip) nor a VCF without its ##fileformat line (a hand-made
            # one): such a file is copied, as read, to a temporary file that it can read
            self._plain = tempfile.NamedTemporaryFile(suffix=".vcf")
            try:
                with gzip.open(path, "rb") if plain_gzip else open(path, "rb") as src:
                    head = src.read(12)
                    if head != b"##fileformat" and head[:6] == b"#CHROM":
                        self._plain.write(b"##fileformat=VCFv4.2\n")
                    self._plain.write(head)
                    shutil.copyfileobj(src, self._plain, 1 << 20)
                self._plain.flush()
            except BaseException as exc:  # a bad file, a full disk, a signal: the copy goes at once
                self._plain.close()
                if isinstance(exc, (OSError, EOFError)):
                    raise InputFormatError(f"not a readable gzip file ({exc}); check the download", self.path) from None
                raise
            path = self._plain.name
        try:
            return pysam.VariantFile(path)
        except (ValueError, OSError, NotImplementedError) as exc:
            if self._plain is not None:
                self._plain.close()
            raise InputFormatError(
                f"not a readable VCF/BCF file{'' if self._plain else f' ({exc})'}; give a VCF (plain or bgzip) or a "
                "BCF with its '#CHROM' header",
                self.path,
            ) from None

    def skip(self, reason, n=1):
        self.skipped[reason] = self.skipped.get(reason, 0) + n

    def __iter__(self):
        """Yield :class:`Variant`, one per ALT allele, in file order."""
        self._plain = None
        vf = self._open()
        with vf, contextlib.ExitStack() as stack:
            if self._plain is not None:
                stack.callback(self._plain.close)
            it = iter(vf)
            while True:
                try:
                    rec = next(it)
                except StopIteration:
                    return
                except (ValueError, OSError, NotImplementedError) as exc:
                    where = f"after record {self.records} " if self.records else ""
                    raise InputFormatError(
                        f"{where}a record is not valid VCF ({exc}); check the file (bcftools view) and rerun",
                        self.path,
                    ) from None
                self.records += 1
                ref = (rec.ref or "").upper()
                filt = ";".join(rec.filter.keys()) or "."
                for alt_text in rec.alts or (None,):
                    alt = alt_text.upper() if alt_text else None
                    why = _skip_reason(ref, alt, self.max_change)
                    if why:
                        self.skip(why)
                        continue
                    start, r, a = trim(rec.pos - 1, ref, alt)
                    if not r and not a:
                        self.skip("ALT equal to REF")
                        continue
                    ref_codes, alt_codes = encode_bytes(r), encode_bytes(a)
                    yield Variant(
                        rec.chrom, rec.pos, rec.id or ".", rec.ref, alt_text, filt, start, ref_codes, alt_codes
                    )


def ref_mismatch(codes, variant):
    """Whether *variant*'s REF disagrees with the chromosome *codes* (uint8 (L,)): a base other than N in both
    that differs, or REF beyond the chromosome's end. The trimmed bases are checked (the shared ones too, below)."""
    ref = encode_bytes(variant.ref_text.upper())
    p0 = variant.pos - 1
    if p0 < 0 or p0 + len(ref) > len(codes):
        return True
    genome = codes[p0 : p0 + len(ref)]
    known = (ref != N) & (genome != N)
    return bool((ref[known] != genome[known]).any())


def in_gap(codes, variant):
    """Whether every reference base the variant changes (or, for an insertion, both neighbours) is N."""
    lo, hi = variant.start, variant.start + max(len(variant.ref), 1)
    if not len(variant.ref):
        lo = max(lo - 1, 0)
    return bool((codes[lo:hi] == N).all()) if hi > lo else True


def _mismatch_error(path, fasta, named, checked):
    where = "; ".join(named)
    return GenomeMismatchError(
        f"{path}: REF disagrees with the genome {fasta} ({where}; {len(named)} of the first {checked} variants): "
        "the VCF is probably on another assembly (e.g. GRCh38 vs hg19) or another version of it; give the FASTA "
        "the variants were called on, or --skip-ref-mismatch to skip such records"
    )


def checked_variants(reader, genome, result, skip_mismatch, vcf_path):
    """The variants of *reader* on the genome's chromosomes, their REF checked against it.

    Yields
    ------
    (Variant, str)
        Each variant with the FASTA's name of its chromosome.
    """
    named, checked, first = [], 0, 0
    for v in reader:
        result.variants += 1
        chrom = genome.resolve(v.chrom)
        if chrom is None:
            reader.skip("chromosome not in the genome")
            continue
        codes = genome.codes(chrom)
        checked += 1
        if ref_mismatch(codes, v):
            result.ref_mismatches += 1
            if not skip_mismatch:
                named.append(f"{v.name()}, genome {_genome_text(codes, v)}")
                if len(named) >= MISMATCHES_NAMED:
                    break
            continue
        if named:
            if checked - first > 10000:  # enough to name the first ones; the rest of the file is not needed
                break
            continue
        first = checked
        if in_gap(codes, v):
            reader.skip("in an N gap of the genome")
            continue
        yield v, chrom
    if named:
        raise _mismatch_error(vcf_path, genome.path, named, checked)


def _genome_text(codes, v):
    p0 = v.pos - 1
    return decode(codes[p0 : p0 + len(v.ref_text)]) if 0 <= p0 < len(codes) else "beyond its end"
