import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EvalResultFile, ModelEval } from '../src/core/evalResult';
import { experimentGrid, experimentProgress, experimentView, exportTable, resultsTable, type ExperimentFacts } from '../src/extension/experimentModel';
import type { ExperimentSpec } from '../src/formats/experiment';

const spec = {
  name: 'tiny',
  source: 'bundled:fashion-mnist-small',
  unseen: 'bundled:glyphs',
  methods: ['mavrl', 'aq'],
  seeds: [0, 1],
  train: {},
  validation: { method: 'mavrl', key: 'lambda', values: [1, 4], episodes: 8 },
  eval: { shots: [1], episodes: 16, queries: 3, attackSteps: 2, curve255: [0, 8], strong: { steps: 4, restarts: 0, episodes: 8 } },
  unseenSplit: { val: 4, test: 5 },
  parallel: 1,
} as unknown as ExperimentSpec;

const diag = (atChance = false) => ({
  chance: 0.2,
  meanMaxSoftmax: { mean: 0.5, ci95: 0 },
  topClassShare: { mean: 0.3, ci95: 0 },
  robustGivenClean: 0.5,
  atChance,
  collapsed: false,
  warnings: atChance ? ['clean accuracy is at chance'] : [],
});

function model(name: string, clean: number, robust: number, atChance = false): ModelEval {
  return {
    model: name,
    method: name.split('-')[0],
    checkpoint: '',
    head: 'finetune',
    clean: { mean: clean, ci95: 0.02 },
    robust: { mean: robust, ci95: 0.02 },
    curve: [
      { eps: 0, accuracy: { mean: clean, ci95: 0.02 } },
      { eps: 8 / 255, accuracy: { mean: robust, ci95: 0.02 } },
    ],
    seconds: 1,
    diagnostics: diag(atChance),
    checks: { cleanAboveRobust: { ok: true, message: 'fine' } },
  };
}

function result(models: ModelEval[]): EvalResultFile {
  return {
    models,
    setting: { seed: 2 },
    comparisons: [{ a: 'mavrl-seed0', b: 'aq-seed0', metric: 'robust', mean: 0.031, low: 0.01, high: 0.052 }],
  } as unknown as EvalResultFile;
}

function facts(over: Partial<ExperimentFacts> = {}): ExperimentFacts {
  return {
    name: 'tiny',
    specFile: '/w/tiny.experiment.json',
    outDir: '/w/experiments/out/tiny',
    spec,
    train: {},
    results: {},
    evalFilesDone: [],
    outcomeDone: false,
    now: 100_000,
    ...over,
  };
}

test('experimentGrid: one row per planned run (validation runs of the seed method, then every method x seed), merged by name', () => {
  const g = experimentGrid(facts());
  assert.deepEqual(
    g.map((r) => r.name),
    ['mavrl-seed0-lambda1', 'mavrl-seed0-lambda4', 'mavrl-seed0', 'mavrl-seed1', 'aq-seed0', 'aq-seed1'],
  );
  assert.ok(g.every((r) => r.training.state === 'pending'));
  assert.equal(g[0].validation.text, 'pending');
  assert.equal(g[3].validation.state, 'none');
});

test('experimentGrid: a validation run at the default value is the main run (the runner names it so)', () => {
  const g = experimentGrid(facts({ train: { 'mavrl-seed0': { done: true } } }));
  assert.ok(!g.some((r) => r.name === 'mavrl-seed0-lambda1'), g.map((r) => r.name).join());
  assert.equal(g.find((r) => r.name === 'mavrl-seed0')!.training.state, 'done');
});

test('experimentGrid: training state and progress from the run, evaluation from the settings holding the model', () => {
  const g = experimentGrid(
    facts({
      train: { 'aq-seed0': { done: false, state: 'running', step: 10, totalSteps: 40 }, 'aq-seed1': { done: true } },
      results: { 'unseen-1shot': result([model('aq-seed1', 0.5, 0.2)]) },
    }),
  );
  const aq0 = g.find((r) => r.name === 'aq-seed0')!;
  assert.equal(aq0.training.state, 'running');
  assert.equal(aq0.training.progress, 0.25);
  assert.equal(aq0.training.text, 'running 10/40');
  const aq1 = g.find((r) => r.name === 'aq-seed1')!;
  assert.equal(aq1.evaluation.text, '1/2 settings');
  assert.equal(aq1.evaluation.progress, 0.5);
});

