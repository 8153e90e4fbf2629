// Run folders and checkpoints: atomic files, torn metric lines, and clear errors naming the file.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { defaultConfig, resolveConfig } from '../src/core/config';
import { LearnerState } from '../src/core/meta/learner';
import {
  checkCheckpointMatches,
  configHash,
  decodeCheckpoint,
  encodeCheckpoint,
  latestCheckpoint,
  readCheckpoint,
  resolveCheckpoint,
  writeCheckpoint,
} from '../src/runner/checkpoint';
import { MetricLine, RUN_FORMAT_VERSION } from '../src/runner/runFormat';
import { acquireRunLock } from '../src/runner/runLock';
import {
  allocateRunDir,
  appendMetric,
  listRuns,
  readMetrics,
  readRun,
  readRunConfig,
  readStatus,
  runIdFor,
  truncateMetrics,
  writeRunConfig,
  writeStatus,
} from '../src/runner/runStore';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rm-store-'));
}

function metric(step: number): MetricLine {
  return { step, time: new Date().toISOString(), loss: 1 / step, ceLoss: null, agreementLoss: null, cleanAcc: 0.5, robustAcc: null, gradNorm: 1, msPerStep: 3 };
}

function makeRun(runsDir: string) {
  const cfg = resolveConfig({ imageSize: 16, width: 4, ways: 2, steps: 5 });
  const { id, dir } = allocateRunDir(runsDir, cfg.method);
  writeRunConfig(dir, {
    format: RUN_FORMAT_VERSION,
    id,
    createdAt: new Date().toISOString(),
    config: cfg,
    backend: 'cpu',
    versions: { robustMeta: '0', tfjs: '0', node: process.versions.node },
  });
  writeStatus(dir, { state: 'done', step: 5, totalSteps: 5 });
  return { dir, cfg, id };
}

function fakeState(step: number, width = 4): LearnerState {
  const arr = (shape: number[], v: number) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v) });
  return {
    step,
    params: { 'encoder/conv1/w': arr([3, 3, 1, width], 0.5), 'head/b': arr([2], -1) },
    adam: {
      t: step,
      m: { 'encoder/conv1/w': arr([3, 3, 1, width], 0.1), 'head/b': arr([2], 0.2) },
      v: { 'encoder/conv1/w': arr([3, 3, 1, width], 0.01), 'head/b': arr([2], 0.02) },
    },
  };
}

test('run ids are readable, sortable and unique within a second', () => {
  const d = new Date(2026, 10, 26, 18, 15, 0);
  assert.equal(runIdFor('mavrl', d), '20261126-181500-mavrl');
  const root = tmpDir();
  const a = allocateRunDir(root, 'aq', d);
  const b = allocateRunDir(root, 'aq', d);
  assert.equal(a.id, '20261126-181500-aq');
  assert.equal(b.id, '20261126-181500-aq-2');
});

test('a run folder reads back validated, and list skips folders without config.json', () => {
  const root = tmpDir();
  const { dir, cfg, id } = makeRun(root);
  fs.mkdirSync(path.join(root, 'not-a-run'));
  const run = readRun(dir);
  assert.equal(run.id, id);
  assert.deepEqual(run.config.config, cfg);
  assert.equal(run.status.state, 'done');
  assert.equal(run.stale, false);
  const list = listRuns(root);
  assert.equal(list.length, 1);
  assert.equal(list[0].run?.id, id);
  // No temp files are left behind by atomic writes.
  assert.deepEqual(fs.readdirSync(dir).sort(), ['config.json', 'status.json']);
});

test('metrics.jsonl: a torn last line is ignored, and truncation keeps one line per step', () => {
  const { dir } = makeRun(tmpDir());
  for (let s = 1; s <= 4; s++) appendMetric(dir, metric(s));
  fs.appendFileSync(path.join(dir, 'metrics.jsonl'), '{"step":5,"loss":0.');
  assert.deepEqual(
    readMetrics(dir).map((m) => m.step),
    [1, 2, 3, 4],
  );
  appendMetric(dir, metric(3));
  truncateMetrics(dir, 3);
  assert.deepEqual(
    readMetrics(dir).map((m) => m.step),
    [1, 2, 3],
  );
});

test('a damaged metrics line before the last names the file and line', () => {
  const { dir } = makeRun(tmpDir());
  appendMetric(dir, metric(1));
  fs.appendFileSync(path.join(dir, 'metrics.jsonl'), 'garbage\n');
  appendMetric(dir, metric(2));
  assert.throws(
    () => readMetrics(dir),
    (e: Error) => e.name === 'UserError' && e.message.includes('metrics.jsonl') && e.message.includes('line 2'),
  );
});

