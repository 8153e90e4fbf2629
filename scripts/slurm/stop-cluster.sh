#!/usr/bin/env bash
# Stops the single-node cluster of scripts/slurm/setup-cluster.sh: slurmd, slurmctld, munged
# (each by the pid it wrote or by its name under its own user). Jobs still running are killed by
# slurmd as it stops; the controller's state stays in /var/spool/slurmctld.
set -uo pipefail

stop() {
  local name=$1 pidfile=$2 pid
  pid=$( [[ -f $pidfile ]] && cat "$pidfile" )
  if [[ -n ${pid:-} ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    printf 'stop-cluster: stopped %s (%s)\n' "$name" "$pid" >&2
  fi
}

stop slurmd /run/slurmd.pid
stop slurmctld /run/slurmctld.pid
stop munged /run/munge/munged.pid
