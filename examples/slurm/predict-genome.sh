#!/bin/bash
#SBATCH --job-name=mrcnn-predict --cpus-per-task=4 --mem=4G --time=12:00:00
# One part of a genome-wide prediction; submit as a job array, one task per part:
#   jid=$(sbatch --parsable --array=1-50 predict-genome.sh MODEL GENOME OUTDIR [mrcnn-predict options])
#   sbatch --dependency=afterok:$jid merge-predictions.sh GENOME OUTDIR
# Task i of the array predicts part i of N (N = the array's size) of the genome's CpGs into
# OUTDIR/part.NNNNN.bedGraph; the parts concatenate, in name order, to the unsharded output.
set -euo pipefail
model=$1 genome=$2 outdir=$3
shift 3
n=${SLURM_ARRAY_TASK_COUNT:?submit with sbatch --array=1-N}
i=$(( SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN + 1 ))
mkdir -p "$outdir"
mrcnn-predict -m "$model" --genome "$genome" --threads "${SLURM_CPUS_PER_TASK:-1}" --shard "$i/$n" \
  --output-format bedgraph -o "$outdir/part.$(printf %05d "$i").bedGraph" "$@"
