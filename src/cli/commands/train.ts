// robust-meta train: meta-trains one run in this process (the same train() the worker runs, in a
// thread of its own so that signals are answered at once).
// Ctrl-C (or SIGTERM) stops after writing a checkpoint (exit 130, or 143 for SIGTERM); a second
// one quits at once.
import * as path from 'path';
import { RESUMABLE_KEYS } from '../../runner/checkpoint';
import { EXIT_CODES, signalExitCode } from '../../runner/protocol';
import { allocateRunDir, readStatus, resolveRunDir, writeStatus } from '../../runner/runStore';
import { startTrainThread } from '../trainThread';
import { CONFIG_OPTIONS, configFromArgs, ParsedArgs, UsageError } from '../args';
import { Command, CONFIG_FILE_OPTION, HELP_OPTION, JSON_OPTION, RUNS_DIR_OPTION, runsDirOf } from '../command';
import { formatNumber } from '../../formats/display';
import { Progress } from '../output';

function emit(json: boolean, event: Record<string, unknown>): void {
  if (json) process.stdout.write(JSON.stringify(event) + '\n');
}

async function run(args: ParsedArgs): Promise<number> {
  if (args.positionals.length) throw new UsageError(`train takes no positional arguments, got ${args.positionals.join(' ')}`);
  const json = args.options.json === true;
  const runsDir = runsDirOf(args);
  const resumeRef = args.options.resume as string | undefined;
  const { config, explicit } = configFromArgs(args);
  let runDir: string;
  if (resumeRef !== undefined) {
    runDir = resolveRunDir(resumeRef, runsDir);
    const fixed = Object.keys(explicit).filter((k) => !(RESUMABLE_KEYS as readonly string[]).includes(k));
    if (fixed.length) {
      throw new UsageError(`--resume keeps the run's config; only ${RESUMABLE_KEYS.map((k) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())).join(', ')} may be given with it, not ${fixed.join(', ')}`);
    }
  } else {
    runDir = allocateRunDir(runsDir, config.method).dir;
  }

  const progress = new Progress(process.stderr);
  const say = (line: string) => (json ? process.stderr.write(line + '\n') : progress.log(line));
  const thread = startTrainThread(
    {
      runDir,
      config: resumeRef === undefined ? config : undefined,
      resume: resumeRef !== undefined,
      overrides: resumeRef !== undefined ? explicit : undefined,
      cacheDir: path.join(path.resolve(runsDir), '.cache'),
    },
    {
      onStarted: (i) => {
        emit(json, { event: 'started', runDir: i.runDir, step: i.step, totalSteps: i.totalSteps, backend: i.backend, resumedFrom: i.resumedFrom ?? null });
        if (!json) say(`${i.resumedFrom ? 'resuming' : 'training'} ${i.runDir} on ${i.backend}${i.resumedFrom ? ` from step ${i.step}` : ''} (${i.totalSteps} steps)`);
      },
      onProgress: (p) => {
        if (!json) progress.update({ step: p.step, total: p.totalSteps, etaSeconds: p.etaSeconds, fields: { loss: formatNumber(p.loss), 'ms/step': String(Math.round(p.msPerStep)) } });
      },
      onMetric: (m) => emit(json, { event: 'metric', ...m }),
      onCheckpoint: (step, file) => {
        emit(json, { event: 'checkpoint', step, path: file });
      },
      onLog: (level, message) => {
        emit(json, { event: 'log', level, message });
        if (!json) say(`${level === 'warn' ? 'warning: ' : ''}${message}`);
      },
    },
  );
  /** The signal that asked the run to stop, if one did. */
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) {
      // Second signal: quit now, without waiting for the step in progress (the loop runs in its
      // own thread, so this handler runs at once). The run keeps its last checkpoint.
      try {
        const s = readStatus(runDir);
        if (s.state === 'running') writeStatus(runDir, { ...s, state: 'stopped', pid: undefined, message: `interrupted at step ${s.step} before a final checkpoint; resume with: robust-meta train --resume ${runDir}` });
      } catch {
        // Nothing written yet, or no room to write: the lock of a gone process reads as interrupted.
      }
      progress.done();
      process.exit(signalExitCode(sig));
    }
    signalled = sig;
    thread.cancel();
    say('stopping after a checkpoint (Ctrl-C again to quit at once)');
  };
  // SIGTERM (a kill, a service manager) stops the same way: a checkpoint first.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const out = await thread.outcome;
    progress.done();
    emit(json, { event: 'done', state: out.state, runDir: out.runDir, step: out.step, totalSteps: out.totalSteps, checkpoint: out.checkpoint ?? null, seconds: out.seconds });
    if (!json) {
      process.stdout.write(`${out.state === 'done' ? 'finished' : 'stopped'} at step ${out.step}/${out.totalSteps} in ${out.seconds.toFixed(1)}s: ${out.runDir}\n`);
      if (out.state === 'stopped') process.stdout.write(`resume with: robust-meta train --resume ${out.runDir}\n`);
    }
    return signalled ? signalExitCode(signalled) : EXIT_CODES.ok;
  } catch (e) {
    // main() prints the error (and its JSON event) for every stage alike.
    progress.done();
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'Meta-train a model into a new run folder, or resume one.',
  usage: '[--config file.json] [--<config-key> value ...] [--resume runs/<id>]',
  options: [
    HELP_OPTION,
    CONFIG_FILE_OPTION,
    { flag: 'resume', type: 'string', placeholder: 'run', description: 'Resume this run (folder or id) from its newest checkpoint; only --steps, --checkpoint-every, --backend, --workers may change.' },
    RUNS_DIR_OPTION,
    { ...JSON_OPTION, description: 'Print events as JSON lines on stdout (started, metric, checkpoint, log, done, error).' },
    ...CONFIG_OPTIONS,
  ],
  details: [
    'Examples:',
    '  robust-meta train --method aq --steps 200 --image-size 28 --channels 1',
    '  robust-meta train --config my-run.json --eps 4/255',
    '  robust-meta train --resume runs/20261126-181500-mavrl --steps 2000',
    '',
    'Ctrl-C stops after writing a checkpoint (exit code 130; 143 for SIGTERM); a second Ctrl-C quits at once.',
  ].join('\n'),
  run,
};
