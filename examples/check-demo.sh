#!/usr/bin/env bash
# Checks what examples/demo.sh promises (CI runs it after `make demo`; QUICK=1 after `make demo-quick`):
# every output file, predictions for every test site, metrics in range and above sanity bars, every CpG of
# chr20 in the genome-wide bedGraph, the same chromosome names in dataset and genome mode, and the summary
# (3 significant digits, the references beside the figures, the IMR90 line).
# Usage: bash examples/check-demo.sh [OUTDIR]   (default demo-output). Exit 1 with one line per problem.
set -uo pipefail
OUT=${1:-demo-output}
HERE="$(cd "$(dirname "$0")" && pwd)"
PY=${PY:-python3}
[ -x "$HERE/../.venv/bin/python" ] && PY="$HERE/../.venv/bin/python"  # the one make demo installed into
problems=()
bad() { problems+=("$*"); }

need_files() {  # DIR FILE...: each exists and is not empty
  local d=$1; shift
  for f in "$@"; do [ -s "$d/$f" ] || bad "$d/$f: missing or empty"; done
}

rows() { grep -vc '^#' "$1" 2>/dev/null || true; }  # data rows of a predictions file

metric() {  # METRICS.TSV MODEL GROUP COLUMN: one cell, by column name
  awk -F'\t' -v m="$2" -v g="$3" -v col="$4" '!/^##/ && /^#/ {for (i = 1; i <= NF; i++) c[$i] = i; next}
    $1 == m && $2 == g {print $(c[col]); exit}' "$1" 2>/dev/null
}

check_eval() {  # DIR "model:min_auc ..." : predictions of every test site, metrics in range, AUC above a bar
  local d=$1 bars=$2 n auc rmse
  need_files "$d" eval/metrics.tsv eval/metrics.json eval/roc.png eval/error_by_group.png eval/rmse_mae_by_group.png \
    eval/classification_cgi.png eval/calibration.tsv
  for bar in $bars; do
    local m=${bar%%:*} min=${bar#*:}
    need_files "$d" "$m.pred.tsv"
    n=$(metric "$d/eval/metrics.tsv" "$m" all n); auc=$(metric "$d/eval/metrics.tsv" "$m" all auc)
    rmse=$(metric "$d/eval/metrics.tsv" "$m" all rmse)
    [ -n "$n" ] || { bad "$d/eval/metrics.tsv: no 'all' row for $m"; continue; }
    [ "$(rows "$d/$m.pred.tsv")" = "$n" ] || bad "$d/$m.pred.tsv: $(rows "$d/$m.pred.tsv") rows, metrics count $n sites"
    awk -v a="$auc" -v r="$rmse" -v min="$min" 'BEGIN {exit !(a + 0 >= min && a <= 1 && r + 0 > 0 && r < 1)}' \
      || bad "$d: $m ROC AUC $auc (bar $min), RMSE $rmse"
  done
}

check_summary() {  # the summary: sections, references, 3 significant digits
  local s="$OUT/summary.txt"
  [ -s "$s" ] || { bad "$s: missing or empty"; return; }
  for want in "$@" "k-mer GBR (reference)" "neighbour average (reference)" "paper: MRCNN" "What it means: IMR90" \
      "--context"; do
    grep -qF -- "$want" "$s" || bad "$s: no '$want'"
  done
  # figures: 0.xyz or 0.0xyz, never more digits (a figure such as 0.9210903874 is what the summary must not print)
  grep -qE '[0-9]\.[0-9]{5,}' "$s" && bad "$s: a figure with more than 3 significant digits: $(grep -oE '[0-9]\.[0-9]{5,}' "$s" | head -1)"
  grep -qE '^  mrcnn +[0-9]\.[0-9]' "$s" || bad "$s: no mrcnn row with figures"
}

same_names() {  # DATASET_PRED GENOME_BEDGRAPH_GZ: the same CpGs get the same chromosome name in both modes
  local a b
  a=$(grep -v '^#' "$1" | cut -f1 | sort -u | tr '\n' ' ')
  b=$(gzip -dc "$2" | grep -v '^#\|^track' | cut -f1 | sort -u | tr '\n' ' ')
  [ -n "$a" ] && [ "$a" = "$b" ] || bad "chromosome names differ by mode: dataset '$a' ($1), genome '$b' ($2)"
}

bigwig_names() {  # BIGWIG NAME: the bigWig's chromosome names (pybigtools, installed with mrcnn-tools)
  local got
  got=$("$PY" -c 'import sys, pybigtools; print(" ".join(sorted(pybigtools.open(sys.argv[1]).chroms())))' "$1" \
    2>/dev/null) || { bad "$1: not readable as a bigWig"; return; }
  [ "$got" = "$2" ] || bad "$1: chromosomes '$got', expected '$2' (the name the calls and the UCSC browser use)"
}

if [ -n "${QUICK:-}" ]; then
  D="$OUT/quick"
  need_files "$D" train.npz test.npz mrcnn.keras kmer-gbr.skops mrcnn.history.tsv motifs/motifs.meme motifs/motifs.tsv \
    region.bedGraph.gz region.bw
  check_eval "$D" "mrcnn:0 kmer-gbr:0 neighbours:0.6"
  same_names "$D/mrcnn.pred.tsv" "$D/region.bedGraph.gz"
  check_summary "quick: IMR90 WGBS"
else
  D="$OUT/h1_chr20"
  need_files "$D" train.npz test.npz mrcnn.keras simple-cnn.keras kmer-gbr.skops mrcnn.history.tsv \
    simple-cnn.history.tsv kmer-gbr.history.tsv motifs/motifs.meme motifs/motifs.tsv motifs/tsne.png motifs/tsne.tsv \
    motifs/matches.tsv chr20.mrcnn.bedGraph.gz chr20.mrcnn.bw
  head -1 "$D/motifs/motifs.meme" 2>/dev/null | grep -q '^MEME version' || bad "$D/motifs/motifs.meme: not a MEME file"
  # measured: AUC 0.92-0.95 (docs/REPRODUCTION.md: 0.887 +- 0.029 for mrcnn over 3 seeds); the bars catch a broken run
  check_eval "$D" "mrcnn:0.75 simple-cnn:0.75 kmer-gbr:0.8 neighbours:0.5"
  cpgs=$(gzip -dc "$D/chr20.mrcnn.bedGraph.gz" 2>/dev/null | grep -vc '^#\|^track')
  [ "$cpgs" = 717722 ] || bad "$D/chr20.mrcnn.bedGraph.gz: $cpgs CpGs, chr20 has 717,722"
  same_names "$D/mrcnn.pred.tsv" "$D/chr20.mrcnn.bedGraph.gz"
  bigwig_names "$D/chr20.mrcnn.bw" chr20
  D="$OUT/imr90_chr22"
  need_files "$D" train.npz val.npz test.npz mrcnn.keras kmer-gbr.skops mrcnn.history.tsv
  # measured: sequence-only models 0.6-0.65, the neighbour average 0.9 (docs/REPRODUCTION.md)
  check_eval "$D" "mrcnn:0.55 kmer-gbr:0.55 neighbours:0.8"
  check_summary "H1 RRBS" "IMR90 WGBS"
fi

if [ ${#problems[@]} -gt 0 ]; then
  printf 'check-demo: %s\n' "${problems[@]}" >&2
  exit 1
fi
echo "check-demo: every output of the demo in $OUT is there and sound"
