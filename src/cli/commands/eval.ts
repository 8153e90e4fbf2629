// robust-meta eval: one or several checkpoints (files or run folders) on the same seeded episodes
// of a dataset's held-out classes. Clean and robust accuracy with 95% CIs, the robustness curve,
// gradient-masking checks; writes the result JSON with sample perturbation PNGs beside it and
// prints a table (or the JSON with --json). The job itself is runner/evalJob.ts, run by the worker
// (in a thread of this process, as cli/jobs.ts does for every command); this file is the command
// line around it.
import * as fs from 'fs';
import * as path from 'path';
import { BACKEND_CHOICES } from '../../core/backend';
import { isUserError } from '../../core/errors';
import { DEFAULT_ATTACK_STEPS, DEFAULT_EPISODES, DEFAULT_QUERIES, resolveEvalOptions } from '../../core/evaluate';
import { readCheckpointHeader, resolveCheckpoint } from '../../runner/checkpoint';
import { sourceDataPath } from '../../runner/packageInfo';
import { EXIT_CODES, EvalJobArgs, workerMessage } from '../../runner/protocol';
import { EvalResultFileSchema } from '../../formats/evalResult';
import { parseJson } from '../../formats/validate';
import { jobError, jsonLine, runCliJob } from '../jobs';
import { isRunDir, RUN_FILES } from '../../runner/runStore';
import { isSetupError } from '../../runner/train';
import { isUsageError, OptionSpec, OptionValue, parseArgs, UsageError } from '../args';
import { HELP_OPTION, JSON_OPTION, RUNS_DIR_OPTION } from '../command';
import { Progress } from '../output';
import { renderEvalTable } from '../table';

export const EVAL_OPTIONS: OptionSpec[] = [
  {
    flag: 'checkpoint',
    short: 'c',
    type: 'string',
    placeholder: 'file|run',
    description: 'A checkpoint file, or a run folder (its newest checkpoint), or a run id under --runs-dir. Repeat to compare models on the same episodes.',
  },
  {
    flag: 'data',
    type: 'string',
    placeholder: 'folder',
    description: "Dataset: an image folder or an IDX folder. Default: the first checkpoint's training data.",
  },
  { flag: 'split', type: 'string', enum: ['test', 'val', 'train'], default: 'test', description: 'Which classes of the dataset the episodes come from.' },
  { flag: 'ways', type: 'number', placeholder: 'n', description: "Classes per episode. Default: the models' training ways (5 when they differ)." },
  { flag: 'shots', type: 'number', placeholder: 'n', description: "Support images per class. Default: the models' training shots (1 when they differ)." },
  { flag: 'queries', type: 'number', placeholder: 'n', default: DEFAULT_QUERIES, description: 'Query images per class.' },
  { flag: 'episodes', type: 'number', placeholder: 'n', default: DEFAULT_EPISODES, description: 'Episodes (the same for every model).' },
  { flag: 'eps', type: 'number', placeholder: 'r', default: '8/255', description: 'Attack radius in [0,1] pixel units; fractions like 8/255 are fine.' },
  { flag: 'attack-steps', type: 'number', placeholder: 'n', default: DEFAULT_ATTACK_STEPS, description: 'PGD steps.' },
  {
    flag: 'attack-step-size',
    type: 'number',
    placeholder: 'a',
    description: 'PGD step size at eps (default eps/4, i.e. 2/255 at 8/255); curve points scale it.',
  },
  { flag: 'restarts', type: 'number', placeholder: 'n', default: 0, description: 'Extra random restarts of PGD (the worst case per image is kept).' },
  { flag: 'norm', type: 'string', enum: ['linf', 'l2'], default: 'linf', description: 'Threat model norm.' },
  {
    flag: 'head',
    type: 'string',
    enum: ['both', 'auto', 'finetune', 'prototype'],
    default: 'both',
    description:
      'How models adapt to the support set: their inner loop (finetune), or a frozen-encoder nearest-class-mean head (prototype). auto: prototype for rocl, finetune for the others; both: auto and, beside it, the prototype head.',
  },
  {
    flag: 'inner-steps',
    type: 'number',
    placeholder: 'n',
    description: "Inner-loop steps when finetuning, for every model. Default: each model's innerStepsTest.",
  },
  {
    flag: 'curve',
    type: 'string',
    placeholder: 'list',
    default: '0,1,2,4,8,16',
    description:
      "Radii of the robustness curve: numbers in 1/255 units, or fractions like 0.5/255 taken as they are; 'none' for no curve. Default for L2: eps times 0,1/8,1/4,1/2,1,2.",
  },
  {
    flag: 'strong',
    type: 'boolean',
    description:
      'Gradient-masking check: also attack with 6 separate runs of PGD-100 (step eps/10) at eps, an image robust only if correct under every run, and compare.',
  },
  { flag: 'strong-steps', type: 'number', placeholder: 'n', default: 100, description: 'PGD steps of each --strong run.' },
  { flag: 'strong-restarts', type: 'number', placeholder: 'n', default: 5, description: 'Extra runs of the --strong attack, each from its own random start.' },
  { flag: 'strong-step-size', type: 'number', placeholder: 'a', description: 'Step size of the --strong attack (default eps/10).' },
  { flag: 'strong-loss', type: 'string', enum: ['ce', 'margin'], default: 'ce', description: 'Loss of the --strong attack: cross-entropy, or the CW margin.' },
  { flag: 'samples', type: 'boolean', default: true, description: 'Write sample perturbation PNGs of the first episode next to the result.' },
  { flag: 'seed', type: 'number', placeholder: 'n', default: 0, description: 'Seed of the episodes and the attacks.' },
  {
    flag: 'out',
    type: 'string',
    placeholder: 'file.json',
    description: 'Result file. Default: <run>/results/eval-<data>-<split>-<ways>w<shots>s.json for one run, else ./eval-<data>-<split>-<ways>w<shots>s.json.',
  },
  { flag: 'backend', type: 'string', enum: BACKEND_CHOICES, default: 'auto', description: 'tfjs backend.' },
  {
    flag: 'threads',
    type: 'number',
    placeholder: 'n',
    description: 'Worker threads sharing the episodes (the numbers do not depend on it). Default: one per core on the wasm and cpu backends, 1 on native ones.',
  },
  { flag: 'quiet', short: 'q', type: 'boolean', description: 'No progress on stderr.' },
  RUNS_DIR_OPTION,
  JSON_OPTION,
  HELP_OPTION,
];

