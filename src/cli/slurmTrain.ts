// `robust-meta train --executor slurm`: submits the run as a Slurm job instead of training here.
import * as path from 'path';
import { RESUMABLE_KEYS } from '../runner/checkpoint';
import { EXIT_CODES } from '../runner/protocol';
import { allocateRunDir, resolveRunDir } from '../runner/runStore';
import { resubmitRun, submitNewRun, TrainSubmission } from '../runner/slurm/train';
import { readExecutorSection } from '../core/configFile';
import { configFromArgs, kebab, ParsedArgs, UsageError } from './args';
import { runsDirOf } from './command';
import { slurmOptionsFromArgs } from './slurmOptions';

export async function submitTrain(args: ParsedArgs): Promise<number> {
  const json = args.options.json === true;
  const runsDir = runsDirOf(args);
  const configFile = args.options.config as string | undefined;
  const section = configFile ? readExecutorSection(configFile) : undefined;
  const options = slurmOptionsFromArgs(args, section, configFile ? path.resolve(configFile) : 'config');
  const { config, explicit } = configFromArgs(args);
  const resumeRef = args.options.resume as string | undefined;
  let sub: TrainSubmission;
  if (resumeRef !== undefined) {
    const fixed = Object.keys(explicit).filter((k) => !(RESUMABLE_KEYS as readonly string[]).includes(k));
    if (fixed.length)
      throw new UsageError(
        `--resume keeps the run's config; only ${RESUMABLE_KEYS.map((k) => '--' + kebab(k)).join(', ')} may be given with it, not ${fixed.join(', ')}`,
      );
    sub = resubmitRun(resolveRunDir(resumeRef, runsDir), options, explicit);
  } else {
    sub = submitNewRun(allocateRunDir(runsDir, config.method).dir, config, options ?? {});
  }
  if (json) process.stdout.write(JSON.stringify({ type: 'slurm/submitted', jobId: sub.jobId, runDir: sub.runDir, script: sub.script, log: sub.log }) + '\n');
  else {
    process.stdout.write(
      [
        `submitted Slurm job ${sub.jobId}: ${resumeRef !== undefined ? 'resumes' : 'trains'} ${sub.runDir}`,
        `  batch script: ${sub.script}`,
        `  job output:   ${sub.log}`,
        `  state: robust-meta jobs; progress: robust-meta show ${path.basename(sub.runDir)}; stop: scancel ${sub.jobId} (it checkpoints)`,
        `  resume after a stop: robust-meta train --resume ${sub.runDir} --executor slurm`,
      ].join('\n') + '\n',
    );
  }
  return EXIT_CODES.ok;
}
