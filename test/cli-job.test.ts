// One job description, run two ways: `robust-meta job <file> --json` (what a remote executor runs)
// and the local executor (worker processes), each writing a run folder with the same numbers and
// reporting through the same events.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { resolveConfig } from '../src/core/config';
import { localExecutor } from '../src/runner/executor';
import { isWorkerMessage, Job, WorkerMessage } from '../src/runner/protocol';
import { readMetrics, readStatus } from '../src/runner/runStore';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'robust-meta.js');
const TINY = { imageSize: 16, width: 4, channels: 1, ways: 2, shots: 1, queries: 2, metaBatch: 1, attackSteps: 1, checkpointEvery: 2, steps: 3 } as const;

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rm-job-'));
}

test('a train job file runs with `robust-meta job --json` and with the local executor to the same run', { timeout: 300_000 }, async () => {
  const dir = tmp();
  const config = resolveConfig(TINY);
  const viaCli: Job = { kind: 'train', runDir: path.join(dir, 'cli-run'), config, resume: false };
  fs.writeFileSync(path.join(dir, 'job.json'), JSON.stringify(viaCli));
  const r = spawnSync(process.execPath, [BIN, 'job', path.join(dir, 'job.json'), '--json'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as WorkerMessage);
  assert.ok(events.every(isWorkerMessage), 'every line is a declared worker event');
  assert.deepEqual(
    events.filter((e) => e.type === 'run/metric').map((e) => (e.type === 'run/metric' ? e.metric.step : 0)),
    [1, 2, 3],
  );
  const done = events[events.length - 1];
  assert.equal(done.type, 'job/done');
  assert.equal(done.type === 'job/done' && done.state, 'done');
  assert.equal(readStatus(viaCli.runDir).state, 'done');

  const log = path.join(dir, 'local.log');
  const local: Job = { ...viaCli, runDir: path.join(dir, 'local-run') };
  const seen: string[] = [];
  const result = await localExecutor().start(local, { logFile: log, onEvent: (m) => seen.push(m.type) }).done;
  assert.equal(result.state, 'done', result.message);
  assert.equal(result.exitCode, 0);
  assert.equal(result.done?.step, 3);
  assert.ok(result.done?.checkpoint && fs.existsSync(result.done.checkpoint));
  assert.ok(seen.includes('run/started') && seen.includes('run/checkpoint'));
  // The log holds the events as JSON lines, as `job --json` prints them.
  const logged = fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  assert.ok(logged.some((e) => e.type === 'job/done' && e.state === 'done'));

  const a = readMetrics(viaCli.runDir);
  const b = readMetrics(local.runDir);
  assert.deepEqual(
    b.map((m) => m.loss),
    a.map((m) => m.loss),
  );
});

test('a job file that does not match its declaration exits 2 naming the file and the path', () => {
  const dir = tmp();
  const file = path.join(dir, 'bad.json');
  fs.writeFileSync(file, JSON.stringify({ kind: 'train', runDir: 7, resume: false }));
  const r = spawnSync(process.execPath, [BIN, 'job', file, '--json'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /\/runDir/);
  assert.ok(r.stderr.includes(file), r.stderr);
  const last = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(last.type, 'error');
});

test('a failing job reports the user-facing error and its exit code through the executor', { timeout: 120_000 }, async () => {
  const dir = tmp();
  const job: Job = { kind: 'train', runDir: path.join(dir, 'run'), config: resolveConfig({ ...TINY, ways: 9 }), resume: false };
  const result = await localExecutor().start(job).done;
  assert.equal(result.state, 'failed');
  assert.equal(result.exitCode, 2);
  assert.equal(result.userError, true);
  assert.match(result.message ?? '', /9-way/);
});
