// What a full disk, a second writer and a damaged run folder do, in one process: the atomic
// writer with short writes and ENOSPC injected, checkpoints verified before pruning, the run lock,
// and the repairs a resume makes (damaged metric lines, temp files, orphan sample PNGs).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
// The fs module object itself, so that a patched writeSync reaches the writer.
import fs = require('fs');
import * as os from 'os';
import * as path from 'path';
import { WRITE_CHUNK, writeFileAtomic } from '../src/core/atomicFile';
import { resolveConfig } from '../src/core/config';
import { LearnerState } from '../src/core/meta/learner';
import { readCheckpoint, writeCheckpoint } from '../src/runner/checkpoint';
import { MetricLine, RUN_FORMAT_VERSION } from '../src/runner/runFormat';
import { acquireRunLock, processStartTime, runOwner } from '../src/runner/runLock';
import {
  allocateRunDir,
  appendMetric,
  listCheckpointFiles,
  readMetrics,
  sweepTempFiles,
  truncateMetrics,
  writeRunConfig,
  writeStatus,
} from '../src/runner/runStore';
import { sweepOrphanSamples } from '../src/runner/samples';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rm-rel-'));
}

function makeRun() {
  const cfg = resolveConfig({ imageSize: 16, width: 4, ways: 2, steps: 10 });
  const { id, dir } = allocateRunDir(tmpDir(), cfg.method);
  writeRunConfig(dir, {
    format: RUN_FORMAT_VERSION,
    id,
    createdAt: new Date().toISOString(),
    config: cfg,
    backend: 'cpu',
    versions: { robustMeta: '0', tfjs: '0', node: process.versions.node },
  });
  writeStatus(dir, { state: 'stopped', step: 6, totalSteps: 10 });
  return { dir, cfg };
}

function fakeState(step: number): LearnerState {
  const arr = (shape: number[], v: number) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v + step) });
  return {
    step,
    params: { 'encoder/conv1/w': arr([3, 3, 1, 64], 0.5) },
    adam: { t: step, m: { 'encoder/conv1/w': arr([3, 3, 1, 64], 0.1) }, v: { 'encoder/conv1/w': arr([3, 3, 1, 64], 0.01) } },
  };
}

function metric(step: number): MetricLine {
  return {
    step,
    time: new Date(1_700_000_000_000 + step).toISOString(),
    loss: 1 / step,
    ceLoss: null,
    agreementLoss: null,
    cleanAcc: 0.5,
    robustAcc: null,
    gradNorm: 1,
    msPerStep: 3,
  };
}

type WriteSync = (fd: number, buf: Uint8Array, off?: number, len?: number, pos?: number) => number;

/** Runs `body` with fs.writeSync replaced by `fake` (given the real one). */
function withWriteSync<T>(fake: (real: WriteSync, fd: number, buf: Uint8Array, off: number, len: number) => number, body: () => T): T {
  const real = fs.writeSync as unknown as WriteSync;
  (fs as { writeSync: unknown }).writeSync = (fd: number, buf: Uint8Array, off = 0, len = buf.length - off) => fake(real, fd, buf, off, len);
  try {
    return body();
  } finally {
    (fs as { writeSync: unknown }).writeSync = real;
  }
}

const ENOSPC = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

test('the atomic writer continues short writes, and writes in chunks below the 2 GiB a write() may move', () => {
  assert.ok(WRITE_CHUNK < 2 ** 31 - 4096);
  const file = path.join(tmpDir(), 'big.bin');
  const data = new Uint8Array(300_001).map((_, i) => (i * 7) & 0xff);
  let calls = 0;
  withWriteSync(
    (real, fd, buf, off, len) => {
      calls++;
      return real(fd, buf, off, Math.min(len, 1000));
    },
    () => writeFileAtomic(file, data),
  );
  assert.ok(calls >= 301, `short writes were continued (${calls} calls)`);
  assert.deepEqual(new Uint8Array(fs.readFileSync(file)), data);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['big.bin']);
});

