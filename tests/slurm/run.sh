#!/usr/bin/env bash
# make slurm-test: runs the job scripts of examples/slurm/, unchanged, on a one-node Slurm cluster on localhost.
#   1. a 4-task job array predicts every CpG of hg19 chr20 with mrcnn-predict --shard i/4, and a job that
#      depends on it merges the parts: the merged bedGraph must equal the unsharded prediction byte for byte,
#      and the bigWig made from it must hold the same values;
#   2. a 2-task multi-worker training (srun): both workers finish, the chief's model is written, and its
#      weights equal those that the other worker holds at the end.
# Installs Slurm from Debian packages when absent (root, or sudo); the daemons run under a temporary directory,
# are stopped by their PIDs, and nothing is left running. Needs the project's .venv (make install).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
export PATH="$ROOT/.venv/bin:$PATH"
say() { echo "slurm-test: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
command -v mrcnn-predict >/dev/null || fail "no mrcnn-predict in .venv; run make install first"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo -n"
  say "installing Slurm from the Debian packages (slurmctld slurmd slurm-client)"
  $sudo apt-get update -q </dev/null >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q slurmctld slurmd slurm-client </dev/null >&2
fi
version=$(slurmd -V 2>/dev/null | awk '{print $2}') || version=unknown
say "Slurm $version"

. tests/slurm/cluster.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/mrcnn-slurm.XXXXXX")
SLURM_PIDS=()
cleanup() { slurm_down; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
slurm_up "$T/cluster" || fail "the test cluster did not start (Slurm $version; auth/none needs Slurm < 23.11)"
say "cluster up: $(sinfo -h -o '%P %D %T %N')"

W="$T/work"; mkdir -p "$W"
# the genome copied, so that its index is built here and not in the checkout
cp examples/data/GRCh37_chr20.fa.gz "$W/chr20.fa.gz"
MODEL="$ROOT/test-data/model_small.keras"
cd "$W"

show_logs() { for f in "$W"/*.out; do [ -e "$f" ] && { echo "== $f"; tail -n 20 "$f"; }; done >&2; }

# --- 1. job array + merge -----------------------------------------------------------------------------------
SECONDS=0
mrcnn-predict -q -m "$MODEL" --genome chr20.fa.gz --output-format bedgraph -o whole.bedGraph
say "unsharded prediction: $(wc -l < whole.bedGraph) CpGs, ${SECONDS} s"
SECONDS=0
jid=$(sbatch --parsable --array=1-4 \
  "$ROOT/examples/slurm/predict-genome.sh" "$MODEL" chr20.fa.gz pred)
mid=$(sbatch --parsable --dependency=afterok:$jid \
  "$ROOT/examples/slurm/merge-predictions.sh" chr20.fa.gz pred)
deadline=$((SECONDS + 900))
while squeue -h -j "$jid,$mid" 2>/dev/null | grep -q .; do
  [ $SECONDS -lt $deadline ] || { show_logs; fail "the prediction jobs did not finish in 15 minutes"; }
  sleep 2
done
[ "$(ls pred/part.*.bedGraph 2>/dev/null | wc -l)" = 4 ] || { show_logs; fail "expected 4 parts in pred/"; }
[ -s pred/predictions.bedGraph ] || { show_logs; fail "the merge job wrote no pred/predictions.bedGraph"; }
cmp whole.bedGraph pred/predictions.bedGraph || fail "merged bedGraph differs from the unsharded prediction"
python - pred/predictions.bedGraph pred/predictions.bw <<'PY' || fail "the bigWig does not hold the bedGraph's values"
import sys
import numpy as np
import pybigtools
rows = np.loadtxt(sys.argv[1], dtype=str)
bw = pybigtools.open(sys.argv[2])
for chrom in np.unique(rows[:, 0]):
    mine = rows[rows[:, 0] == chrom]
    got = list(bw.records(str(chrom)))
    assert len(got) == len(mine), (chrom, len(got), len(mine))
    assert np.array_equal([g[0] for g in got], mine[:, 1].astype(int))
    assert np.allclose([g[2] for g in got], mine[:, 3].astype(float), atol=1e-6)
PY
say "job array: 4 parts merged = unsharded ($(wc -l < pred/predictions.bedGraph) CpGs, byte for byte), bigWig ok, ${SECONDS} s"

# --- 2. multi-worker training ---------------------------------------------------------------------------
SECONDS=0
tid=$(timeout 900 sbatch --parsable --wait --nodes=1 --ntasks-per-node=2 \
  "$ROOT/examples/slurm/train-multi-worker.sh" "$ROOT/test-data/train_small.npz" --arch simple-cnn --epochs 2 \
  --batch-size 64 --seed 1 --checkpoint-dir ckpt --history history.tsv -o model.keras) \
  || { show_logs; fail "the training job failed"; }
mv "slurm-$tid.out" train.out
grep -q "worker 0 of 2 (worker, chief)" train.out && grep -q "worker 1 of 2 (worker)" train.out \
  || { show_logs; fail "the two workers did not both start"; }
[ -s model.keras ] && [ -s history.tsv ] && [ -s ckpt/state.json ] || { show_logs; fail "the chief wrote no model"; }
held=$(grep -o "final weights sha256 [0-9a-f]*" train.out | awk '{print $4}' | sort | uniq -c)
[ "$(echo "$held" | wc -l)" = 1 ] && [ "$(echo "$held" | awk '{print $1}')" = 2 ] \
  || { show_logs; fail "the workers hold different weights: $held"; }
python - model.keras "$(echo "$held" | awk '{print $2}')" <<'PY' || fail "the chief's model file differs from the weights the workers hold"
import hashlib, sys
import numpy as np
from mrcnn_tools.models.files import load_model
model, _ = load_model(sys.argv[1])
h = hashlib.sha256()
for w in model.get_weights():
    h.update(np.asarray(w, np.float32).tobytes())
assert h.hexdigest() == sys.argv[2], (h.hexdigest(), sys.argv[2])
PY
say "multi-worker training: 2 workers, equal weights (sha256 $(echo "$held" | awk '{print substr($2, 1, 12)}')), chief's model written, ${SECONDS} s"
say "passed"
