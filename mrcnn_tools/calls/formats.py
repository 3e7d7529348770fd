"""The methylation-call formats: one table of producers (detection from the content: calls/detect.py; reading
the tables in chunks: calls/tables.py).

Each :class:`Producer` names the tool that writes a format, its documented columns, its coordinate base and
what "coverage" means in it; the README's format table is this table. Detection looks at the content, never at
the file name: quotes, CRLF line ends, a UTF-8 byte order mark, header and ``track`` lines and trailing tabs are
tolerated, and fields may be separated by tabs or spaces (older modkit releases separate the columns after the
10th by spaces).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Producer:
    """One calls format: who writes it, its columns, coordinates and the meaning of coverage."""

    name: str
    tool: str
    columns: str
    coords: str
    coverage: str


PRODUCERS = (
    Producer(
        "bismark-cov",
        "Bismark `bismark_methylation_extractor`/`bismark2bedGraph` `.cov`",
        "chrom, start, end (= start), percent, count_m, count_u",
        "1-based",
        "count_m + count_u",
    ),
    Producer(
        "bismark-merged-cov",
        "Bismark `coverage2cytosine --merge_CpG` `.merged_CpG_evidence.cov`",
        "chrom, start (C), end (G, = start + 1), percent, count_m, count_u; strands already merged",
        "1-based",
        "count_m + count_u (both strands)",
    ),
    Producer(
        "bismark-cpg-report",
        "Bismark `coverage2cytosine` CpG report, `--CX` report (CG rows kept), "
        "`--ffs` report (10 columns); MethylDackel `--cytosine_report`",
        "chrom, pos, strand, count_m, count_u, context (CG/CHG/CHH), trinucleotide[, 3 flanking sequences]",
        "1-based",
        "count_m + count_u",
    ),
    Producer(
        "bismark-cpg-report-zero-based",
        "Bismark `coverage2cytosine --zero_based` CpG/CX report",
        "as bismark-cpg-report",
        "0-based",
        "count_m + count_u",
    ),
    Producer(
        "methyldackel",
        "MethylDackel `extract` bedGraph (with or without `--mergeContext`)",
        "`track` line, then chrom, start, end, percent, count_m, count_u",
        "0-based",
        "count_m + count_u",
    ),
    Producer(
        "methylkit",
        "methylKit text (`read`), MethylDackel `--methylKit`",
        "header chrBase, chr, base, strand (F/R), coverage, freqC (percent), freqT",
        "1-based",
        "coverage column; level = freqC / 100",
    ),
    Producer(
        "bedmethyl",
        "ENCODE bedMethyl (BED9+2)",
        "chrom, start, end, name, score, strand, thickStart, thickEnd, rgb, coverage, percent",
        "0-based",
        "column 10 (reads); level = percent / 100",
    ),
    Producer(
        "modkit",
        "modkit `pileup` bedMethyl (18 columns; after the 10th tabs or spaces; optional header)",
        "chrom, start, end, mod code (m, h, C or m,CG,0), score, strand (+ - .), thickStart, thickEnd, rgb, "
        "Nvalid_cov, percent, Nmod, Ncanonical, Nother_mod, Ndelete, Nfail, Ndiff, Nnocall",
        "0-based",
        "Nvalid_cov of the chosen code (`--mod-code`, default m); level = Nmod / Nvalid_cov",
    ),
    Producer(
        "modbam2bed",
        "epi2me modbam2bed `-e` extended bedMethyl (14 columns; 16 from release 0.9)",
        "BED9, read depth, percent, Ncanonical, Nmod, Nfiltered[, Nnocall, Naltmod]",
        "0-based",
        "Ncanonical + Nmod (column 10 counts filtered, substituted and deleted reads too); "
        "level = Nmod / (Ncanonical + Nmod)",
    ),
    Producer(
        "cgmap",
        "BSseeker2 / CGmapTools CGmap",
        "chrom, base (C +, G -), pos, context (CG/CHG/CHH; CG kept), dinucleotide, level, count_m, count_total",
        "1-based",
        "count_total (C + T reads)",
    ),
    Producer(
        "allc",
        "methylpy allc",
        "chrom, pos, strand, context (CGN kept), count_m, coverage, significant[, matches, mismatches]",
        "1-based",
        "coverage column",
    ),
    Producer(
        "biscuit",
        "BISCUIT `vcf2bed` / `mergecg` bed (beta + coverage; with `-e` the context columns)",
        "chrom, start, end[, ref base, context, ...], beta (0..1), coverage",
        "0-based",
        "coverage column; level = beta",
    ),
    Producer(
        "counts",
        "count tables of methrix/bsseq exports",
        "chrom, pos, M, U (with or without header; a header naming the 4th column Cov: total reads; without "
        "a header, some row must have M < U, else it could be dss: give --calls-format)",
        "1-based",
        "M + U (or Cov)",
    ),
    Producer(
        "dss",
        "DSS / bsseq input tables (`DSS::makeBSseqData`, `DMLtest`)",
        "header chr, pos, N (total reads), X (methylated reads); without the header only with "
        "`--calls-format dss` (chrom, pos, 2 counts with column 3 >= column 4 on every row fits dss and counts)",
        "1-based",
        "N; level = X / N",
    ),
    Producer(
        "nanopolish",
        "nanopolish / f5c `calculate_methylation_frequency.py` (with or without `--split-groups`)",
        "header chromosome, start, end, num_motifs_in_group, called_sites, called_sites_methylated, "
        "methylated_frequency, group_sequence; a group of several CpGs gives each of its CpGs the group's level",
        "0-based (the C of each CpG, strands merged)",
        "called_sites / num_motifs_in_group (reads); level = called_sites_methylated / called_sites",
    ),
    Producer(
        "bedgraph",
        "bedGraph of levels",
        "chrom, start, end, level (percent or fraction, decided from the whole column; `--level-scale`)",
        "0-based",
        "none: a level only, `--min-coverage` does not apply",
    ),
    Producer(
        "tsv",
        "any table with a header",
        "header with `chrom`, `start` (0-based) and `level` (0..1) or `count_m` + `count_u` (+ `strand`)",
        "0-based",
        "count_m + count_u",
    ),
)
BY_NAME = {p.name: p for p in PRODUCERS}
# a detected format whose reading fails the reference's base check is tried as this one: a headerless 1-bp
# 6-column file is Bismark's merged-CpG .cov (1-based) or a MethylDackel/Bismark --zero_based file without its
# track line (0-based), and a cytosine report may come from coverage2cytosine --zero_based; only the reference
# can tell
ALTERNATIVE = {"bismark-merged-cov": "methyldackel", "bismark-cpg-report": "bismark-cpg-report-zero-based"}
FORMATS = tuple(BY_NAME)
LEVEL_SCALES = ("percent", "fraction")

# per-read files carry one call per read and site, no per-site level: recognised (by their header names, or a
# read ID in a column) only to be refused with the step that aggregates them
PER_READ = (
    ("nanopolish/f5c call-methylation", {"read_name", "log_lik_ratio"}),
    ("megalodon per-read text", {"read_id", "can_log_prob"}),
    ("modkit extract", {"read_id", "forward_read_position"}),
    ("modkit extract", {"read_id", "ref_position", "call_code"}),
    ("DeepSignal call_mods", {"readname", "prob_1"}),
)
AGGREGATE = "aggregate them first (modkit pileup / calculate_methylation_frequency.py)"