test('experimentProgress: jobs done / total, state, and an ETA from the pace so far while running', () => {
  const f = facts({ train: { 'aq-seed0': { done: false, state: 'running', step: 1, totalSteps: 4 }, 'aq-seed1': { done: true } }, startedAt: 0, now: 60_000 });
  const p = experimentProgress(f);
  // 6 training jobs + validation + (2 settings + strong) x 1 part
  assert.equal(p.total, 6 + 1 + 3);
  assert.equal(p.done, 1);
  assert.equal(p.state, 'running');
  assert.equal(p.etaSeconds, 60 * 9);
  assert.equal(experimentProgress(facts()).state, 'not started');
  const finished = experimentProgress(facts({ outcomeDone: true }));
  assert.equal(finished.state, 'done');
  assert.equal(finished.done, finished.total);
});

test('resultsTable: methods x settings across seeds, flagged models, verdict, paired differences, warnings and curves', () => {
  const t = resultsTable(
    {
      'unseen-1shot': result([model('mavrl-seed0', 0.5, 0.2), model('mavrl-seed1', 0.6, 0.3), model('aq-seed0', 0.21, 0.1, true), model('aq-seed1', 0.5, 0.1)]),
    },
    ['unseen-1shot', 'source-1shot'],
  );
  assert.equal(t.rows.length, 2);
  const mv = t.rows.find((r) => r.method === 'mavrl')!;
  assert.equal(mv.seeds, 2);
  assert.ok(Math.abs(mv.clean.mean - 55) < 1e-9);
  assert.ok(Math.abs(mv.robust.mean - 25) < 1e-9);
  assert.ok(mv.robust.ci > 0);
  assert.equal(mv.flagged, false);
  assert.equal(t.rows.find((r) => r.method === 'aq')!.flagged, true);
  const s = t.settings[0];
  assert.match(s.verdict, /^no verdict/);
  assert.deepEqual(s.differences, ['robust: mavrl-seed0 − aq-seed0 = +3.1 [+1.0, +5.2] points']);
  assert.ok(s.warnings.some((w) => /aq-seed0: clean accuracy is at chance/.test(w)));
  assert.deepEqual(
    s.curves.find((c) => c.label === 'mavrl')!.points.map((p) => Math.round(p.y)),
    [55, 25],
  );
});

test('resultsTable: without both mavrl and aq the verdict says the rule does not apply', () => {
  const t = resultsTable({ 'unseen-1shot': result([model('mavrl-seed0', 0.5, 0.2), model('maml-seed0', 0.4, 0.1)]) }, ['unseen-1shot']);
  assert.match(t.settings[0].verdict, /compares mavrl with aq/);
});

test('exports: Markdown, CSV and LaTeX hold every row, escaped for their format', () => {
  const t = resultsTable({ 'unseen-1shot': result([model('mavrl-seed0', 0.5, 0.2), model('a_b-seed0', 0.4, 0.1)]) }, ['unseen-1shot']);
  const md = exportTable(t, 'markdown');
  assert.match(md, /^\| Setting \| Method \|/);
  assert.match(md, /\| unseen-1shot \| mavrl \| 1 \| 50\.0 ± 2\.0 \| 20\.0 ± 2\.0 \| yes \|/);
  assert.match(md, /\*\*unseen-1shot\*\*: /);
  const csv = exportTable(t, 'csv').trim().split('\n');
  assert.equal(csv[0], 'Setting,Method,Seeds,Clean %,Clean ±95%,Robust %,Robust ±95%,Meaningful');
  assert.equal(csv[1], 'unseen-1shot,mavrl,1,50.0,2.0,20.0,2.0,yes');
  assert.equal(csv.length, 3);
  const tex = exportTable(t, 'latex');
  assert.match(tex, /\\begin\{tabular\}/);
  assert.match(tex, /a\\_b & 1 & \$40\.0 \\pm 2\.0\$ & \$10\.0 \\pm 2\.0\$ \\\\/);
  assert.match(tex, /\\end\{tabular\}/);
});

test('experimentView: the grid, progress and table together', () => {
  const v = experimentView(facts());
  assert.equal(v.name, 'tiny');
  assert.equal(v.grid.length, 6);
  assert.equal(v.table.rows.length, 0);
});

test("experimentGrid: the seed method's main runs after validation chose a value carry it in their name", () => {
  const g = experimentGrid(
    facts({ train: { 'mavrl-seed0-lambda4': { done: true }, 'mavrl-seed1-lambda4': { done: false, state: 'running', step: 2, totalSteps: 4 } } }),
  );
  const names = g.map((r) => r.name);
  assert.ok(names.includes('mavrl-seed1-lambda4'), names.join());
  assert.ok(!names.includes('mavrl-seed1'), names.join());
  assert.equal(g.find((r) => r.name === 'mavrl-seed1-lambda4')!.training.text, 'running 2/4');
});
