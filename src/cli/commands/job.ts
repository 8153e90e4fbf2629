// robust-meta job <job.json>: runs one worker job described in a JSON file (src/formats/worker.ts:
// Job), exactly as the extension's and the experiment's workers run it, writing the same run folder
// or result file. With --json its stdout is the worker's event stream, ending with job/done or
// error: an executor that runs jobs elsewhere (a cluster's scheduler) starts this and reads that.
import * as fs from 'fs';
import { resolveConfig } from '../../core/config';
import { JOB_SCHEMAS, JobKindSchema } from '../../formats/worker';
import { parseJson } from '../../formats/validate';
import { EXIT_CODES, Job, signalExitCode, workerMessage } from '../../runner/protocol';
import { ParsedArgs, UsageError } from '../args';
import { Command, HELP_OPTION, JSON_OPTION } from '../command';
import { Progress } from '../output';
import { jobError, jsonEventWriter, jsonLine, runCliJob } from '../jobs';

/** The job in `file`, checked against its declaration; a train job's config is checked as a config. */
export function readJobFile(file: string): Job {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the job file ${file} (${(e as Error).message})`);
  }
  // A job file at fault is like a config file at fault: exit 2, the message naming the file.
  try {
    const { kind } = parseJson(JobKindSchema, text, file);
    const job: Job = parseJson(JOB_SCHEMAS[kind], text, file);
    if (job.kind === 'train' && job.config) job.config = resolveConfig(job.config as Record<string, unknown>, `${file} (config)`);
    return job;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

async function run(args: ParsedArgs): Promise<number> {
  const [file, ...extra] = args.positionals;
  if (!file || extra.length) throw new UsageError('give one job file, e.g. robust-meta job job.json --json');
  const job = readJobFile(file);
  const json = args.options.json === true;
  const progress = new Progress(process.stderr);
  const { result, signalled } = await runCliJob(job, {
    onEvent: json
      ? jsonEventWriter((l) => process.stdout.write(l))
      : (m) => {
          if (m.type === 'run/progress') progress.update({ step: m.step, total: m.totalSteps, etaSeconds: m.etaSeconds });
          else if (m.type === 'log' && m.level === 'warn') progress.log(`warning: ${m.message}`);
        },
    onStop: () => process.stderr.write('stopping (a training run after a checkpoint; Ctrl-C again to quit at once)\n'),
    onQuit: () => progress.done(),
  });
  progress.done();
  if (!result.done || result.state === 'failed') throw jobError(result);
  if (json) process.stdout.write(jsonLine(workerMessage(result.done)));
  else
    process.stdout.write(
      `${job.kind} job ${result.state}${result.resultPath ? `: ${result.resultPath}` : result.done.runDir ? `: ${result.done.runDir}` : ''}\n`,
    );
  return signalled ? signalExitCode(signalled) : EXIT_CODES.ok;
}

export const jobCommand: Command = {
  name: 'job',
  summary: 'Run one worker job from a JSON job file (what an experiment executor runs on another machine).',
  usage: '<job.json> [--json]',
  options: [HELP_OPTION, { ...JSON_OPTION, description: 'Print the worker events as JSON lines on stdout, ending with job/done or error.' }],
  details: 'The job file holds one job of src/formats/worker.ts: {"kind":"train",...}, {"kind":"eval",...} or {"kind":"bench",...}.',
  run,
};