test('a full disk mid-file: a clear error naming the file, the temp file removed, the old content intact', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'status.json');
  writeFileAtomic(file, 'old\n');
  assert.throws(
    () =>
      withWriteSync(
        (real, fd, buf, off, len) => {
          real(fd, buf, off, Math.floor(len / 2));
          throw ENOSPC();
        },
        () => writeFileAtomic(file, 'x'.repeat(10_000)),
      ),
    (e: Error) => e.name === 'UserError' && e.message.startsWith(`disk full while writing ${file}: `),
  );
  // A write() that stores nothing without an error code is a full disk too, not an endless loop.
  assert.throws(
    () =>
      withWriteSync(
        () => 0,
        () => writeFileAtomic(file, 'y'.repeat(100)),
      ),
    /disk full while writing/,
  );
  assert.equal(fs.readFileSync(file, 'utf8'), 'old\n');
  assert.deepEqual(fs.readdirSync(dir), ['status.json']);
});

test('a checkpoint that fails on a full disk, or reads back short, costs no older checkpoint', () => {
  const { dir, cfg } = makeRun();
  for (const s of [2, 4, 6]) writeCheckpoint(dir, fakeState(s), cfg);
  assert.throws(
    () =>
      withWriteSync(
        () => {
          throw ENOSPC();
        },
        () => writeCheckpoint(dir, fakeState(8), cfg),
      ),
    (e: Error) => e.name === 'UserError' && /disk full while writing .*step-00000008\.ckpt/.test(e.message),
  );
  // A disk that reports every byte written but keeps only half (what the issue saw): caught by
  // reading the checkpoint back, before pruning.
  assert.throws(
    () =>
      withWriteSync(
        (real, fd, buf, off, len) => {
          real(fd, buf, off, Math.max(1, Math.floor(len / 2)));
          return len;
        },
        () => writeCheckpoint(dir, fakeState(8), cfg),
      ),
    (e: Error) => e.name === 'UserError' && /step-00000008\.ckpt read back as \d+ bytes of \d+/.test(e.message) && /older checkpoints are kept/.test(e.message),
  );
  assert.deepEqual(
    listCheckpointFiles(dir).map((c) => c.step),
    [2, 4, 6],
  );
  assert.deepEqual(fs.readdirSync(path.join(dir, 'checkpoints')).sort(), ['step-00000002.ckpt', 'step-00000004.ckpt', 'step-00000006.ckpt']);
  assert.equal(readCheckpoint(listCheckpointFiles(dir)[2].path).header.step, 6);
  // Once there is room again, the next checkpoint is written and the oldest pruned.
  writeCheckpoint(dir, fakeState(8), cfg);
  assert.deepEqual(
    listCheckpointFiles(dir).map((c) => c.step),
    [4, 6, 8],
  );
});

test('metrics: a failed append is a clear error naming metrics.jsonl, not a stack trace', () => {
  const { dir } = makeRun();
  const blocked = path.join(dir, 'metrics.jsonl');
  fs.mkdirSync(blocked);
  // A folder in its place makes appendFileSync fail (EISDIR): the error names the file.
  assert.throws(
    () => appendMetric(dir, metric(1)),
    (e: Error) => e.name === 'UserError' && e.message.includes(blocked) && e.message.includes('EISDIR'),
  );
});

test('one writer per run folder: a second lock is refused naming the holder; a stale or damaged lock is taken over', () => {
  const { dir } = makeRun();
  const lockFile = path.join(dir, 'train.lock');
  const lock = acquireRunLock(dir);
  assert.equal(runOwner(dir)?.pid, process.pid);
  assert.throws(
    () => acquireRunLock(dir),
    (e: Error) =>
      e.name === 'UserError' && e.message.includes(`being trained by another process (pid ${process.pid}`) && /one run folder has one writer/.test(e.message),
  );
  lock.release();
  assert.equal(fs.existsSync(lockFile), false);

  // Left by a killed process: a pid that no longer exists.
  fs.writeFileSync(lockFile, JSON.stringify({ pid: 2 ** 22 + 4321, startTime: '1', hostname: os.hostname(), since: 'then' }));
  assert.equal(runOwner(dir), undefined);
  acquireRunLock(dir).release();
  // A live pid that started at another time: the pid was reused by an unrelated process.
  if (processStartTime(process.pid) !== undefined) {
    fs.writeFileSync(lockFile, JSON.stringify({ pid: process.pid, startTime: '12', hostname: os.hostname(), since: 'then' }));
    assert.equal(runOwner(dir), undefined);
    acquireRunLock(dir).release();
  }
  // Not a lock at all.
  fs.writeFileSync(lockFile, '\u0000\u0001garbage');
  const taken = acquireRunLock(dir);
  assert.equal(JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid, process.pid);
  // Another machine's lock cannot be checked from here: refused, with what to do.
  taken.release();
  fs.writeFileSync(lockFile, JSON.stringify({ pid: 4242, startTime: null, hostname: `${os.hostname()}-other`, since: 'then' }));
  assert.throws(
    () => acquireRunLock(dir),
    (e: Error) => e.message.includes('on another machine') && e.message.includes(`delete ${lockFile}`),
  );
  // Releasing never removes a lock that is not this process's.
  fs.rmSync(lockFile);
  const mine = acquireRunLock(dir);
  const other = JSON.stringify({ pid: 4242, startTime: null, hostname: `${os.hostname()}-other`, since: 'later' });
  fs.writeFileSync(lockFile, other);
  mine.release();
  assert.equal(fs.readFileSync(lockFile, 'utf8'), other);
});

