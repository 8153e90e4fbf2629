// The executor choice and the Slurm options of `train` and `experiment`: flags win over the
// `slurm` section of the config file (or experiment spec), which is checked against its schema.
import { SlurmOptions, SlurmOptionsSchema } from '../formats/slurm';
import { Type } from '@sinclair/typebox';
import { check, formatProblems } from '../formats/validate';
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

export const SLURM_CLI_OPTIONS: OptionSpec[] = [
  EXECUTOR_OPTION,
  ...FLAGS.map(([flag, , type, description]) => ({ flag, type, description, placeholder: type === 'number' ? 'n' : 'value' })),
];

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
  let fromFile: SlurmOptions = {};
  try {
    if (section !== undefined) fromFile = check(SlurmOptionsSchema, section, `${source} (slurm)`);
  } catch (e) {
    // A config mistake, as in the rest of the file: exit code 2.
    throw new UsageError((e as Error).message);
  }
  const fromFlags: Record<string, unknown> = {};
  for (const [flag, key, type] of FLAGS) {
    const v = args.options[flag];
    if (v === undefined) continue;
    if (key === 'sbatchExtra')
      fromFlags[key] = String(v)
        .split(';')
        .map((s) => s.trim())
        .filter(Boolean);
    else fromFlags[key] = type === 'number' ? Number(v) : String(v);
  }
  if (section === undefined && !Object.keys(fromFlags).length) return undefined;
  // A bad flag is named as the user typed it, with what it should be.
  for (const [flag, key] of FLAGS) {
    if (fromFlags[key] === undefined) continue;
    const field = SlurmOptionsSchema.properties[key];
    const problems = formatProblems(Type.Object({ [key]: field }), { [key]: fromFlags[key] });
    if (problems.length)
      throw new UsageError(
        `--${flag} ${JSON.stringify(args.options[flag])}: not valid for ${field.description ?? key} (${problems[0].replace(/^\/\w+: /, '')})`,
      );
  }
  return check(SlurmOptionsSchema, { ...fromFile, ...fromFlags }, 'the Slurm options');
}
