# Sourced by tests/slurm/run.sh: a one-node Slurm cluster on localhost under a temporary directory.
# slurm_up DIR starts slurmctld and slurmd in the foreground of background jobs (their PIDs in SLURM_PIDS),
# exports SLURM_CONF; slurm_down stops them by those PIDs. Slurm 22.05 (Debian 12) runs as root without
# systemd or munge when authentication and credentials are "none": fine for a throw-away test cluster on
# 127.0.0.1, never for a real one.

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

slurm_up() {
  local dir=$1 ctl_port node_port
  ctl_port=$(free_port); node_port=$(free_port)
  while [ "$node_port" = "$ctl_port" ]; do node_port=$(free_port); done
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  # The node is declared larger than this machine (config_overrides) so that job scripts written for real
  # nodes (--cpus-per-task=4 --mem=16G) run unchanged here, oversubscribed.
  cat > "$dir/slurm.conf" <<CONF
ClusterName=mrcnntest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctl_port
SlurmdPort=$node_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/none
CredType=cred/none
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmdParameters=config_overrides
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs=16 RealMemory=64000 State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$dir/slurm.conf
  SLURM_PIDS=()
  slurmctld -D -i -f "$SLURM_CONF" </dev/null >"$dir/log/slurmctld.out" 2>&1 &
  SLURM_PIDS+=($!)
  slurmd -D -N localhost -f "$SLURM_CONF" </dev/null >"$dir/log/slurmd.out" 2>&1 &
  SLURM_PIDS+=($!)
  local i
  for i in $(seq 60); do
    if sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then return 0; fi
    sleep 0.5
  done
  echo "slurm-test: the test cluster did not come up; logs:" >&2
  tail -n 20 "$dir"/log/* >&2
  return 1
}

slurm_down() {
  [ -n "${SLURM_CONF:-}" ] && scancel --full --signal=KILL --partition=test 2>/dev/null || true
  local pid
  for pid in "${SLURM_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${SLURM_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  SLURM_PIDS=()
}
