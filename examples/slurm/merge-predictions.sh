#!/bin/bash
#SBATCH --job-name=mrcnn-merge --cpus-per-task=1 --mem=4G --time=2:00:00 --kill-on-invalid-dep=yes
# Concatenates the parts written by predict-genome.sh into OUTDIR/predictions.bedGraph and makes
# OUTDIR/predictions.bw (chromosome sizes from the genome's .fai):
#   sbatch --dependency=afterok:$jid merge-predictions.sh GENOME OUTDIR
set -euo pipefail
genome=$1 outdir=$2
parts=("$outdir"/part.*.bedGraph)  # the glob sorts by name: part order
[ -e "${parts[0]}" ] || { echo "merge-predictions.sh: no $outdir/part.*.bedGraph" >&2; exit 1; }
cat "${parts[@]}" > "$outdir/predictions.bedGraph.tmp"
mv "$outdir/predictions.bedGraph.tmp" "$outdir/predictions.bedGraph"
python - "$genome.fai" "$outdir/predictions.bedGraph" "$outdir/predictions.bw" <<'PY'
import os, sys
import pybigtools
fai, bedgraph, bigwig = sys.argv[1:]
with open(fai) as fh:
    sizes = {f[0]: int(f[1]) for f in (line.split("\t") for line in fh)}
def records():
    with open(bedgraph) as fh:
        for line in fh:
            c, s, e, v = line.split("\t")
            yield c, int(s), int(e), float(v)
tmp = bigwig + ".part.bw"  # written whole, then renamed: no partial file
out = pybigtools.open(tmp, "w")
out.write(sizes, records())
os.replace(tmp, bigwig)
PY
echo "merge-predictions.sh: ${#parts[@]} parts -> $outdir/predictions.bedGraph, $outdir/predictions.bw" >&2
