// robust-meta train: meta-trains one run in a worker thread of this process (the worker and
// protocol the extension uses; a thread of its own so that signals are answered at once).
// Ctrl-C (or SIGTERM) stops after writing a checkpoint (exit 130, or 143 for SIGTERM); a second
// one quits at once.
import * as path from 'path';
import { RESUMABLE_KEYS } from '../../runner/checkpoint';
import { EXIT_CODES, signalExitCode, TrainJob, WorkerMessage, workerMessage } from '../../runner/protocol';
import { allocateRunDir, readStatus, resolveRunDir, writeStatus } from '../../runner/runStore';
import { jobError, jsonEventWriter, jsonLine, runCliJob } from '../jobs';
import { CONFIG_OPTIONS, configFromArgs, ParsedArgs, UsageError } from '../args';
import { Command, CONFIG_FILE_OPTION, HELP_OPTION, JSON_OPTION, RUNS_DIR_OPTION, runsDirOf } from '../command';
import { formatNumber } from '../../formats/display';
import { Progress } from '../output';
import { executorOf, SLURM_CLI_OPTIONS, slurmFlagsGiven } from '../slurmOptions';
import { submitTrain } from '../slurmTrain';

async function run(args: ParsedArgs): Promise<number> {
  if (args.positionals.length) throw new UsageError(`train takes no positional arguments, got ${args.positionals.join(' ')}`);
  if (executorOf(args) === 'slurm') return submitTrain(args);
  const stray = slurmFlagsGiven(args);
  if (stray.length) throw new UsageError(`--${stray[0]} is a Slurm option; add --executor slurm`);
  const json = args.options.json === true;
  const runsDir = runsDirOf(args);
  const resumeRef = args.options.resume as string | undefined;
  const { config, explicit } = configFromArgs(args);
  let runDir: string;
  if (resumeRef !== undefined) {
    runDir = resolveRunDir(resumeRef, runsDir);
    const fixed = Object.keys(explicit).filter((k) => !(RESUMABLE_KEYS as readonly string[]).includes(k));
    if (fixed.length) {
      throw new UsageError(
        `--resume keeps the run's config; only ${RESUMABLE_KEYS.map((k) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())).join(', ')} may be given with it, not ${fixed.join(', ')}`,
      );
    }
  } else {
    runDir = allocateRunDir(runsDir, config.method).dir;
  }

  const progress = new Progress(process.stderr);
  const say = (line: string) => (json ? process.stderr.write(line + '\n') : progress.log(line));
  const job: TrainJob = {
    kind: 'train',
    runDir,
    ...(resumeRef === undefined ? { config } : { overrides: explicit }),
    resume: resumeRef !== undefined,
    cacheDir: path.join(path.resolve(runsDir), '.cache'),
  };
  const { result, signalled } = await runCliJob(job, {
    onEvent: json ? jsonEventWriter((l) => process.stdout.write(l)) : (m) => showEvent(m, say, progress),
    onStop: () => say('stopping after a checkpoint (Ctrl-C again to quit at once)'),
    // Second signal: quit now, without waiting for the step in progress (the loop runs in its own
    // thread, so this handler runs at once). The run keeps its last checkpoint.
    onQuit: () => {
      try {
        const s = readStatus(runDir);
        if (s.state === 'running')
          writeStatus(runDir, {
            ...s,
            state: 'stopped',
            pid: undefined,
            message: `interrupted at step ${s.step} before a final checkpoint; resume with: robust-meta train --resume ${runDir}`,
          });
      } catch {
        // Nothing written yet, or no room to write: the lock of a gone process reads as interrupted.
      }
      progress.done();
    },
  });
  progress.done();
  const out = result.done;
  // main() prints the error (and its JSON event) for every stage alike.
  if (!out || result.state === 'failed') throw jobError(result);
  if (json) process.stdout.write(jsonLine(workerMessage(out)));
  else {
    process.stdout.write(
      `${out.state === 'done' ? 'finished' : 'stopped'} at step ${out.step}/${out.totalSteps} in ${(out.seconds ?? 0).toFixed(1)}s: ${out.runDir}\n`,
    );
    if (out.state === 'stopped') process.stdout.write(`resume with: robust-meta train --resume ${out.runDir}\n`);
  }
  return signalled ? signalExitCode(signalled) : EXIT_CODES.ok;
}

/** A training event for a person: a line when it starts, the progress bar, warnings and notes. */
function showEvent(m: WorkerMessage, say: (line: string) => void, progress: Progress): void {
  if (m.type === 'run/started')
    say(`${m.resumedFrom ? 'resuming' : 'training'} ${m.runDir} on ${m.backend}${m.resumedFrom ? ` from step ${m.step}` : ''} (${m.totalSteps} steps)`);
  else if (m.type === 'run/progress')
    progress.update({
      step: m.step,
      total: m.totalSteps,
      etaSeconds: m.etaSeconds,
      fields: { loss: formatNumber(m.loss), 'ms/step': String(Math.round(m.msPerStep)) },
    });
  else if (m.type === 'log' && !/^worker exiting/.test(m.message)) say(`${m.level === 'warn' ? 'warning: ' : ''}${m.message}`);
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'Meta-train a model into a new run folder, or resume one.',
  usage: '[--config file.json] [--<config-key> value ...] [--resume runs/<id>]',
  options: [
    HELP_OPTION,
    CONFIG_FILE_OPTION,
    {
      flag: 'resume',
      type: 'string',
      placeholder: 'run',
      description: 'Resume this run (folder or id) from its newest checkpoint; only --steps, --checkpoint-every, --backend, --workers may change.',
    },
    RUNS_DIR_OPTION,
    {
      ...JSON_OPTION,
      description:
        'Print the worker events as JSON lines on stdout (run/started, run/progress, run/metric, run/checkpoint, run/samples, log, then job/done or error; src/formats/worker.ts).',
    },
    ...SLURM_CLI_OPTIONS,
    ...CONFIG_OPTIONS,
  ],
  details: [
    'Examples:',
    '  robust-meta train --method aq --steps 200 --image-size 28 --channels 1',
    '  robust-meta train --config my-run.json --eps 4/255',
    '  robust-meta train --resume runs/20261126-181500-mavrl --steps 2000',
    '  robust-meta train --config my-run.json --executor slurm --partition gpu --time 4:00:00',
    '',
    'Ctrl-C stops after writing a checkpoint (exit code 130; 143 for SIGTERM); a second Ctrl-C quits at once.',
  ].join('\n'),
  run,
};
