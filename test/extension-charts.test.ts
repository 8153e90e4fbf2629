// Chart and table view-models: metric lines -> series, merging lines that arrive twice or after a
// resume, downsampling, evaluation results -> rows and robustness curves; following metrics.jsonl.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { curveSeries, downsample, mergeMetrics, recentMean, resultRows, runSummaryRow, thinMetrics, trainingSeries } from '../src/extension/chartData';
import { formatDuration, formatEps, formatEstimate } from '../src/formats/display';
import { readMetricsFrom } from '../src/extension/runFolder';
import { evalResult, makeRun, metric, tmpDir } from './extension-helpers/runs';

test('training series: one point per step, accuracies in percent', () => {
  const lines = [metric(1), metric(2), metric(3)];
  const s = trainingSeries(lines);
  assert.deepEqual(
    s.agreement.map((p) => p.x),
    [1, 2, 3],
  );
  assert.equal(s.agreement[1].y, 0.25);
  assert.equal(s.ce[0].y, 1);
  assert.equal(s.loss[0].y, 2);
  assert.ok(Math.abs(s.clean[0].y - 21) < 1e-9);
  assert.ok(Math.abs(s.robust[0].y - 10.5) < 1e-9);
});

test('a method without an agreement loss gives an empty agreement series', () => {
  const lines = [metric(1, { agreementLoss: null, robustAcc: null }), metric(2, { agreementLoss: null, robustAcc: null })];
  const s = trainingSeries(lines);
  assert.equal(s.agreement.length, 0);
  assert.equal(s.robust.length, 0);
  assert.equal(s.clean.length, 2);
});

test('non-finite values are skipped', () => {
  const s = trainingSeries([metric(1, { loss: NaN }), metric(2)]);
  assert.deepEqual(
    s.loss.map((p) => p.x),
    [2],
  );
});

test('downsample keeps short series and bounds long ones, ending on the last point', () => {
  const pts = Array.from({ length: 10 }, (_, i) => ({ x: i, y: i }));
  assert.equal(downsample(pts, 20), pts);
  const long = Array.from({ length: 10_001 }, (_, i) => ({ x: i, y: 2 * i }));
  const d = downsample(long, 1000);
  assert.equal(d.length, 1000);
  assert.deepEqual(d[d.length - 1], long[long.length - 1]);
  assert.ok(d.every((p, i) => i === 0 || p.x > d[i - 1].x));
  assert.ok(d.every((p) => Math.abs(p.y - 2 * p.x) < 1e-9));
});

test('mergeMetrics drops a line seen twice and replaces the tail after a resume', () => {
  const into = [metric(1), metric(2), metric(3)];
  mergeMetrics(into, [metric(3), metric(4)]);
  assert.deepEqual(
    into.map((l) => l.step),
    [1, 2, 3, 4],
  );
  const resumed = metric(3, { loss: 42 });
  mergeMetrics(into, [resumed]);
  assert.deepEqual(
    into.map((l) => l.step),
    [1, 2, 3],
  );
  assert.equal(into[2].loss, 42);
  mergeMetrics(into, [metric(1, { loss: 7 })]);
  assert.deepEqual(
    into.map((l) => l.step),
    [1],
  );
});

test('thinMetrics averages runs of lines into at most max lines, keeping nulls', () => {
  const lines = Array.from({ length: 1000 }, (_, i) => metric(i + 1, { cleanAcc: (i % 2) as number, agreementLoss: null }));
  assert.equal(thinMetrics(lines, 2000), lines);
  const thin = thinMetrics(lines, 100);
  assert.equal(thin.length, 100);
  assert.equal(thin[0].step, 10);
  assert.equal(thin[99].step, 1000);
  assert.ok(thin.every((l) => l.cleanAcc === 0.5 && l.agreementLoss === null));
});

test('recentMean averages the last n finite values', () => {
  const lines = [metric(1, { cleanAcc: 0 }), metric(2, { cleanAcc: 0.5 }), metric(3, { cleanAcc: null }), metric(4, { cleanAcc: 1 })];
  assert.equal(
    recentMean(lines, (l) => l.cleanAcc, 2),
    0.75,
  );
  assert.equal(
    recentMean([], (l) => l.cleanAcc),
    null,
  );
});

