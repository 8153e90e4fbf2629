import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chartFileName, clampSmoothing, elapsedAtStep, emaSmooth, viewSeries } from '../src/extension/chartView';

const pts = (ys: number[]) => ys.map((y, i) => ({ x: i + 1, y }));

test('emaSmooth: weight 0 is the raw series; a constant series stays constant from its first point (debiased)', () => {
  assert.deepEqual(emaSmooth(pts([1, 5, 3]), 0), pts([1, 5, 3]));
  for (const y of emaSmooth(pts([7, 7, 7, 7, 7]), 0.9)) assert.ok(Math.abs(y.y - 7) < 1e-12, `${y.y}`);
});

test('emaSmooth: matches the debiased EMA written out by hand, and keeps x', () => {
  const w = 0.5;
  const out = emaSmooth(pts([2, 4, 8]), w);
  // running: 1, 2.5, 5.25; debias by 1-0.5, 1-0.25, 1-0.125
  assert.deepEqual(
    out.map((p) => p.x),
    [1, 2, 3],
  );
  assert.ok(Math.abs(out[0].y - 2) < 1e-12);
  assert.ok(Math.abs(out[1].y - 2.5 / 0.75) < 1e-12);
  assert.ok(Math.abs(out[2].y - 5.25 / 0.875) < 1e-12);
});

test('emaSmooth: a noisy series gets less noisy, and its level is kept', () => {
  const ys = Array.from({ length: 400 }, (_, i) => 0.5 + (i % 2 ? 0.3 : -0.3));
  const s = emaSmooth(pts(ys), 0.9).slice(50);
  const spread = Math.max(...s.map((p) => p.y)) - Math.min(...s.map((p) => p.y));
  assert.ok(spread < 0.1, `spread ${spread}`);
  const mean = s.reduce((a, p) => a + p.y, 0) / s.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
});

test('emaSmooth: a non-finite value passes through without breaking the average', () => {
  const out = emaSmooth(pts([1, NaN, 1]), 0.8);
  assert.ok(Number.isNaN(out[1].y));
  assert.ok(Math.abs(out[2].y - 1) < 1e-12);
});

test('clampSmoothing keeps the weight in [0, 0.99]', () => {
  assert.equal(clampSmoothing(-1), 0);
  assert.equal(clampSmoothing(1), 0.99);
  assert.equal(clampSmoothing(NaN), 0);
  assert.equal(clampSmoothing(0.3), 0.3);
});

test('elapsedAtStep: seconds since the first step, interpolated between known steps; none known: undefined', () => {
  const f = elapsedAtStep([
    { step: 1, time: '2026-01-01T00:00:00.000Z' },
    { step: 2, time: 'not a time' },
    { step: 3, time: '2026-01-01T00:00:10.000Z' },
    { step: 5, time: '2026-01-01T00:00:30.000Z' },
  ])!;
  assert.equal(f(1), 0);
  assert.equal(f(2), 5);
  assert.equal(f(4), 20);
  assert.equal(f(9), 30);
  assert.equal(elapsedAtStep([{ step: 1, time: '' }]), undefined);
});

test('viewSeries: wall-time x when asked and known, the smoothed series only when smoothing is on', () => {
  const f = (s: number) => s * 2;
  const v = viewSeries(pts([1, 2]), { smoothing: 0, xAxis: 'time', logLosses: false }, f);
  assert.deepEqual(v.raw, [
    { x: 2, y: 1 },
    { x: 4, y: 2 },
  ]);
  assert.equal(v.smoothed, undefined);
  const s = viewSeries(pts([1, 2]), { smoothing: 0.5, xAxis: 'step', logLosses: false }, f);
  assert.deepEqual(
    s.raw.map((p) => p.x),
    [1, 2],
  );
  assert.equal(s.smoothed!.length, 2);
  assert.deepEqual(viewSeries(pts([1]), { smoothing: 0, xAxis: 'time', logLosses: false }).raw, pts([1]));
});

test('chartFileName: a safe PNG name from a caption', () => {
  assert.equal(chartFileName('Query accuracy: before adaptation, after'), 'query-accuracy-before-adaptation-after.png');
  assert.equal(chartFileName('///'), 'chart.png');
});

test('chart/save from a webview: a PNG data URL under a plain name is accepted, anything else is not', async () => {
  const { parseViewMessage } = await import('../src/extension/webviewProtocol');
  const png = 'data:image/png;base64,iVBORw0KGgo=';
  assert.deepEqual(parseViewMessage({ type: 'chart/save', name: 'loss.png', png }), { type: 'chart/save', name: 'loss.png', png });
  assert.equal(parseViewMessage({ type: 'chart/save', name: '../x.png', png }), undefined);
  assert.equal(parseViewMessage({ type: 'chart/save', name: 'x.png', png: 'data:text/html;base64,PGI+' }), undefined);
  assert.equal(parseViewMessage({ type: 'chart/save', name: 'x.png' }), undefined);
});
