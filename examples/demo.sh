#!/usr/bin/env bash
# The whole mrcnn-tools pipeline on real data. Every step is a plain command you can copy.
# Usage: bash examples/demo.sh [OUTDIR]        (QUICK=1: the 1 Mb region from test-data/ only)
set -euo pipefail
OUT=${1:-demo-output}
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="$HERE/data"
TD="$HERE/../test-data"
mkdir -p "$OUT"
start=$(date +%s)

echo "== 1. IMR90 WGBS (Bismark coverage) on the 1 Mb region of chr22: train below 20.5 Mb, test above 20.61 Mb"
mkdir -p "$OUT/region"
mrcnn-encode --genome "$TD/22_20-21M.fa" --calls "$TD/IMR90_r1_chr22_20-21M_GRCh37.bismark.cov" \
  --cgi "$TD/cpgIslands_hg19_chr22_20-21M.bed" --region chr22:20000001-20500000 -o "$OUT/region/train.npz"
mrcnn-encode --genome "$TD/22_20-21M.fa" --calls "$TD/IMR90_r1_chr22_20-21M_GRCh37.bismark.cov" \
  --cgi "$TD/cpgIslands_hg19_chr22_20-21M.bed" --region chr22:20610001-21000000 -o "$OUT/region/test.npz"

if [ -z "${QUICK:-}" ]; then
  echo "== 2. H1 RRBS on the whole hg19 chr20: train below 45 Mb, test above"
  mkdir -p "$OUT/h1_chr20"
  mrcnn-encode --genome "$DATA/GRCh37_chr20.fa.gz" --calls "$DATA/rrbsH1hESC_hg19_50k.bedMethyl" --chroms chr20 \
    --cgi "$DATA/cpgIslands_hg19_all.bed" --region chr20:1-45000000 -o "$OUT/h1_chr20/train.npz"
  mrcnn-encode --genome "$DATA/GRCh37_chr20.fa.gz" --calls "$DATA/rrbsH1hESC_hg19_50k.bedMethyl" --chroms chr20 \
    --cgi "$DATA/cpgIslands_hg19_all.bed" --region chr20:45000001-63025520 -o "$OUT/h1_chr20/test.npz"
  echo "== 3. every CpG of chr20, for genome-wide prediction"
  mrcnn-encode --genome "$DATA/GRCh37_chr20.fa.gz" --all-cpgs --max-n-fraction 1 --shard-size 250000 \
    -o "$OUT/h1_chr20/all_cpgs.npz"
  echo "== 4. IMR90 WGBS on chr22 pieces: windows free of N"
  mkdir -p "$OUT/imr90_chr22"
  mrcnn-encode --genome "$DATA/GRCh37_chr22_pieces.fa.gz" --calls "$DATA/IMR90_WGBS_chr22_24-35Mb_GRCh37.bismark.cov.gz" \
    --max-n-fraction 0 --region chr22:1-31000000 -o "$OUT/imr90_chr22/train.npz"
  mrcnn-encode --genome "$DATA/GRCh37_chr22_pieces.fa.gz" --calls "$DATA/IMR90_WGBS_chr22_24-35Mb_GRCh37.bismark.cov.gz" \
    --max-n-fraction 0 --region chr22:32100001-35000000 -o "$OUT/imr90_chr22/test.npz"
fi

echo "== done in $(( $(date +%s) - start )) s; outputs:"
find "$OUT" -type f | sort
