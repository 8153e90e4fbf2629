// robust-meta eval: argument mistakes are usage errors (exit 2) that name the flag; a real run on
// two tiny checkpoints writes the result and its sample PNGs and prints a table or JSON; the
// table renders a result file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runEvalCommand, parseCurve } from '../src/cli/commands/eval';
import { renderEvalTable } from '../src/cli/table';
import { formatEps } from '../src/formats/display';
import { EvalResultFile } from '../src/core/evalResult';
import { MetaLearner } from '../src/core/meta/learner';
import { encodeCheckpoint } from '../src/runner/checkpoint';
import { REPO, testBackend, tinyConfig } from './helpers/engine';

let dir: string;
let ckptA: string;
let ckptB: string;
const DATA = path.join(REPO, 'data', 'fashion-mnist-small');

async function writeCheckpoint(file: string, method: 'maml' | 'rocl', seed: number): Promise<void> {
  const cfg = tinyConfig({ method, seed, width: 4, ways: 3, queries: 2, innerStepsTest: 1 });
  const learner = new MetaLearner(cfg);
  fs.writeFileSync(file, encodeCheckpoint(await learner.getState(), cfg));
  await learner.dispose();
}

before(async () => {
  await testBackend();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-eval-'));
  ckptA = path.join(dir, 'a.ckpt');
  ckptB = path.join(dir, 'b.ckpt');
  await writeCheckpoint(ckptA, 'maml', 1);
  await writeCheckpoint(ckptB, 'rocl', 2);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs the command with its output captured (the test runner owns process.stdout). */
async function evalCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runEvalCommand(argv, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { code, stdout, stderr };
}

test('argument mistakes exit with 2 and say which flag and what is allowed', async () => {
  const cases: [string[], RegExp][] = [
    [[], /eval needs a model: --checkpoint/],
    [['--checkpoint'], /--checkpoint needs a value/],
    [['--checkpoint', path.join(dir, 'missing.ckpt')], /no such checkpoint file or run folder/],
    [['-c', ckptA, '--episodes', 'x'], /--episodes "x": not a number/],
    [['-c', ckptA, '--episodes', '0'], /episodes must be a whole number >= 1, got 0/],
    [['-c', ckptA, '--ways', '1'], /ways must be a whole number >= 2/],
    [['-c', ckptA, '--eps', '-8/255'], /eps must be a number >= 0/],
    [['-c', ckptA, '--eps', '8'], /pixel units/],
    [['-c', ckptA, '--norm', 'l3'], /allowed values for 'norm' are linf, l2/],
    [['-c', ckptA, '--head', 'knn'], /allowed values for 'head' are both, auto, finetune, prototype/],
    [['-c', ckptA, '--curve', '0,abc'], /--curve "0,abc": 'abc' is not a radius/],
    [['-c', ckptA, '--attack-steps', '0'], /attack steps must be a whole number >= 1/],
    [['-c', ckptA, '--restarts', '-1'], /restarts must be a whole number >= 0/],
    [['-c', ckptA, '--threads', '0'], /--threads must be a whole number >= 1, got 0/],
    [['-c', ckptA, '--strong-steps', '10'], /--strong-steps, --strong-restarts, --strong-step-size, --strong-loss go with --strong/],
    [['-c', ckptA, '--strong', '--strong-restarts', '-1'], /strong attack restarts must be a whole number >= 0, got -1/],
    [['-c', ckptA, '--episods', '4'], /unknown option --episods for 'eval'; did you mean --episodes\?/],
    [['-c', ckptA, '--data', path.join(dir, 'nodata')], /--data .*does not exist/],
    [['-c', ckptA, '--data', DATA, '--out', path.join(dir, 'r.txt')], /must end in \.json/],
  ];
  for (const [argv, re] of cases) {
    const r = await evalCli(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    assert.match(r.stderr, re, argv.join(' '));
    assert.match(r.stderr, /^robust-meta eval: /);
  }
});

test('a corrupt checkpoint is a failure (exit 1) that names the file', async () => {
  const bad = path.join(dir, 'bad.ckpt');
  fs.writeFileSync(bad, 'not a checkpoint');
  const r = await evalCli(['-c', bad, '--data', DATA]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.ckpt is not a robust-meta checkpoint/);
});

test('--help lists the options', async () => {
  const r = await evalCli(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /usage: robust-meta eval --checkpoint/);
  for (const flag of ['--data', '--eps', '--attack-steps', '--restarts', '--norm', '--head', '--curve', '--strong', '--out', '--json'])
    assert.ok(r.stdout.includes(flag), flag);
});

test('--curve reads 1/255 units and fractions', () => {
  assert.deepEqual(
    parseCurve('0,1,2,4,8,16').map((e) => e * 255),
    [0, 1, 2, 4, 8, 16],
  );
  assert.deepEqual(parseCurve('0, 8/255 ,0.5'), [0, 8 / 255, 0.5 / 255]);
  assert.deepEqual(parseCurve('none'), []);
});

test('two checkpoints on the same episodes: the result file, its sample PNGs, the JSON and the table', async () => {
  const out = path.join(dir, 'res', 'results.json');
  const common = ['--data', DATA, '--ways', '3', '--queries', '2', '--episodes', '2', '--attack-steps', '2', '--curve', '0,8,32', '--quiet'];
  const r = await evalCli(['-c', ckptA, '--checkpoint', ckptB, ...common, '--head', 'auto', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const printed = JSON.parse(r.stdout) as EvalResultFile;
  const written = JSON.parse(fs.readFileSync(out, 'utf8')) as EvalResultFile;
  assert.deepEqual(printed, written);
  assert.equal(written.models.length, 2);
  assert.deepEqual(
    written.models.map((m) => m.head),
    ['finetune', 'prototype'],
  );
  assert.equal(written.setting.ways, 3);
  assert.equal(written.setting.episodes, 2);
  assert.deepEqual(
    written.models[0].curve.map((p) => Math.round(p.eps * 255)),
    [0, 8, 32],
  );
  for (const m of written.models) {
    assert.equal(m.checkpoint, m.model.startsWith('maml') ? ckptA : ckptB);
    assert.ok(m.samples && m.samples.length > 0);
    for (const s of m.samples!) {
      for (const f of [s.clean, s.perturbation, s.adversarial]) assert.ok(fs.statSync(path.join(path.dirname(out), f)).size > 0, f);
    }
  }

  // The table, --no-samples, --threads (the episodes shared by two threads) and a chosen --strong attack.
  const out2 = path.join(dir, 'res', 'table.json');
  const t = await evalCli([
    '-c',
    ckptA,
    ...common,
    '--out',
    out2,
    '--no-samples',
    '--threads',
    '2',
    '--strong',
    '--strong-steps',
    '3',
    '--strong-restarts',
    '1',
  ]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /fashion-mnist-small \(test classes\): 3-way 1-shot, 2 queries per class, 2 episodes/);
  assert.match(t.stdout, /attack: PGD-2 L-inf eps 8\/255, step 2\/255/);
  assert.match(t.stdout, /maml \(a\.ckpt, step 0\)\s+finetune\s+\d+\.\d ± \d+\.\d/);
  assert.match(t.stdout, /wrote /);
  assert.equal(JSON.parse(fs.readFileSync(out2, 'utf8')).models[0].samples, undefined);
  assert.equal(JSON.parse(fs.readFileSync(out2, 'utf8')).setting.threads, 2);
  assert.deepEqual(JSON.parse(fs.readFileSync(out2, 'utf8')).setting.strongAttack, { steps: 3, restarts: 1, stepSize: 8 / 255 / 10, loss: 'ce' });
  // The same model and episodes: the same numbers as in the comparison, on two threads or one.
  assert.deepEqual(JSON.parse(fs.readFileSync(out2, 'utf8')).models[0].clean, written.models[0].clean);
  // By default every model is also evaluated with the prototype head, and the table says so.
  const table = JSON.parse(fs.readFileSync(out2, 'utf8')) as EvalResultFile;
  assert.deepEqual(
    table.models.map((m) => [m.model, m.head]),
    [
      ['maml (a.ckpt, step 0)', 'finetune'],
      ['maml (a.ckpt, step 0) [prototype]', 'prototype'],
    ],
  );
  assert.match(t.stdout, /maml \(a\.ckpt, step 0\) \[prototype\]\s+prototype/);
  assert.match(t.stdout, /chance 33\.3%/);
});

test('the table shows estimates, the curve, the stronger attack and failed checks', () => {
  const result: EvalResultFile = {
    format: 1,
    createdAt: '2026-01-01T00:00:00Z',
    setting: {
      dataset: 'glyphs',
      dataPath: '/d',
      split: 'test',
      ways: 5,
      shots: 1,
      queries: 15,
      episodes: 400,
      seed: 0,
      attack: { norm: 'linf', eps: 8 / 255, steps: 20, stepSize: 2 / 255, restarts: 0 },
      innerStepsTest: 10,
      strongAttack: { steps: 100, stepSize: (2.5 * 8) / 255 / 100, restarts: 4 },
    },
    models: [
      {
        model: 'mavrl (run-1, step 1000)',
        method: 'mavrl',
        checkpoint: '/c',
        head: 'finetune',
        seconds: 12,
        clean: { mean: 0.5031, ci95: 0.0078 },
        robust: { mean: 0.282, ci95: 0.0071 },
        curve: [
          { eps: 0, accuracy: { mean: 0.5031, ci95: 0.0078 } },
          { eps: 8 / 255, accuracy: { mean: 0.282, ci95: 0.0071 } },
        ],
        checks: {
          cleanAboveRobust: { ok: true, message: 'fine' },
          curveMonotone: { ok: false, message: 'robust accuracy rises' },
          strongerAttack: { ok: true, message: 'fine', robust: { mean: 0.275, ci95: 0.007 } },
        },
      },
    ],
  };
  const text = renderEvalTable(result);
  assert.match(text, /mavrl \(run-1, step 1000\)\s+finetune\s+50\.3 ± 0\.8\s+28\.2 ± 0\.7\s+27\.5 ± 0\.7\s+50\.3\s+28\.2/);
  assert.match(text, /PGD-100x5/);
  assert.match(text, /warning: mavrl \(run-1, step 1000\): robust accuracy rises/);
  assert.doesNotMatch(text, /: fine/);
  assert.match(renderEvalTable(result, { allChecks: true }), /ok: mavrl \(run-1, step 1000\): fine/);
  assert.equal(formatEps(8 / 255), '8/255');
  assert.equal(formatEps(0.5 / 255), '0.5/255');
  assert.equal(formatEps(0.5, 'l2'), '0.5');
});
