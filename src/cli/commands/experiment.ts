// robust-meta experiment <spec.json>: trains and evaluates every method of an experiment spec and
// writes its report (see src/runner/experiment.ts and experiments/unseen-domain.json).
import * as fs from 'fs';
import * as path from 'path';
import { runExperiment } from '../../runner/experiment';
import { EXIT_CODES } from '../../runner/protocol';
import { ParsedArgs, UsageError } from '../args';
import { Command, HELP_OPTION } from '../command';
import { writeResultsDoc } from '../resultsDoc';

async function run(args: ParsedArgs): Promise<number> {
  const [specFile, ...extra] = args.positionals;
  if (!specFile || extra.length) throw new UsageError('give one experiment spec, e.g. robust-meta experiment experiments/unseen-domain.json');
  const name = path.basename(specFile, '.json');
  const outDir = path.resolve(String(args.options.out ?? path.join('experiments', 'out', name)));
  const docFile = path.resolve(String(args.options.doc ?? path.join('docs', 'results.md')));
  const command = ['robust-meta experiment', specFile, ...(args.options.source ? ['--source', String(args.options.source)] : [])].join(' ');
  const outcome = await runExperiment({
    specFile,
    source: args.options.source as string | undefined,
    outDir,
    docFile,
    log: (line) => process.stderr.write(line + '\n'),
  });
  const notes = specFile.replace(/\.json$/, '.notes.md');
  writeResultsDoc(outcome, docFile, command);
  if (fs.existsSync(notes)) fs.appendFileSync(docFile, '\n' + fs.readFileSync(notes, 'utf8'));
  process.stdout.write(`report: ${docFile}\nexperiment folder: ${outDir} (${(outcome.wallSeconds / 60).toFixed(1)} min)\n`);
  return EXIT_CODES.ok;
}

export const experimentCommand: Command = {
  name: 'experiment',
  summary: 'Train and evaluate every method of an experiment spec; write the results report.',
  usage: '<spec.json> [--source DIR] [--out DIR] [--doc FILE]',
  options: [
    HELP_OPTION,
    { flag: 'source', type: 'string', placeholder: 'dir', description: "Source domain folder (overrides the spec's 'source')." },
    { flag: 'out', type: 'string', placeholder: 'dir', description: 'Experiment folder for runs, results and logs (default experiments/out/<spec name>). Finished jobs there are reused.' },
    { flag: 'doc', type: 'string', placeholder: 'file.md', description: 'Where the markdown report goes (default docs/results.md).' },
  ],
  details: 'Example:\n  robust-meta experiment experiments/unseen-domain.json --source ../shared/data/fashion-mnist',
  run,
};
