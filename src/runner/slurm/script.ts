// The batch script of a Slurm job, written beside the run for the user to read. One script runs
// one task or a job array of tasks (an experiment phase), each a robust-meta command run exactly
// as locally, writing its run folder on the shared filesystem.
//
// Stopping keeps the checkpoint: `scancel` and preemption send SIGTERM to every process of the
// job, and robust-meta answers it with a checkpoint before exiting (KillWait gives it the time).
// Near the time limit Slurm sends USR1 to this script alone (--signal=B:USR1@n); the script then
// asks robust-meta to stop (SIGTERM, once: a second one would quit without a checkpoint) and
// requeues the job, which resumes from that checkpoint. Each task records its exit status in
// slurm/exit-<job>.json, since a cluster without slurmdbd forgets finished jobs.
import type { SlurmOptions } from '../../formats/slurm';

/** A shell word: the text single-quoted unless it is plainly safe. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function shellLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

export interface BatchTask {
  /** The command, or two: `resume` runs instead when `resumeIf` (a file) exists. */
  argv: string[];
  resume?: { ifExists: string; argv: string[] };
  /** Folder of this task's exit record (exit-<job id>.json). */
  exitDir: string;
  /** Where the command's stdout and stderr go (appended); default: the job's output file. */
  stdout?: string;
  stderr?: string;
  /** Empty `stdout` when the task starts: a requeued task's output is its last attempt's alone. */
  freshStdout?: boolean;
}

export interface BatchScriptSpec {
  jobName: string;
  /** What the job is, in words, for the script's first comment. */
  description: string;
  options: SlurmOptions;
  /** The job's own output file (sbatch --output; %j is the job id, %A_%a an array task). */
  output: string;
  /** Directory the commands run in (relative paths of the user's config resolve from there). */
  workDir: string;
  /** One task: a plain job; more: a job array, task i running tasks[i]. */
  tasks: BatchTask[];
  /** At most this many array tasks at once (the spec's `parallel`). */
  arrayLimit?: number;
  /** Requeue a job stopped near its time limit (training, which resumes); at most this many times. */
  maxRequeues: number;
}

export const DEFAULT_SIGNAL_SECONDS = 120;

/** The #SBATCH lines of the options, in sbatch's own spelling. */
export function sbatchLines(o: SlurmOptions): string[] {
  const lines: string[] = [];
  if (o.partition) lines.push(`--partition=${o.partition}`);
  if (o.account) lines.push(`--account=${o.account}`);
  if (o.time) lines.push(`--time=${o.time}`);
  lines.push(`--cpus-per-task=${o.cpusPerTask ?? 1}`);
  if (o.gpusPerTask) lines.push(`--gpus-per-task=${o.gpusPerTask}`);
  if (o.mem) lines.push(`--mem=${o.mem}`);
  for (const extra of o.sbatchExtra ?? []) lines.push(extra.replace(/^#SBATCH\s+/, ''));
  return lines.map((l) => `#SBATCH ${l}`);
}

function taskCommands(t: BatchTask): string[] {
  const out = [`EXIT_DIR=${shellQuote(t.exitDir)}`];
  if (t.resume) {
    out.push(`if [ -e ${shellQuote(t.resume.ifExists)} ]; then set -- ${shellLine(t.resume.argv)}; else set -- ${shellLine(t.argv)}; fi`);
  } else {
    out.push(`set -- ${shellLine(t.argv)}`);
  }
  out.push(`STDOUT=${t.stdout ? shellQuote(t.stdout) : "''"}; STDERR=${t.stderr ? shellQuote(t.stderr) : "''"}`);
  if (t.freshStdout && t.stdout) out.push(': >"$STDOUT"');
  return out;
}

export function batchScript(s: BatchScriptSpec): string {
  if (!s.tasks.length) throw new Error('a batch script needs at least one task');
  const array = s.tasks.length > 1;
  const signalSeconds = s.options.signalSeconds ?? DEFAULT_SIGNAL_SECONDS;
  const header = [
    '#!/bin/bash',
    `# ${s.description}`,
    '# Written by robust-meta (--executor slurm); submitted with sbatch. The run folders it writes',
    '# are the record of progress; `robust-meta jobs` shows the scheduler state of this job.',
    `#SBATCH --job-name=${s.jobName}`,
    `#SBATCH --output=${s.output}`,
    '#SBATCH --open-mode=append',
    '#SBATCH --requeue',
    `#SBATCH --signal=B:USR1@${signalSeconds}`,
    ...(array ? [`#SBATCH --array=0-${s.tasks.length - 1}${s.arrayLimit ? `%${s.arrayLimit}` : ''}`] : []),
    ...sbatchLines(s.options),
  ];
  const select = array
    ? [
        'case "${SLURM_ARRAY_TASK_ID:-0}" in',
        ...s.tasks.flatMap((t, i) => [`  ${i})`, ...taskCommands(t).map((l) => `    ${l}`), '    ;;']),
        '  *) echo "no task ${SLURM_ARRAY_TASK_ID}" >&2; exit 2 ;;',
        'esac',
      ]
    : taskCommands(s.tasks[0]);
  const body = [
    'set -u',
    `cd ${shellQuote(s.workDir)} || exit 1`,
    ...(s.options.setup ?? []),
    ...select,
    'JOB="${SLURM_ARRAY_JOB_ID:-${SLURM_JOB_ID:-local}}${SLURM_ARRAY_TASK_ID:+_$SLURM_ARRAY_TASK_ID}"',
    'echo "slurm job $JOB on $(hostname) at $(date -u +%FT%TZ), restart ${SLURM_RESTART_COUNT:-0}: $*" >&2',
    'near_limit=0',
    '# Time limit near: stop after a checkpoint (one SIGTERM), then requeue below.',
    'trap \'near_limit=1; kill -TERM "$child" 2>/dev/null\' USR1',
    '# scancel and preemption signal every process of the job: robust-meta got its own SIGTERM.',
    "trap ':' TERM",
    "# The command's output: the job's own output file unless the task names files.",
    'exec 3>&1 4>&2',
    'if [ -n "$STDOUT" ]; then exec 3>>"$STDOUT"; fi',
    'if [ -n "$STDERR" ]; then exec 4>>"$STDERR"; fi',
    '"$@" >&3 2>&4 3>&- 4>&- &',
    'child=$!',
    'wait "$child"; rc=$?',
    "# A trap interrupts wait; wait again for the command's own exit status.",
    'while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done',
    'requeued=false',
    `if [ "$near_limit" = 1 ] && [ "$rc" -ne 0 ] && [ "\${SLURM_RESTART_COUNT:-0}" -lt ${s.maxRequeues} ]; then requeued=true; fi`,
    'mkdir -p "$EXIT_DIR"',
    'printf \'{"jobId":"%s","exitCode":%d,"endedAt":"%s","requeued":%s%s}\\n\' "$JOB" "$rc" "$(date -u +%FT%TZ)" "$requeued" "${SLURM_ARRAY_TASK_ID:+,\\"arrayTask\\":$SLURM_ARRAY_TASK_ID}" >"$EXIT_DIR/exit-$JOB.json.tmp" && mv "$EXIT_DIR/exit-$JOB.json.tmp" "$EXIT_DIR/exit-$JOB.json"',
    'if [ "$requeued" = true ] && [ -n "${SLURM_JOB_ID:-}" ]; then scontrol requeue "$SLURM_JOB_ID"; fi',
    'exit "$rc"',
  ];
  return [...header, '', ...body, ''].join('\n');
}
