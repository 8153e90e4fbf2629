#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine, for the Slurm executor's tests
# (test/slurm/) and for trying `--executor slurm` without a cluster: installs Debian's slurm-wlm
# and munge (as root), writes a minimal slurm.conf for this host with its CPUs and memory, starts
# munged, slurmctld and slurmd as daemons and waits until `sinfo` shows the node idle.
# Idempotent: a second call finds the cluster running and returns at once.
#
# Made for a container: no systemd, no cgroups (proctrack/linuxproc, task/none), no slurmdbd
# (accounting_storage/none, so `sacct` has nothing to say; the executor reads job states from
# squeue/scontrol and the exit each batch script records in its run folder).
# Stop it with scripts/slurm/stop-cluster.sh.
set -euo pipefail

CONF_DIR=/etc/slurm
CONF="$CONF_DIR/slurm.conf"
LOG_DIR=/var/log/slurm
MARK="# written by robust-meta scripts/slurm/setup-cluster.sh"

say() { printf 'setup-cluster: %s\n' "$*" >&2; }

node_idle() {
  command -v sinfo >/dev/null 2>&1 && timeout 10 sinfo -h -N -o '%T' 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'
}

if node_idle; then
  say "a Slurm cluster is already running: $(sinfo -h -N -o '%N %T %c CPUs' | head -n 1)"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  say "needs root (apt-get, the daemons); run it with sudo"
  exit 1
fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

# The node as slurmd sees it (CPUs, sockets, cores, memory), named after this host.
HOST=$(hostname -s)
NODE_LINE=$(slurmd -C | head -n 1)
CPUS=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$NODE_LINE")
MEM=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$NODE_LINE")
# Leave the system some memory: a node whose RealMemory is above what slurmd measures is drained.
MEM=$((MEM * 9 / 10))

# A slurm.conf someone else wrote is theirs: do not overwrite it.
if [[ -f $CONF ]] && ! grep -qF "$MARK" "$CONF"; then
  say "$CONF exists and was not written by this script; using it as it is"
else
  mkdir -p "$CONF_DIR"
  cat >"$CONF" <<CONF
$MARK
ClusterName=robustmeta
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
# Finished jobs stay visible to scontrol for an hour (default 300 s).
MinJobAge=3600
# Seconds between SIGTERM and SIGKILL when a job is cancelled or preempted: time for a checkpoint.
KillWait=30
SlurmdTimeout=300
InactiveLimit=0
DefMemPerCPU=$((MEM / CPUS))
NodeName=$HOST NodeAddr=127.0.0.1 $(sed 's/^NodeName=[^ ]* //; s/RealMemory=[0-9]*/RealMemory='"$MEM"'/; s/ UpTime=.*//' <<<"$NODE_LINE") State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  say "wrote $CONF ($CPUS CPUs, $MEM MB on node $HOST)"
fi
# Debian's cgroup.conf would ask for cgroups that a container lacks.
mkdir -p "$LOG_DIR" /var/spool/slurmctld /var/spool/slurmd /run/munge
chown munge:munge /run/munge
chmod 0755 /run/munge

if ! pgrep -u munge -x munged >/dev/null; then
  if [[ ! -s /etc/munge/munge.key ]]; then
    say "creating /etc/munge/munge.key"
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
  fi
  runuser -u munge -- munged
fi
for _ in $(seq 1 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.5; done
munge -n | unmunge >/dev/null || { say "munged does not answer"; exit 1; }

if ! pgrep -x slurmctld >/dev/null; then slurmctld; fi
if ! pgrep -x slurmd >/dev/null; then slurmd; fi

for _ in $(seq 1 60); do
  if node_idle; then
    say "cluster up: $(sinfo -h -N -o '%N %T %c CPUs %m MB' | head -n 1)"
    exit 0
  fi
  # A node left down or drained by an earlier run comes back.
  if timeout 5 sinfo -h -N -o '%T' 2>/dev/null | grep -Eq '^(down|drain)'; then
    scontrol update NodeName="$HOST" State=RESUME 2>/dev/null || true
  fi
  sleep 1
done
say "the node did not become idle within 60 s:"
sinfo -N -l >&2 || true
tail -n 20 "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" >&2 || true
exit 1
