#!/usr/bin/env bash
# Regenerates the derived inputs of the Galaxy tool tests from the real files in test-data/ (run from the
# project root with the package installed). Deterministic: same seed, same files.
set -euo pipefail
cd "$(dirname "$0")"
mrcnn-encode -q --genome 22_20-21M.fa --calls IMR90_r1_chr22_20-21M_GRCh37.bismark.cov \
  --cgi cpgIslands_hg19_chr22_20-21M.bed --region chr22:20000001-20200000 -o train_small.npz
mrcnn-encode -q --genome 22_20-21M.fa --calls IMR90_r1_chr22_20-21M_GRCh37.bismark.cov \
  --cgi cpgIslands_hg19_chr22_20-21M.bed --region chr22:20610001-20700000 -o test_small.npz
# the same test sites without windows (sites-only): predicted with the genome, they give pred_small.tsv again
mrcnn-encode -q --genome 22_20-21M.fa --calls IMR90_r1_chr22_20-21M_GRCh37.bismark.cov \
  --cgi cpgIslands_hg19_chr22_20-21M.bed --region chr22:20610001-20700000 --no-windows -o test_small_sites.npz
mrcnn-train -q train_small.npz --arch mrcnn --filters 8 --dense-units 16 --epochs 2 --seed 1 -o model_small.keras
mrcnn-train -q train_small.npz --arch kmer-gbr --seed 1 -o model_small_gbr.skops
mrcnn-predict -q -m model_small.keras test_small.npz -o pred_small.tsv
mrcnn-predict -q -m model_small_gbr.skops test_small.npz -o pred_small_gbr.tsv
# observed neighbours (--context 2) for the imputation tests: training sites without windows (train cuts them from
# the genome, its codes in a scratch cache), test sites with windows; a context-only model trained on the former
mrcnn-encode -q --genome 22_20-21M.fa --calls IMR90_r1_chr22_20-21M_GRCh37.bismark.cov \
  --cgi cpgIslands_hg19_chr22_20-21M.bed --region chr22:20000001-20200000 --context 2 --no-windows -o train_small_context.npz
mrcnn-encode -q --genome 22_20-21M.fa --calls IMR90_r1_chr22_20-21M_GRCh37.bismark.cov \
  --cgi cpgIslands_hg19_chr22_20-21M.bed --region chr22:20610001-20700000 --context 2 -o test_small_context.npz
CACHE="$(mktemp -d)"
mrcnn-train -q train_small_context.npz --genome 22_20-21M.fa --cache-dir "$CACHE" --arch context-only --dense-units 8 \
  --epochs 2 --seed 1 -o model_small_context.keras
rm -rf "$CACHE"
rm -f 22_20-21M.fa.fai
