// The executor choice and the Slurm options of `train` and `experiment`: flags win over the
// `slurm` section of the config file (or experiment spec), which is checked against its schema.
import { SlurmOptions, SlurmOptionsSchema } from '../formats/slurm';
import { check } from '../formats/validate';
import { OptionSpec, ParsedArgs, UsageError } from './args';

export const EXECUTORS = ['local', 'slurm'] as const;
export type ExecutorName = (typeof EXECUTORS)[number];

export const EXECUTOR_OPTION: OptionSpec = {
  flag: 'executor',
  type: 'string',
  enum: EXECUTORS,
  default: 'local',
  placeholder: EXECUTORS.join('|'),
  description: "Where jobs run: 'local' (processes here) or 'slurm' (sbatch; see the README's \"On a cluster\").",
};

/** Flag, options key, and what it is. */
const FLAGS: [string, keyof SlurmOptions, 'string' | 'number', string][] = [
  ['partition', 'partition', 'string', 'Slurm partition (sbatch --partition).'],
  ['time', 'time', 'string', 'Slurm time limit per job, e.g. 2:00:00 (sbatch --time); the job checkpoints and requeues itself before it.'],
  ['cpus-per-task', 'cpusPerTask', 'number', 'CPUs per Slurm job (default 1).'],
  ['gpus-per-task', 'gpusPerTask', 'number', 'GPUs per Slurm job.'],
  ['mem', 'mem', 'string', 'Memory per Slurm job, e.g. 4G (sbatch --mem).'],
  ['account', 'account', 'string', 'Slurm account to charge (sbatch --account).'],
  ['sbatch-extra', 'sbatchExtra', 'string', "More sbatch options for the script's #SBATCH lines, separated by ';', e.g. '--qos=long;--constraint=a100'."],
];

export const SLURM_CLI_OPTIONS: OptionSpec[] = [EXECUTOR_OPTION, ...FLAGS.map(([flag, , type, description]) => ({ flag, type, description, placeholder: type === 'number' ? 'n' : 'value' }))];

export function executorOf(args: ParsedArgs): ExecutorName {
  return (args.options.executor as ExecutorName | undefined) ?? 'local';
}

/** Whether any Slurm flag was given (they only make sense with --executor slurm). */
export function slurmFlagsGiven(args: ParsedArgs): string[] {
  return FLAGS.map(([flag]) => flag).filter((f) => args.options[f] !== undefined);
}

/**
 * The Slurm options: the file's `slurm` section (`source` names it in errors), then the flags.
 * Undefined when neither gives any.
 */
export function slurmOptionsFromArgs(args: ParsedArgs, section: unknown, source: string): SlurmOptions | undefined {
  const fromFile = section === undefined ? {} : check(SlurmOptionsSchema, section, `${source} (slurm)`);
  const fromFlags: Record<string, unknown> = {};
  for (const [flag, key, type] of FLAGS) {
    const v = args.options[flag];
    if (v === undefined) continue;
    if (key === 'sbatchExtra') fromFlags[key] = String(v).split(';').map((s) => s.trim()).filter(Boolean);
    else fromFlags[key] = type === 'number' ? Number(v) : String(v);
  }
  if (section === undefined && !Object.keys(fromFlags).length) return undefined;
  const merged = { ...fromFile, ...fromFlags };
  try {
    return check(SlurmOptionsSchema, merged, 'the Slurm options');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