const USAGE = '--checkpoint <file|run> [--checkpoint ...] [--data <folder>] [options]';
const DETAILS = [
  'examples:',
  '  robust-meta eval --checkpoint runs/20261126-181500-mavrl --data data/glyphs',
  '  robust-meta eval -c runs/a -c runs/b --data data/glyphs --shots 5 --episodes 400 --strong',
  '  robust-meta eval -c run.ckpt --data cub/ --eps 8/255 --attack-steps 100 --restarts 4 --json',
  '',
  'Every model sees the same seeded episodes. Robust accuracy is under white-box PGD (random start)',
  'through the adapted model. A warning is printed when a gradient-masking check fails: robust',
  'accuracy rising with eps, robust above clean, or (--strong) a stronger attack finding much more.',
].join('\n');

function helpText(): string {
  const line = (o: OptionSpec) => {
    const flag = `--${o.flag}${o.type === 'boolean' ? '' : ` <${o.placeholder ?? (o.enum ? o.enum.join('|') : 'value')}>`}${o.short ? `, -${o.short}` : ''}`;
    const def =
      o.default !== undefined && o.type !== 'boolean'
        ? ` (default ${o.default})`
        : o.type === 'boolean' && o.default === true
          ? ` (default on; --no-${o.flag} turns it off)`
          : '';
    return `  ${flag.padEnd(34)} ${o.description}${def}`;
  };
  return (
    [
      `usage: robust-meta eval ${USAGE}`,
      '',
      'Evaluate checkpoints on a dataset: clean and robust accuracy with 95% CIs, robustness curve.',
      '',
      'options:',
      ...EVAL_OPTIONS.map(line),
      '',
      DETAILS,
    ].join('\n') + '\n'
  );
}