test('on a file system without hard links the lock is still taken exclusively', () => {
  const { dir } = makeRun();
  const realLink = fs.linkSync;
  (fs as { linkSync: unknown }).linkSync = () => {
    throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' });
  };
  try {
    const lock = acquireRunLock(dir);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'train.lock'), 'utf8')).pid, process.pid);
    assert.throws(() => acquireRunLock(dir), /being trained by another process/);
    lock.release();
    assert.deepEqual(
      fs.readdirSync(dir).filter((n) => n.includes('lock')),
      [],
    );
  } finally {
    (fs as { linkSync: unknown }).linkSync = realLink;
  }
});

test('resume repairs: damaged metric lines are named in a warning and every whole row is kept', () => {
  const { dir } = makeRun();
  const file = path.join(dir, 'metrics.jsonl');
  const line = (s: number) => JSON.stringify(metric(s)) + '\n';
  // Rows 1-2, garbage, row 3, a torn row 4 that row 5's append ran into, row 6, binary noise,
  // rows 7-8 (after the checkpoint at 6, dropped as always), and a torn last line.
  const torn = JSON.stringify(metric(4)).slice(0, 25);
  fs.writeFileSync(
    file,
    line(1) + line(2) + 'garbage here\n' + line(3) + torn + line(5) + line(6) + '\u0000\u00ff\u0001\u0002\n' + line(7) + line(8) + '{"step":9,"lo',
  );
  const warning = truncateMetrics(dir, 6);
  assert.deepEqual(
    readMetrics(dir).map((m) => m.step),
    [1, 2, 3, 5, 6],
  );
  assert.ok(warning, 'a warning');
  assert.ok(warning.includes(file), warning);
  assert.match(warning, /lines 3, 5, 7 were damaged/);
  assert.match(warning, /the row at the end of line 5 was kept/);
  assert.match(warning, /lines 3, 7 could not be read and were dropped/);
  // A clean file gives no warning.
  assert.equal(truncateMetrics(dir, 6), undefined);
});

test('resume repairs: temp files of killed writers and sample PNGs without their JSON are swept', () => {
  const { dir } = makeRun();
  const samples = path.join(dir, 'samples');
  fs.mkdirSync(samples);
  fs.mkdirSync(path.join(dir, 'checkpoints'));
  const junk = [
    path.join(dir, 'status.json.123.ab12cd.tmp'),
    path.join(dir, 'checkpoints', 'step-00000004.ckpt.123.ef34gh.tmp'),
    path.join(samples, 'step-00000004.json.123.ij56kl.tmp'),
  ];
  for (const f of junk) fs.writeFileSync(f, 'partial');
  const kept = ['step-00000002.json', 'step-00000002-0-clean.png', 'step-00000002-0-adversarial.png'];
  const orphans = ['step-00000004-0-clean.png', 'step-00000004-1-perturbation.png'];
  for (const n of [...kept, ...orphans]) fs.writeFileSync(path.join(samples, n), 'x');
  assert.deepEqual(sweepTempFiles(dir).sort(), junk.sort());
  assert.deepEqual(sweepOrphanSamples(dir).sort(), orphans.sort());
  assert.deepEqual(fs.readdirSync(samples).sort(), kept.sort());
  assert.ok(fs.existsSync(path.join(dir, 'status.json')));
});
