// robust-meta experiment <spec.json>: trains and evaluates every method of an experiment spec and
// writes its report (see src/runner/experiment.ts and experiments/unseen-domain.json).
import * as fs from 'fs';
import * as path from 'path';
import { readExperimentSpec, runExperiment } from '../../runner/experiment';
import { EXIT_CODES } from '../../runner/protocol';
import { slurmExecutor, SlurmExecutor } from '../../runner/slurm/executor';
import { ParsedArgs, UsageError } from '../args';
import { executorOf, SLURM_CLI_OPTIONS, slurmFlagsGiven, slurmOptionsFromArgs } from '../slurmOptions';
import { Command, HELP_OPTION } from '../command';
import { writeResultsDoc } from '../resultsDoc';

async function run(args: ParsedArgs): Promise<number> {
  const [specFile, ...extra] = args.positionals;
  if (!specFile || extra.length) throw new UsageError('give one experiment spec, e.g. robust-meta experiment experiments/unseen-domain.json');
  const name = path.basename(specFile, '.json');
  const outDir = path.resolve(String(args.options.out ?? path.join('experiments', 'out', name)));
  const docFile = path.resolve(String(args.options.doc ?? path.join('docs', 'results.md')));
  const command = ['robust-meta experiment', specFile, ...(args.options.source ? ['--source', String(args.options.source)] : [])].join(' ');
  const log = (line: string) => process.stderr.write(line + '\n');
  const slurm = executorOf(args) === 'slurm' ? slurmExecutorOf(args, specFile, outDir, name, log) : undefined;
  if (!slurm && slurmFlagsGiven(args).length) throw new UsageError(`--${slurmFlagsGiven(args)[0]} is a Slurm option; add --executor slurm`);
  // Ctrl-C leaves no job of ours running on the cluster.
  const onSignal = () => {
    slurm?.cancelAll();
    process.exit(EXIT_CODES.interrupted);
  };
  if (slurm) process.once('SIGINT', onSignal);
  let outcome;
  try {
    outcome = await runExperiment({
      specFile,
      source: args.options.source as string | undefined,
      outDir,
      docFile,
      log,
      ...(slurm ? { executor: slurm, jobsAtOnce: Number.MAX_SAFE_INTEGER } : {}),
    });
  } finally {
    process.off('SIGINT', onSignal);
  }
  const notes = specFile.replace(/\.json$/, '.notes.md');
  writeResultsDoc(outcome, docFile, command);
  if (fs.existsSync(notes)) fs.appendFileSync(docFile, '\n' + fs.readFileSync(notes, 'utf8'));
  process.stdout.write(`report: ${docFile}\nexperiment folder: ${outDir} (${(outcome.wallSeconds / 60).toFixed(1)} min)\n`);
  return EXIT_CODES.ok;
}

/** The experiment's jobs as Slurm job arrays; options from the flags and the spec's `slurm` section. */
function slurmExecutorOf(args: ParsedArgs, specFile: string, outDir: string, name: string, log: (line: string) => void): SlurmExecutor {
  const section = readExperimentSpec(specFile).slurm;
  return slurmExecutor({
    folder: outDir,
    options: slurmOptionsFromArgs(args, section, path.resolve(specFile)) ?? {},
    workDir: process.cwd(),
    name: `rm-${name}`,
    log,
  });
}

export const experimentCommand: Command = {
  name: 'experiment',
  summary: 'Train and evaluate every method of an experiment spec; write the results report.',
  usage: '<spec.json> [--source DIR] [--out DIR] [--doc FILE]',
  options: [
    HELP_OPTION,
    { flag: 'source', type: 'string', placeholder: 'dir', description: "Source domain folder (overrides the spec's 'source')." },
    {
      flag: 'out',
      type: 'string',
      placeholder: 'dir',
      description: 'Experiment folder for runs, results and logs (default experiments/out/<spec name>). Finished jobs there are reused.',
    },
    { flag: 'doc', type: 'string', placeholder: 'file.md', description: 'Where the markdown report goes (default docs/results.md).' },
    ...SLURM_CLI_OPTIONS,
  ],
  details: [
    'Examples:',
    '  robust-meta experiment experiments/unseen-domain.json --source ../shared/data/fashion-mnist',
    '  robust-meta experiment experiments/unseen-domain.json --executor slurm --partition cpu --time 2:00:00',
    'With --executor slurm each phase (training runs, validation, evaluations) is one job array; this',
    'command waits on the login node and writes the report; the folders must be on a shared filesystem.',
  ].join('\n'),
  run,
};
