#!/usr/bin/env bash
# The whole mrcnn-tools pipeline on real data. Every step is a plain command you can copy.
# The hg19 FASTAs of chr20 and of the quick region name their records 20 and 22 (Ensembl style), the calls and the
# islands chr20 and chr22 (UCSC): predictions are written with UCSC names (--chrom-names ucsc), so the bedGraph and
# bigWig match the annotation files and show in the UCSC browser.
# Usage: bash examples/demo.sh [OUTDIR]
#   QUICK=1  one epoch, the 1 Mb region of chr22 from test-data/ only (about a minute)
set -euo pipefail
OUT=${1:-demo-output}
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="$HERE/data"
TD="$HERE/../test-data"
mkdir -p "$OUT"
start=$(date +%s)
SUMMARY="$OUT/summary.txt"

if [ -n "${QUICK:-}" ]; then
  WGBS="$TD/IMR90_r1_chr22_20-21M_GRCh37.bismark.cov"; CGI="$TD/cpgIslands_hg19_chr22_20-21M.bed"
  D="$OUT/quick"; mkdir -p "$D"
  # a copy of the FASTA: its index (.fai) and genome codes are written beside it, not into test-data/
  G="$D/22_20-21M.fa"; cp "$TD/22_20-21M.fa" "$G"
  echo "== quick: IMR90 WGBS on the 1 Mb region of chr22 (train < 20.5 Mb, test > 20.61 Mb), one epoch"
  mrcnn-encode --genome "$G" --calls "$WGBS" --cgi "$CGI" --region chr22:20000001-20500000 -o "$D/train.npz"
  # the test set with each site's 5 observed neighbours a side (--context 5), for the neighbour-average reference
  mrcnn-encode --genome "$G" --calls "$WGBS" --cgi "$CGI" --region chr22:20610001-21000000 --context 5 -o "$D/test.npz"
  for am in mrcnn:keras kmer-gbr:skops; do
    a=${am%%:*}
    mrcnn-train "$D/train.npz" --arch "$a" --epochs 1 --seed 1 --history "$D/$a.history.tsv" -o "$D/$a.${am##*:}"
    mrcnn-predict -m "$D/$a.${am##*:}" "$D/test.npz" --chrom-names ucsc -o "$D/$a.pred.tsv"
  done
  mrcnn-predict --baseline neighbours "$D/test.npz" --chrom-names ucsc -o "$D/neighbours.pred.tsv"
  mrcnn-eval "$D/mrcnn.pred.tsv" "$D/kmer-gbr.pred.tsv" "$D/neighbours.pred.tsv" --labels mrcnn,kmer-gbr,neighbours \
    --out-dir "$D/eval"
  mrcnn-filters2meme -m "$D/mrcnn.keras" "$D/train.npz" --groups hyper,mid --max-sites 300 --out-dir "$D/motifs"
  mrcnn-predict -m "$D/mrcnn.keras" --genome "$G" --region chr22:20610001-21000000 --chrom-names ucsc \
    --output-format bedgraph -o "$D/region.bedGraph.gz" --bigwig "$D/region.bw"
else
  G20="$DATA/GRCh37_chr20.fa.gz"; H1="$DATA/rrbsH1hESC_hg19_50k.bedMethyl"; CGI="$DATA/cpgIslands_hg19_all.bed"
  D="$OUT/h1_chr20"; mkdir -p "$D"
  echo "== 1. H1 RRBS (ENCODE bedMethyl, true zeros) on the whole hg19 chr20: train below 45 Mb, test above"
  mrcnn-encode --genome "$G20" --calls "$H1" --chroms chr20 --cgi "$CGI" --region chr20:1-45000000 -o "$D/train.npz"
  mrcnn-encode --genome "$G20" --calls "$H1" --chroms chr20 --cgi "$CGI" --region chr20:45000001-63025520 \
    --context 5 -o "$D/test.npz"  # each test site's 5 observed neighbours a side: the neighbour average
  for am in mrcnn:keras simple-cnn:keras kmer-gbr:skops; do
    a=${am%%:*}; m="$D/$a.${am##*:}"
    mrcnn-train "$D/train.npz" --arch "$a" --val-fraction 0.15 --epochs 80 --patience 8 --batch-size 32 --seed 1 \
      --history "$D/$a.history.tsv" -o "$m"
    mrcnn-predict -m "$m" "$D/test.npz" --chrom-names ucsc -o "$D/$a.pred.tsv"
  done
  mrcnn-predict --baseline neighbours "$D/test.npz" --chrom-names ucsc -o "$D/neighbours.pred.tsv"
  mrcnn-eval "$D/mrcnn.pred.tsv" "$D/simple-cnn.pred.tsv" "$D/kmer-gbr.pred.tsv" "$D/neighbours.pred.tsv" \
    --labels mrcnn,simple-cnn,kmer-gbr,neighbours --out-dir "$D/eval"
  mrcnn-filters2meme -m "$D/mrcnn.keras" "$D/train.npz" --jaspar --tsne "$D/motifs/tsne.png" --out-dir "$D/motifs"
  echo "== 2. every CpG of chr20 (717,722) predicted genome-wide to bedGraph and bigWig (named chr20, as UCSC does)"
  mrcnn-predict -m "$D/mrcnn.keras" --genome "$G20" --cgi "$CGI" --chrom-names ucsc --output-format bedgraph \
    -o "$D/chr20.mrcnn.bedGraph.gz" --bigwig "$D/chr20.mrcnn.bw"

  D="$OUT/imr90_chr22"; mkdir -p "$D"
  G22="$DATA/GRCh37_chr22_pieces.fa.gz"; WGBS="$DATA/IMR90_WGBS_chr22_24-35Mb_GRCh37.bismark.cov.gz"
  echo "== 3. IMR90 WGBS on chr22 (~70k CpGs): train < 31 Mb, validate 31-32 Mb, test 32.1-35 Mb"
  for part in train:1-31000000 val:31000001-32000000; do
    mrcnn-encode --genome "$G22" --calls "$WGBS" --cgi "$CGI" --max-n-fraction 0 --region "chr22:${part#*:}" \
      -o "$D/${part%%:*}.npz"
  done
  mrcnn-encode --genome "$G22" --calls "$WGBS" --cgi "$CGI" --max-n-fraction 0 --region chr22:32100001-35000000 \
    --context 5 -o "$D/test.npz"
  for am in mrcnn:keras kmer-gbr:skops; do
    a=${am%%:*}; m="$D/$a.${am##*:}"
    mrcnn-train "$D/train.npz" --validation "$D/val.npz" --arch "$a" --epochs 15 --patience 3 --seed 1 \
      --history "$D/$a.history.tsv" -o "$m"
    mrcnn-predict -m "$m" "$D/test.npz" -o "$D/$a.pred.tsv"
  done
  mrcnn-predict --baseline neighbours "$D/test.npz" -o "$D/neighbours.pred.tsv"
  mrcnn-eval "$D/mrcnn.pred.tsv" "$D/kmer-gbr.pred.tsv" "$D/neighbours.pred.tsv" --labels mrcnn,kmer-gbr,neighbours \
    --out-dir "$D/eval"
fi

echo "== done in $(( $(date +%s) - start )) s. Outputs:"
find "$OUT" -type f \( -name 'metrics.tsv' -o -name '*.png' -o -name 'motifs.meme' -o -name '*.bw' -o -name '*.bedGraph*' \) | sort
python3 "$HERE/demo_summary.py" "$OUT" > "$SUMMARY"
echo "== summary ($SUMMARY):"
cat "$SUMMARY"