/** Pulls every --checkpoint/-c value out of argv (the parser keeps one value per flag). */
function takeCheckpoints(argv: readonly string[]): { refs: string[]; rest: string[] } {
  const refs: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === '--checkpoint' || a === '-c') {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value (a checkpoint file or a run folder)`);
      refs.push(argv[++i]);
    } else if (a.startsWith('--checkpoint=')) {
      refs.push(a.slice('--checkpoint='.length));
    } else rest.push(a);
  }
  return { refs, rest };
}

/** '0,1,2,4,8,16' -> radii in [0,1] units; bare numbers are 1/255 units, fractions are values. */
export function parseCurve(raw: string): number[] {
  const text = raw.trim();
  if (text === '' || text === 'none') return [];
  return text.split(',').map((part) => {
    const s = part.trim();
    const frac = /^([\d.]+(?:e-?\d+)?)\s*\/\s*([\d.]+(?:e-?\d+)?)$/i.exec(s);
    const v = frac ? Number(frac[1]) / Number(frac[2]) : s === '' ? NaN : Number(s) / 255;
    if (!Number.isFinite(v) || v < 0) {
      throw new UsageError(
        `--curve ${JSON.stringify(raw)}: '${s}' is not a radius; give numbers in 1/255 units (like 0,1,2,4,8,16) or fractions (like 8/255), or 'none'`,
      );
    }
    return v;
  });
}

/** A checkpoint reference as given: a path, or a run id under the runs folder. */
function locateCheckpoint(ref: string, runsDir: string): string {
  if (fs.existsSync(path.resolve(ref))) return resolveCheckpoint(ref);
  const underRuns = path.resolve(runsDir, ref);
  if (fs.existsSync(underRuns)) return resolveCheckpoint(underRuns);
  throw new UsageError(
    `--checkpoint ${ref}: no such checkpoint file or run folder (looked at ${path.resolve(ref)} and ${underRuns}; robust-meta list shows the runs)`,
  );
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '') || 'data';
}

/** The command's settings checked before anything is loaded; mistakes are UsageErrors (exit 2). */
function jobOptions(o: Record<string, OptionValue>): Record<string, string | number | boolean> {
  const job: Record<string, string | number | boolean> = {};
  const copy = (flag: string, key: string) => {
    if (o[flag] !== undefined) job[key] = o[flag];
  };
  copy('split', 'split');
  copy('ways', 'ways');
  copy('shots', 'shots');
  copy('queries', 'queries');
  copy('episodes', 'episodes');
  copy('seed', 'seed');
  copy('head', 'head');
  copy('inner-steps', 'innerSteps');
  copy('eps', 'eps');
  copy('attack-steps', 'attackSteps');
  copy('attack-step-size', 'attackStepSize');
  copy('norm', 'norm');
  copy('restarts', 'restarts');
  copy('backend', 'backend');
  copy('threads', 'threads');
  if (o.threads !== undefined && (!Number.isInteger(o.threads) || (o.threads as number) < 1)) {
    throw new UsageError(`--threads must be a whole number >= 1, got ${o.threads}`);
  }
  if (o.strong === true) job.strongAttack = true;
  const strongFlags = ['strong-steps', 'strong-restarts', 'strong-step-size', 'strong-loss'];
  if (strongFlags.some((f) => o[f] !== undefined) && o.strong !== true) {
    throw new UsageError(`${strongFlags.map((f) => `--${f}`).join(', ')} go with --strong`);
  }
  copy('strong-steps', 'strongSteps');
  copy('strong-restarts', 'strongRestarts');
  copy('strong-step-size', 'strongStepSize');
  copy('strong-loss', 'strongLoss');
  const strongAttack =
    o.strong === true
      ? {
          steps: job.strongSteps as number | undefined,
          restarts: job.strongRestarts as number | undefined,
          stepSize: job.strongStepSize as number | undefined,
          loss: job.strongLoss as 'ce' | undefined,
        }
      : false;
  if (o.samples === false) job.samples = false;
  let curve: number[] | undefined;
  if (o.curve !== undefined) {
    curve = parseCurve(String(o.curve));
    // The job reads the curve in 1/255 units.
    job.curve = curve.map((e) => String(e * 255)).join(',');
  }
  try {
    resolveEvalOptions([], {
      split: job.split as 'test',
      ways: job.ways as number,
      shots: job.shots as number,
      queries: job.queries as number,
      episodes: job.episodes as number,
      seed: job.seed as number,
      head: job.head as 'auto',
      innerSteps: job.innerSteps as number,
      attack: {
        eps: job.eps as number,
        steps: job.attackSteps as number,
        stepSize: job.attackStepSize as number,
        norm: job.norm as 'linf',
        restarts: job.restarts as number,
      },
      curve,
      strongAttack,
    });
  } catch (e) {
    if (isUserError(e)) throw new UsageError((e as Error).message);
    throw e;
  }
  return job;
}

function defaultOut(files: string[], data: string, job: Record<string, string | number | boolean>): string {
  const header = readCheckpointHeader(files[0]);
  const common = (k: 'ways' | 'shots', fallback: number) => {
    const vals = new Set(files.map((f) => (f === files[0] ? header : readCheckpointHeader(f)).config[k]));
    return vals.size === 1 ? [...vals][0] : fallback;
  };
  const ways = (job.ways as number | undefined) ?? common('ways', 5);
  const shots = (job.shots as number | undefined) ?? common('shots', 1);
  const name = `eval-${slug(path.basename(data))}-${job.split ?? 'test'}-${ways}w${shots}s.json`;
  const runDirs = new Set(files.map((f) => path.dirname(path.dirname(f))));
  if (runDirs.size === 1) {
    const runDir = [...runDirs][0];
    if (isRunDir(runDir)) return path.join(runDir, RUN_FILES.results, name);
  }
  return path.resolve(name);
}

/** Where the command writes; process.stdout and process.stderr unless a caller (a test) gives others. */
export interface EvalIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean; columns?: number };
}

async function run(argv: string[], io: EvalIo): Promise<number> {
  const { refs, rest } = takeCheckpoints(argv);
  const args = parseArgs(
    rest,
    EVAL_OPTIONS.filter((o) => o.flag !== 'checkpoint'),
    'eval',
  );
  if (args.options.help === true) {
    io.stdout.write(helpText());
    return EXIT_CODES.ok;
  }
  refs.push(...args.positionals);
  if (!refs.length)
    throw new UsageError('eval needs a model: --checkpoint <file or run folder> (repeat it to compare several); robust-meta eval --help lists the options');
  const runsDir = typeof args.options['runs-dir'] === 'string' ? (args.options['runs-dir'] as string) : 'runs';
  const job = jobOptions(args.options);
  const files = refs.map((r) => locateCheckpoint(r, runsDir));
  let data: string;
  if (typeof args.options.data === 'string') {
    data = path.resolve(args.options.data);
    if (!fs.existsSync(data))
      throw new UsageError(`--data ${args.options.data}: ${data} does not exist; give an image folder (one sub-folder per class) or a folder of IDX files`);
  } else {
    data = sourceDataPath(readCheckpointHeader(files[0]).config.data);
  }
  const out = typeof args.options.out === 'string' ? path.resolve(args.options.out) : defaultOut(files, data, job);
  if (!out.toLowerCase().endsWith('.json'))
    throw new UsageError(`--out ${args.options.out}: the result file must end in .json (samples go in a folder beside it)`);
  const json = args.options.json === true;
  const progress = args.options.quiet === true ? undefined : new Progress(io.stderr as NodeJS.WriteStream, 'episode');
  if (typeof args.options.data !== 'string')
    progress?.log(`no --data: evaluating on the ${job.split ?? 'test'} classes of ${data}, the first model's training data`);
  const jobArgs: EvalJobArgs = { checkpoints: files, data, out, options: job };
  const { result, signalled } = await runCliJob(
    { kind: 'eval', args: jobArgs },
    {
      onEvent: (m) => {
        if (m.type === 'run/progress') progress?.update({ step: m.step, total: m.totalSteps, etaSeconds: m.etaSeconds });
        else if (m.type === 'log' && m.level === 'warn') {
          if (progress) progress.log(`${m.level}: ${m.message}`);
          else io.stderr.write(`${m.level}: ${m.message}\n`);
        }
      },
    },
  );
  progress?.done();
  if (signalled) {
    io.stderr.write('robust-meta eval: interrupted; no result written\n');
    return EXIT_CODES.interrupted;
  }
  if (result.state !== 'done' || !result.resultPath) throw jobError(result);
  const written = result.resultPath;
  const evalResult = parseJson(EvalResultFileSchema, fs.readFileSync(written, 'utf8'), written);
  if (json) io.stdout.write(JSON.stringify(evalResult, null, 2) + '\n');
  else io.stdout.write(renderEvalTable(evalResult) + `\nwrote ${path.relative(process.cwd(), written) || written}\n`);
  return EXIT_CODES.ok;
}

/**
 * `robust-meta eval`: returns the exit code (0 ok, 1 failure, 2 usage error, 130 interrupted),
 * having printed any error as a message for the user.
 */
export async function runEvalCommand(argv: string[], io: EvalIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  try {
    return await run(argv, io);
  } catch (e) {
    const user = isUserError(e);
    const code = user ? (isUsageError(e) || isSetupError(e) ? EXIT_CODES.usage : EXIT_CODES.failure) : EXIT_CODES.failure;
    const err = e as Error;
    const message = user ? err.message : `unexpected error: ${err?.message ?? String(e)}`;
    // As in the other commands: with --json an error is also an event on stdout.
    if (argv.includes('--json')) io.stdout.write(jsonLine(workerMessage({ type: 'error', message, userError: user, exitCode: code })));
    io.stderr.write(`robust-meta eval: ${message}\n${user ? '' : `${err?.stack ?? ''}\n`}`);
    return code;
  }
}
