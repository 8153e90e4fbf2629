// Kill and resume: a run killed with SIGKILL after its step-10 checkpoint, then resumed to step
// 20, ends with the same parameters and metrics as a run that went to 20 without stopping, and
// with exactly one metrics line per step.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readCheckpoint } from '../src/runner/checkpoint';
import { readMetrics, readStatus } from '../src/runner/runStore';
import { TINY_TRAIN_FLAGS } from './helpers/cli';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'robust-meta.js');
const TINY = TINY_TRAIN_FLAGS;

function lastEvent(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

/**
 * Starts `train --json` and SIGKILLs it once a checkpoint at step >= killAt is written and the
 * step after it has a metrics line: the resume must drop the lines past its checkpoint.
 */
function trainUntilKilled(args: string[], killAt: number): Promise<{ runDir: string; signal: NodeJS.Signals | null; lastMetric: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'train', ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let runDir = '';
    let lastMetric = 0;
    let checkpointed = false;
    let buf = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.stdout.setEncoding('utf8').on('data', (t: string) => {
      buf += t;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const e = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (e.type === 'run/started') runDir = e.runDir;
        if (e.type === 'run/metric') lastMetric = e.metric.step;
        if (e.type === 'run/checkpoint' && e.step >= killAt) checkpointed = true;
        if (e.type === 'run/metric' && checkpointed) child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`train was not killed (exit ${code}): ${stderr}`));
      else resolve({ runDir, signal, lastMetric });
    });
  });
}

test('a run killed after its step-10 checkpoint and resumed matches an uninterrupted run', { timeout: 300_000 }, async () => {
  const runs = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-resume-'));
  const straight = spawnSync(process.execPath, [BIN, 'train', ...TINY, '--steps', '20', '--checkpoint-every', '5', '--runs-dir', runs, '--json'], {
    encoding: 'utf8',
  });
  assert.equal(straight.status, 0, straight.stderr);
  const straightDir = lastEvent(straight.stdout).runDir as string;

  const killed = await trainUntilKilled([...TINY, '--steps', '20', '--checkpoint-every', '2', '--runs-dir', runs], 10);
  assert.equal(killed.signal, 'SIGKILL');
  // The killed process's status still says running; its process is gone.
  assert.equal(readStatus(killed.runDir).state, 'running');
  const before = readMetrics(killed.runDir).length;
  assert.ok(before >= 11, `killed after ${before} steps`);

  const resumed = spawnSync(process.execPath, [BIN, 'train', '--resume', killed.runDir, '--json'], { encoding: 'utf8' });
  assert.equal(resumed.status, 0, resumed.stderr);
  // Resume may first log what it repaired (a torn metrics line, temp files the kill left).
  const events = resumed.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string; step: number; message?: string });
  const first = events.findIndex((e) => e.type !== 'log');
  const started = events[first];
  assert.equal(started.type, 'run/started', JSON.stringify(events.slice(0, first + 1)));
  assert.ok(started.step >= 10 && started.step % 2 === 0 && started.step <= before, `resumed from step ${started.step} with ${before} metric lines`);
  assert.equal(lastEvent(resumed.stdout).state, 'done');

  const a = readMetrics(straightDir);
  const b = readMetrics(killed.runDir);
  assert.deepEqual(
    b.map((m) => m.step),
    Array.from({ length: 20 }, (_, i) => i + 1),
    'exactly one metrics line per step',
  );
  for (let i = 0; i < 20; i++) {
    assert.ok(Math.abs(a[i].loss! - b[i].loss!) <= 1e-5 * Math.max(1, Math.abs(a[i].loss!)), `loss of step ${i + 1}: ${a[i].loss} vs ${b[i].loss}`);
  }
  const pa = readCheckpoint(path.join(straightDir, 'checkpoints', 'step-00000020.ckpt'));
  const pb = readCheckpoint(path.join(killed.runDir, 'checkpoints', 'step-00000020.ckpt'));
  assert.equal(pb.state.adam.t, 20);
  assert.deepEqual(Object.keys(pb.state.params), Object.keys(pa.state.params));
  let maxDiff = 0;
  for (const k of Object.keys(pa.state.params)) {
    const x = pa.state.params[k].data;
    const y = pb.state.params[k].data;
    for (let i = 0; i < x.length; i++) maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
  }
  assert.ok(maxDiff <= 1e-6, `parameters differ by up to ${maxDiff}`);
  assert.equal(readStatus(killed.runDir).state, 'done');
});