test('result rows: clean and robust accuracy with 95% CI per model', () => {
  const r = evalResult([
    { model: 'mavrl (a)', clean: 0.503, robust: 0.282 },
    { model: 'aq (b)', clean: 0.325, robust: 0.074 },
  ]);
  const rows = resultRows(r, 'src');
  assert.equal(rows.length, 2);
  assert.equal(rows[0].setting, '5-way 1-shot');
  assert.equal(rows[0].dataset, 'glyphs');
  assert.equal(rows[0].source, 'src');
  assert.equal(formatEstimate(rows[0].clean), '50.3 ± 1.2');
  assert.equal(formatEstimate(rows[1].robust), '7.4 ± 1.1');
  assert.equal(formatEstimate(undefined), '–');
});

test('robustness curves: eps in 1/255 units, sorted, percent with CI; models without a curve are left out', () => {
  const r = evalResult([
    {
      model: 'mavrl',
      clean: 0.5,
      robust: 0.3,
      curve: [
        [8, 0.3],
        [0, 0.5],
        [4, 0.4],
      ],
    },
    { model: 'maml', clean: 0.5, robust: 0.0 },
  ]);
  const c = curveSeries(r, 'run-1: ');
  assert.equal(c.length, 1);
  assert.equal(c[0].label, 'run-1: mavrl · glyphs 5w1s');
  assert.deepEqual(
    c[0].points.map((p) => Math.round(p.x)),
    [0, 4, 8],
  );
  assert.deepEqual(
    c[0].points.map((p) => Math.round(p.y)),
    [50, 40, 30],
  );
  assert.equal(c[0].points[0].ci, 1);
});

test('formatting helpers', () => {
  assert.equal(formatEps(8 / 255), '8/255');
  assert.equal(formatEps(0.1), '25.5/255');
  assert.equal(formatDuration(5), '5s');
  assert.equal(formatDuration(185), '3m 05s');
  assert.equal(formatDuration(3725), '1h 02m');
  assert.equal(formatDuration(null), '–');
});

test('runSummaryRow: last step and means of the last steps', () => {
  const lines = [metric(1), metric(2)];
  const row = runSummaryRow({ id: 'r', method: 'mavrl', state: 'done', step: 0 }, lines);
  assert.equal(row.step, 2);
  assert.ok(row.cleanAcc !== null && Math.abs(row.cleanAcc - 0.215) < 1e-9);
});

test('readMetricsFrom follows the file: complete lines only, from an offset, restarting when rewritten', () => {
  const dir = makeRun(tmpDir(), { id: 'live', metrics: 2 });
  const file = path.join(dir, 'metrics.jsonl');
  const first = readMetricsFrom(dir, 0);
  assert.deepEqual(
    first.lines.map((l) => l.step),
    [1, 2],
  );
  assert.equal(first.next, fs.statSync(file).size);
  // A torn line (the worker is writing it) is not read yet.
  const third = JSON.stringify(metric(3));
  fs.appendFileSync(file, third.slice(0, 10));
  const torn = readMetricsFrom(dir, first.next);
  assert.deepEqual(torn.lines, []);
  assert.equal(torn.next, first.next);
  fs.appendFileSync(file, third.slice(10) + '\n');
  const after = readMetricsFrom(dir, torn.next);
  assert.deepEqual(
    after.lines.map((l) => l.step),
    [3],
  );
  // Truncated on resume: shorter than the offset, read again from the start.
  fs.writeFileSync(file, JSON.stringify(metric(1)) + '\n');
  const again = readMetricsFrom(dir, after.next);
  assert.equal(again.restarted, true);
  assert.deepEqual(
    again.lines.map((l) => l.step),
    [1],
  );
});

test('readMetricsFrom reports a damaged line instead of throwing', () => {
  const dir = makeRun(tmpDir(), { id: 'bad', metrics: 1 });
  fs.appendFileSync(path.join(dir, 'metrics.jsonl'), '{oops\n');
  const r = readMetricsFrom(dir, 0);
  assert.match(r.problem ?? '', /metrics\.jsonl/);
});

test('readMetricsFrom on a run without metrics yet', () => {
  const dir = makeRun(tmpDir(), { id: 'empty' });
  const r = readMetricsFrom(dir, 0);
  assert.deepEqual(r.lines, []);
  assert.equal(r.problem, undefined);
});
