// robust-meta list and show: the runs in a runs folder, and one run in detail.
import * as fs from 'fs';
import * as path from 'path';
import { readCheckpointHeader } from '../../runner/checkpoint';
import { RunInfo, lastMetric, listRuns, readMetrics, readRun, resolveRunDir } from '../../runner/runStore';
import { listSampleSets } from '../../runner/samples';
import type { MetricRow } from '../../formats/run';
import { adaptationSummary, formatAdaptation } from '../../core/stepMetrics';
import { ParsedArgs, UsageError } from '../args';
import { Command, HELP_OPTION, JSON_OPTION, RUNS_DIR_OPTION, runsDirOf } from '../command';
import { formatDuration, formatNumber, formatPercent as percent } from '../../formats/display';
import { table } from '../output';

/** The state to show: a 'running' run whose process is gone was killed or crashed. */
export function shownState(run: RunInfo): string {
  if (run.stale) return 'interrupted';
  return run.status.paused && run.status.state === 'running' ? 'paused' : run.status.state;
}

async function listRun(args: ParsedArgs): Promise<number> {
  if (args.positionals.length) throw new UsageError(`list takes no positional arguments (use show <run>), got ${args.positionals.join(' ')}`);
  const runsDir = runsDirOf(args);
  const entries = listRuns(runsDir);
  if (args.options.json === true) {
    const out = entries.map((e) =>
      e.run
        ? {
            id: e.id,
            dir: e.dir,
            method: e.run.config.config.method,
            state: shownState(e.run),
            step: e.run.status.step,
            totalSteps: e.run.status.totalSteps,
            createdAt: e.run.config.createdAt,
            last: lastMetric(e.dir) ?? null,
            checkpoints: e.run.checkpoints.length,
            results: e.run.results.length,
          }
        : { id: e.id, dir: e.dir, error: e.error },
    );
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  }
  if (!entries.length) {
    process.stdout.write(`no runs in ${path.resolve(runsDir)} (robust-meta train starts one)\n`);
    return 0;
  }
  const rows = entries.map((e) => {
    if (!e.run) return [e.id, '?', 'unreadable', '', '', '', '', '', e.error ?? ''];
    const r = e.run;
    // One read of metrics.jsonl gives the last line and the recent means; a damaged file still
    // shows its last good line.
    const metrics = recentMetrics(e.dir);
    const m = metrics.length ? metrics[metrics.length - 1] : lastMetric(e.dir);
    // The step of the metrics shown beside it: status.json is rewritten at most once a second,
    // so the newest metrics line is usually ahead of it.
    const step = m && m.step > r.status.step ? m.step : r.status.step;
    const a = adaptationSummary(metrics);
    return [
      e.id,
      r.config.config.method,
      shownState(r),
      `${step}/${r.status.totalSteps}`,
      formatNumber(m?.loss),
      percent(a.before),
      percent(a.after),
      percent(a.robust),
      r.status.state === 'running' && !r.stale ? `ETA ${formatDuration(r.status.etaSeconds)}` : (r.status.message ?? ''),
    ];
  });
  process.stdout.write(
    table(['run', 'method', 'state', 'step', 'loss', 'before', 'after', 'robust', 'note'], rows, ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'l']) + '\n',
  );
  // A single step's accuracy on a few queries is noise; the mean of the last 50 steps shows the trend.
  process.stdout.write(
    'before/after: training query accuracy before and after the inner loop; robust: after, under the training attack (means of the last 50 steps)\n',
  );
  return 0;
}

async function showRun(args: ParsedArgs): Promise<number> {
  if (args.positionals.length !== 1) throw new UsageError('show takes one run: a run folder or an id under --runs-dir');
  const dir = resolveRunDir(args.positionals[0], runsDirOf(args));
  const run = readRun(dir);
  const metrics = readMetrics(dir);
  const checkpoints = run.checkpoints.map((c) => {
    try {
      const h = readCheckpointHeader(c.path);
      return { step: c.step, path: c.path, bytes: fs.statSync(c.path).size, createdAt: h.createdAt };
    } catch (e) {
      return { step: c.step, path: c.path, error: (e as Error).message };
    }
  });
  const samples = listSampleSets(dir);
  if (args.options.json === true) {
    process.stdout.write(
      JSON.stringify(
        { ...run, state: shownState(run), metricsCount: metrics.length, last: metrics[metrics.length - 1] ?? null, checkpoints, samples },
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  const c = run.config.config;
  const last = metrics[metrics.length - 1];
  const lines = [
    `run        ${run.id}  (${dir})`,
    `state      ${shownState(run)} at step ${run.status.step}/${run.status.totalSteps}${run.status.message ? ` - ${run.status.message}` : ''}`,
    `created    ${run.config.createdAt} on ${run.config.backend}, robust-meta ${run.config.versions.robustMeta}, tfjs ${run.config.versions.tfjs}, node ${run.config.versions.node}`,
    `method     ${c.method}, ${c.backbone} width ${c.width}, ${c.imageSize}x${c.imageSize}x${c.channels}, ${c.ways}-way ${c.shots}-shot ${c.queries} queries, meta-batch ${c.metaBatch}`,
    `attack     ${c.attackNorm} eps ${formatNumber(c.eps)} (${(c.eps * 255).toFixed(1)}/255), ${c.attackSteps} steps; seed ${c.seed}`,
    `data       ${run.config.dataset ? `${run.config.dataset.name} (${run.config.dataset.source}); train classes ${run.config.dataset.trainClasses.join(', ')}` : c.data || 'bundled fashion-mnist-small'}`,
    `metrics    ${metrics.length} steps${last ? `; last: loss ${formatNumber(last.loss)}, ce ${formatNumber(last.ceLoss)}, agreement ${formatNumber(last.agreementLoss)}, ${Math.round(last.msPerStep ?? NaN)} ms/step` : ''}`,
    `training   last 50 steps: ${formatAdaptation(adaptationSummary(metrics)) || 'no figures yet'}`,
    `checkpoint ${checkpoints.length ? checkpoints.map((k) => `step ${k.step}${'error' in k ? ' (unreadable)' : ''}`).join(', ') : 'none'}`,
    `samples    ${samples.length ? `${samples.length} sets, newest step ${samples[samples.length - 1].step}` : 'none'}`,
    `results    ${run.results.length ? run.results.map((r) => path.relative(dir, r)).join(', ') : 'none'}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

export const listCommand: Command = {
  name: 'list',
  summary: 'List the runs in the runs folder.',
  usage: '[--runs-dir dir] [--json]',
  options: [HELP_OPTION, RUNS_DIR_OPTION, JSON_OPTION],
  run: listRun,
};

export const showCommand: Command = {
  name: 'show',
  summary: 'Show one run: config, state, last metrics, checkpoints, samples and results.',
  usage: '<run folder | id> [--runs-dir dir] [--json]',
  options: [HELP_OPTION, RUNS_DIR_OPTION, JSON_OPTION],
  run: showRun,
};

/** The metrics of a run for its recent means; none when they cannot be read (the row says so elsewhere). */
function recentMetrics(dir: string): MetricRow[] {
  try {
    return readMetrics(dir);
  } catch {
    return [];
  }
}