test('corrupt or missing config.json and status.json give clear errors naming the file', () => {
  const { dir } = makeRun(tmpDir());
  const cfgFile = path.join(dir, 'config.json');
  const good = fs.readFileSync(cfgFile, 'utf8');
  fs.writeFileSync(cfgFile, good.slice(0, 40));
  assert.throws(
    () => readRunConfig(dir),
    (e: Error) => e.name === 'UserError' && e.message.includes(cfgFile) && /not valid JSON/.test(e.message),
  );
  fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(good), format: 99 }));
  assert.throws(
    () => readRunConfig(dir),
    (e: Error) => e.message.includes(cfgFile) && /newer robust-meta/.test(e.message),
  );
  fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(good), config: { ...JSON.parse(good).config, width: -3 } }));
  assert.throws(
    () => readRunConfig(dir),
    (e: Error) => e.message.includes(cfgFile) && e.message.includes("'width' must be at least 1"),
  );
  fs.writeFileSync(cfgFile, good);
  fs.writeFileSync(path.join(dir, 'status.json'), JSON.stringify({ format: 1, state: 'exploded', step: 1, totalSteps: 2 }));
  assert.throws(
    () => readStatus(dir),
    (e: Error) => e.message.includes('status.json') && e.message.includes('exploded'),
  );
  fs.rmSync(path.join(dir, 'status.json'));
  assert.throws(
    () => readRun(dir),
    (e: Error) => e.name === 'UserError' && e.message.includes('status.json') && e.message.includes('missing'),
  );
  // list still lists it, with its error.
  const list = listRuns(path.dirname(dir));
  assert.match(list[0].error ?? '', /status\.json/);
});

test('a run whose worker is gone is reported stale; one whose trainer holds the lock is not', () => {
  const { dir } = makeRun(tmpDir());
  writeStatus(dir, { state: 'running', step: 2, totalSteps: 5, pid: 2 ** 22 + 12345 });
  assert.equal(readRun(dir).stale, true);
  // A live pid in status.json alone proves nothing (pids are reused): the lock does.
  writeStatus(dir, { state: 'running', step: 2, totalSteps: 5, pid: process.pid });
  assert.equal(readRun(dir).stale, true);
  const lock = acquireRunLock(dir);
  assert.equal(readRun(dir).stale, false);
  lock.release();
  assert.equal(readRun(dir).stale, true);
});

test('checkpoints round-trip exactly, and only the newest three are kept', () => {
  const { dir, cfg } = makeRun(tmpDir());
  for (const s of [2, 4, 6, 8]) writeCheckpoint(dir, fakeState(s), cfg);
  const files = fs.readdirSync(path.join(dir, 'checkpoints')).sort();
  assert.deepEqual(files, ['step-00000004.ckpt', 'step-00000006.ckpt', 'step-00000008.ckpt']);
  const newest = latestCheckpoint(dir)!;
  assert.equal(resolveCheckpoint(dir), newest);
  const c = readCheckpoint(newest);
  assert.equal(c.header.step, 8);
  assert.equal(c.header.configHash, configHash(cfg));
  assert.deepEqual(c.header.sampler, { episodeSeed: cfg.seed, nextEpisode: 8 * cfg.metaBatch, metaBatch: cfg.metaBatch });
  assert.deepEqual(c.state, fakeState(8));
  assert.deepEqual(c.header.config, cfg);
});

test('a truncated, corrupt or foreign checkpoint is refused with its file name', () => {
  const cfg = resolveConfig({ imageSize: 16, width: 4 });
  const bytes = encodeCheckpoint(fakeState(3), cfg);
  const name = '/runs/x/checkpoints/step-00000003.ckpt';
  assert.throws(
    () => decodeCheckpoint(bytes.slice(0, bytes.length - 7), name),
    (e: Error) => e.name === 'UserError' && e.message.includes(name) && /truncated/.test(e.message),
  );
  assert.throws(
    () => decodeCheckpoint(bytes.slice(0, 10), name),
    (e: Error) => e.message.includes(name) && /truncated/.test(e.message),
  );
  const flipped = bytes.slice();
  flipped[flipped.length - 3] ^= 0xff;
  assert.throws(
    () => decodeCheckpoint(flipped, name),
    (e: Error) => e.message.includes(name) && /checksum/.test(e.message),
  );
  const foreign = bytes.slice();
  foreign[0] = 0x50;
  assert.throws(
    () => decodeCheckpoint(foreign, name),
    (e: Error) => e.message.includes(name) && /not a robust-meta checkpoint/.test(e.message),
  );
  assert.throws(
    () => readCheckpoint('/nonexistent/step-00000001.ckpt'),
    (e: Error) => e.name === 'UserError' && e.message.includes('/nonexistent/step-00000001.ckpt'),
  );
  const dir = tmpDir();
  assert.throws(
    () => resolveCheckpoint(dir),
    (e: Error) => e.name === 'UserError' && e.message.includes(dir) && /no checkpoint/.test(e.message),
  );
});

test('a checkpoint of another model or config does not load into a run', () => {
  const cfg = resolveConfig({ imageSize: 16, width: 4 });
  const c = decodeCheckpoint(encodeCheckpoint(fakeState(3), cfg), 'a.ckpt');
  checkCheckpointMatches(c, { ...cfg, steps: 99, backend: 'cpu' }, fakeState(0).params);
  assert.throws(
    () => checkCheckpointMatches(c, { ...cfg, width: 8 }),
    (e: Error) => e.message.includes('a.ckpt') && /width 4 \(run: 8\)/.test(e.message),
  );
  assert.throws(() => checkCheckpointMatches(c, { ...cfg, method: 'aq' }), /method mavrl \(run: aq\)/);
  assert.throws(() => checkCheckpointMatches(c, { ...cfg, innerLr: 0.5 }), /innerLr 0.4 \(run: 0.5\)/);
  assert.throws(() => checkCheckpointMatches(c, cfg, fakeState(0, 8).params), /encoder\/conv1\/w has shape \[3,3,1,4\] where the model has \[3,3,1,8\]/);
  assert.equal(configHash(defaultConfig()), configHash({ ...defaultConfig(), steps: 5, checkpointEvery: 2 }));
});
