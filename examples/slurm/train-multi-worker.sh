#!/bin/bash
#SBATCH --job-name=mrcnn-train --nodes=2 --ntasks-per-node=1 --cpus-per-task=8 --mem=32G --time=24:00:00
# Multi-worker training: one mrcnn-train per Slurm task, TF_CONFIG built from Slurm's variables:
#   sbatch train-multi-worker.sh TRAIN.npz --validation VAL.npz --batch-size 1024 -o model.keras
# Add --gres=gpu:N for GPU nodes (each worker then trains on the GPUs of its node). The batch size is the
# global batch, split among all workers; only the chief (task 0) writes the model and the checkpoints, so
# --checkpoint-dir must be on a file system that every node sees.
set -euo pipefail
srun --kill-on-bad-exit=1 mrcnn-train "$@" --strategy multi-worker --threads "${SLURM_CPUS_PER_TASK:-1}"
