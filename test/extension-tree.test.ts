// The Experiments tree as data: run folders on disk -> runs, states, checkpoints, results, the
// labels, descriptions and context values the menus match.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { Coalescer } from '../src/extension/disposable';
import { readRunEntry, readRunsFolder } from '../src/extension/runFolder';
import { childrenOf, nodeView, rootNodes, runContextValue, runDescription } from '../src/extension/treeModel';
import { evalResult, makeRun, tmpDir } from './extension-helpers/runs';

/** A pid that is not running: beyond the usual pid_max. */
const DEAD_PID = 4_194_000;

test('a missing runs folder has no runs and no problem', () => {
  const { runs, problem } = readRunsFolder(path.join(tmpDir(), 'nope'));
  assert.deepEqual(runs, []);
  assert.equal(problem, undefined);
});

test('runs are listed newest first with method, state and step', () => {
  const dir = tmpDir();
  makeRun(dir, { id: 'a-old', createdAt: '2026-01-01T00:00:00Z', state: 'done', step: 100, method: 'maml' });
  makeRun(dir, { id: 'b-new', createdAt: '2026-02-01T00:00:00Z', state: 'running', step: 7, pid: process.pid });
  fs.mkdirSync(path.join(dir, 'not-a-run'));
  fs.mkdirSync(path.join(dir, '.hidden'));
  const { runs } = readRunsFolder(dir);
  assert.deepEqual(
    runs.map((r) => r.id),
    ['b-new', 'a-old'],
  );
  assert.equal(runs[0].state, 'running');
  assert.equal(runs[0].interrupted, false);
  assert.equal(runDescription(runs[0]), 'mavrl · running · step 7/100');
  assert.equal(runDescription(runs[1]), 'maml · done · step 100/100');
});

test('a running status whose worker is gone reads as stopped (interrupted) and is resumable with a checkpoint', () => {
  const dir = tmpDir();
  const runDir = makeRun(dir, { id: 'r1', state: 'running', step: 40, pid: DEAD_PID, checkpoints: [20, 40] });
  const run = readRunEntry(runDir);
  assert.equal(run.state, 'stopped');
  assert.equal(run.interrupted, true);
  assert.match(runDescription(run), /stopped \(interrupted\)/);
  assert.equal(runContextValue(run), 'run.stopped.resumable');
});

test('context values: running, done, failed with and without checkpoints', () => {
  const dir = tmpDir();
  const running = readRunEntry(makeRun(dir, { id: 'a', state: 'running', pid: process.pid, checkpoints: [10] }));
  const done = readRunEntry(makeRun(dir, { id: 'b', state: 'done', checkpoints: [100] }));
  const failed = readRunEntry(makeRun(dir, { id: 'c', state: 'failed', checkpoints: [5] }));
  const failedEarly = readRunEntry(makeRun(dir, { id: 'd', state: 'failed' }));
  assert.equal(runContextValue(running), 'run.running');
  assert.equal(runContextValue(done), 'run.done');
  assert.equal(runContextValue(failed), 'run.failed.resumable');
  assert.equal(runContextValue(failedEarly), 'run.failed');
});

test('a run expands to its checkpoints (newest first), then its results', () => {
  const dir = tmpDir();
  const runDir = makeRun(dir, { id: 'r', checkpoints: [50, 100, 150], results: { 'glyphs-1': evalResult([{ model: 'mavrl', clean: 0.5, robust: 0.3 }]) } });
  fs.mkdirSync(path.join(runDir, 'results', 'glyphs-1-samples'));
  fs.writeFileSync(path.join(runDir, 'checkpoints', 'step-00000200.ckpt.123.tmp'), 'partial');
  const [node] = rootNodes([readRunEntry(runDir)]);
  const kids = childrenOf(node);
  assert.deepEqual(
    kids.map((k) => nodeView(k).label),
    ['checkpoint step 150', 'checkpoint step 100', 'checkpoint step 50', 'glyphs-1'],
  );
  assert.deepEqual(
    kids.map((k) => nodeView(k).contextValue),
    ['checkpoint', 'checkpoint', 'checkpoint', 'result'],
  );
  assert.equal(nodeView(node).collapsible, true);
  assert.equal(nodeView(node).label, 'r');
  assert.deepEqual(childrenOf(kids[0]), []);
});

test('node ids are distinct across kinds and the same on a re-read', () => {
  const dir = tmpDir();
  const runDir = makeRun(dir, { id: 'r', checkpoints: [1], results: { x: evalResult([]) } });
  const ids = () => {
    const [node] = rootNodes([readRunEntry(runDir)]);
    return [node, ...childrenOf(node)].map((n) => nodeView(n).id);
  };
  const first = ids();
  assert.equal(new Set(first).size, 3);
  assert.deepEqual(ids(), first);
});

test('a corrupt run folder is listed with its problem, and the others still are', () => {
  const dir = tmpDir();
  makeRun(dir, { id: 'good' });
  const bad = makeRun(dir, { id: 'bad' });
  fs.writeFileSync(path.join(bad, 'status.json'), '{ not json');
  const { runs } = readRunsFolder(dir);
  assert.equal(runs.length, 2);
  const b = runs.find((r) => r.id === 'bad')!;
  assert.match(b.problem ?? '', /status\.json/);
  assert.equal(nodeView({ kind: 'run', run: b }).icon, 'warning');
  assert.match(runDescription(b), /^unreadable: /);
  assert.equal(runs.find((r) => r.id === 'good')!.problem, undefined);
});

test('a run from a newer format says to update', () => {
  const dir = tmpDir();
  const runDir = makeRun(dir, { id: 'future' });
  const cfg = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8'));
  fs.writeFileSync(path.join(runDir, 'config.json'), JSON.stringify({ ...cfg, format: 99 }));
  assert.match(readRunEntry(runDir).problem ?? '', /newer/);
});

test('the refresh coalescer fires under a steady stream of triggers, once per burst', async () => {
  let fired = 0;
  const c = new Coalescer(30, () => fired++);
  // A run's file events: a trigger every 5 ms, without a pause (a trailing debounce of 30 ms would
  // never fire). Until it has fired twice, or 5 s: on a loaded machine the timers run late, so the
  // test waits for the behaviour rather than counting firings in a fixed time.
  const t0 = Date.now();
  while (fired < 2 && Date.now() - t0 < 5000) {
    c.trigger();
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(fired >= 2, `fired ${fired} times while triggered without a pause for ${Date.now() - t0} ms`);
  const before = fired;
  c.trigger();
  c.trigger();
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(fired, before + 1);
  c.trigger();
  c.dispose();
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(fired, before + 1, 'nothing fires after dispose');
});
