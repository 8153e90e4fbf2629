// The demo's HTML report is one self-contained file: inline SVG charts and base64 PNGs, no
// scripts and nothing fetched; text from files is escaped.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { encodePng } from '../src/core/data/png';
import { EvalResultFile } from '../src/core/evalResult';
import { escapeHtml, lineChart, renderReport, smooth } from '../src/cli/report';
import { MetricLine } from '../src/runner/runFormat';

const png = encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array([0, 255, 128, 64]) });

function metrics(n: number, robust: boolean): MetricLine[] {
  return Array.from({ length: n }, (_, i) => ({
    step: i + 1,
    time: '',
    loss: 3 - i / n,
    ceLoss: null,
    agreementLoss: null,
    cleanAcc: 0.5,
    robustAcc: robust ? i / n : null,
    gradNorm: 1,
    msPerStep: 10,
  }));
}

function result(): EvalResultFile {
  const est = (mean: number) => ({ mean, ci95: 0.02 });
  const model = (method: string) => ({
    model: `${method} <run>`,
    method,
    checkpoint: 'c',
    head: 'finetune' as const,
    clean: est(0.4),
    robust: est(0.1),
    curve: [0, 2, 8].map((e) => ({ eps: e / 255, accuracy: est(0.4 - e / 40) })),
    samples: [
      { clean: 'a.png', perturbation: 'b.png', adversarial: 'c.png', trueLabel: 'Bag & "shoe"', cleanPred: 'Bag & "shoe"', adversarialPred: '<script>' },
    ],
    seconds: 3,
  });
  return {
    format: 1,
    createdAt: '2026-11-26T00:00:00Z',
    setting: {
      dataset: 'glyphs',
      dataPath: '/d',
      split: 'test',
      ways: 5,
      shots: 1,
      queries: 5,
      episodes: 10,
      seed: 0,
      attack: { norm: 'linf', eps: 8 / 255, steps: 20, stepSize: 2 / 255, restarts: 0 },
      innerStepsTest: 10,
    },
    models: [model('mavrl'), model('aq')],
  };
}

test('the report is self-contained and escapes what it shows', () => {
  const html = renderReport({
    title: 'demo <1>',
    createdAt: 'now',
    setting: ['a & b'],
    runs: [
      { method: 'mavrl', runDir: '/runs/x', metrics: metrics(40, true), seconds: 10 },
      { method: 'aq', runDir: '/runs/y', metrics: metrics(40, true), seconds: 8 },
    ],
    domains: [
      {
        result: result(),
        samplePngs: [[{ clean: png, perturbation: png, adversarial: png }], [{ clean: png, perturbation: png, adversarial: png }]],
        notes: ['note'],
      },
    ],
  });
  assert.ok(html.startsWith('<!doctype html>'));
  assert.ok(!/<script/i.test(html), 'no scripts');
  assert.ok(!/\b(src|href)="(?!data:)/.test(html), 'nothing loaded from elsewhere');
  // robustness curve, training accuracy before/after adaptation, under attack, and the loss
  assert.equal((html.match(/<svg /g) ?? []).length, 4);
  assert.equal((html.match(/src="data:image\/png;base64,/g) ?? []).length, 6);
  assert.ok(html.includes('demo &lt;1&gt;') && html.includes('&lt;script&gt;') && html.includes('Bag &amp; &quot;shoe&quot;'));
  assert.match(html, /<td>mavrl<\/td><td>finetune<\/td><td>40\.0% &plusmn; 2\.0<\/td><td>10\.0% &plusmn; 2\.0<\/td>/);
});

test('the report has a section per unseen domain and the training charts once', () => {
  const domain = (name: string) => {
    const r = result();
    return { result: { ...r, setting: { ...r.setting, dataset: name } }, samplePngs: [], notes: [`note on ${name}`] };
  };
  const html = renderReport({
    title: 'demo',
    createdAt: 'now',
    setting: [],
    runs: [{ method: 'mavrl', runDir: '/runs/x', metrics: metrics(40, true), seconds: 10 }],
    domains: [domain('icons-small'), domain('textures-small')],
  });
  assert.deepEqual(
    [...html.matchAll(/<h2>Unseen domain: ([^<]+)<\/h2>/g)].map((m) => m[1]),
    ['icons-small', 'textures-small'],
  );
  assert.ok(html.includes('note on icons-small') && html.includes('note on textures-small'));
  // a robustness curve per domain, then training accuracy before/after adaptation, under attack, and the loss
  assert.equal((html.match(/<svg /g) ?? []).length, 5);
  assert.equal((html.match(/<tbody>/g) ?? []).length, 2);
});

test('charts place points inside the plot and survive empty or flat series', () => {
  const svg = lineChart(
    [
      {
        name: 'a',
        points: [
          [0, 1],
          [10, 1],
        ],
      },
      { name: 'b', points: [] },
    ],
    { title: 't', xLabel: 'x', yLabel: 'y' },
  );
  assert.ok(svg.startsWith('<svg') && svg.endsWith('</svg>'));
  assert.ok(!svg.includes('NaN'));
  const coords = [...svg.matchAll(/points="([^"]+)"/g)].flatMap((m) => m[1].split(' ').map((p) => p.split(',').map(Number)));
  for (const [x, y] of coords) assert.ok(x >= 0 && x <= 560 && y >= 0 && y <= 300);
  assert.deepEqual(
    smooth(
      [
        [1, 2],
        [2, 4],
        [3, 6],
      ],
      2,
    ),
    [
      [1, 2],
      [2, 3],
      [3, 5],
    ],
  );
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});
