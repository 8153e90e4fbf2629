// robust-meta jobs: this project's Slurm jobs (runs submitted with --executor slurm, experiment
// job arrays) with the scheduler's state and reason, the run's progress, and a failed job's error.
import * as path from 'path';
import { JobView, listJobs } from '../../runner/slurm/jobs';
import { EXIT_CODES } from '../../runner/protocol';
import { ParsedArgs, UsageError } from '../args';
import { Command, HELP_OPTION, JSON_OPTION, RUNS_DIR_OPTION, runsDirOf } from '../command';
import { table } from '../output';

const DEFAULT_EXPERIMENTS = path.join('experiments', 'out');

function why(v: JobView): string {
  const parts: string[] = [];
  if (v.reason) parts.push(v.reason);
  if (v.exitCode && v.exitCode !== '0:0') parts.push(`exit ${v.exitCode}`);
  if (v.message) parts.push(v.message);
  if (v.error) parts.push(v.error);
  return parts.join('; ');
}

async function run(args: ParsedArgs): Promise<number> {
  const roots = args.positionals.length ? args.positionals : [runsDirOf(args), String(args.options.experiments ?? DEFAULT_EXPERIMENTS)];
  const views = listJobs(roots);
  if (args.options.json === true) {
    process.stdout.write(JSON.stringify(views, null, 2) + '\n');
    return EXIT_CODES.ok;
  }
  if (!views.length) {
    process.stdout.write(`no Slurm jobs recorded under ${roots.map((r) => path.resolve(r)).join(', ')} (train --executor slurm submits one)\n`);
    return EXIT_CODES.ok;
  }
  const rows = views.map((v) => [
    v.jobId,
    v.state.toLowerCase(),
    path.relative(process.cwd(), v.folder) || '.',
    v.kind === 'experiment' ? (v.label ?? '') : v.run ? `${v.run.state} ${v.run.step}/${v.run.totalSteps}` : 'not started',
    v.tasks ? String(v.tasks.length) : '',
    v.earlier ? String(v.earlier) : '',
    why(v),
  ]);
  process.stdout.write(table(['job', 'state', 'folder', 'progress', 'tasks', 'resubmitted', 'reason'], rows) + '\n');
  return EXIT_CODES.ok;
}

export const jobsCommand: Command = {
  name: 'jobs',
  summary: "List this project's Slurm jobs: scheduler state and reason, run progress, errors.",
  usage: '[folder ...] [--runs-dir runs] [--experiments experiments/out] [--json]',
  options: [
    HELP_OPTION,
    RUNS_DIR_OPTION,
    {
      flag: 'experiments',
      type: 'string',
      placeholder: 'dir',
      default: DEFAULT_EXPERIMENTS,
      description: 'Folder of experiment folders (their job arrays are listed too).',
    },
    { ...JSON_OPTION, description: 'Print the jobs as JSON.' },
  ],
  details: [
    "States are Slurm's (pending, running, completed, failed, cancelled, timeout, preempted, ...), from",
    'scontrol/squeue, or sacct where the cluster keeps accounting; a job the scheduler has forgotten',
    'shows the exit its batch script recorded in the folder (slurm/exit-<job>.json).',
  ].join('\n'),
  run: async (args) => {
    if (args.positionals.some((p) => p.startsWith('-'))) throw new UsageError('jobs takes folders as arguments');
    return run(args);
  },
};
