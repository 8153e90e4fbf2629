// The README's reliability promises, checked on whole processes: a full disk (injected, and a real
// small tmpfs where this test may mount one), two trainers of one run, a worker whose parent
// exits, a second Ctrl-C, SIGTERM, and the exit codes and messages of damaged inputs.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { encodePng } from '../src/core/data';
import { readCheckpoint } from '../src/runner/checkpoint';
import { processAlive } from '../src/runner/runLock';
import { listCheckpointFiles, readMetrics, readRun, readStatus } from '../src/runner/runStore';
import { makeRun } from './extension-helpers/runs';
import { TINY_TRAIN_FLAGS } from './helpers/cli';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'robust-meta.js');
const DISK_FULL = path.join(__dirname, 'helpers', 'diskFull.js');
const TINY = TINY_TRAIN_FLAGS;
/** A stack trace line: no message of these cases may carry one. */
const STACK = /\n\s+at .+\(.+:\d+:\d+\)/;

function tmpDir(prefix = 'rm-relcli-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function cli(args: string[], opts: { env?: NodeJS.ProcessEnv; execArgv?: string[] } = {}) {
  return spawnSync(process.execPath, [...(opts.execArgv ?? []), BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...opts.env }, timeout: 240_000 });
}

function events(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A CLI process whose --json events are handed to `onEvent` as they come. */
function spawnCli(args: string[], onEvent: (e: Record<string, unknown>, child: ChildProcess) => void = () => {}) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let buf = '';
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  child.stdout!.setEncoding('utf8').on('data', (t: string) => {
    stdout += t;
    buf += t;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.startsWith('{')) onEvent(JSON.parse(line), child);
    }
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr, at: Date.now() })),
  );
  return { child, exit };
}

/** The run folder named by the `started` event (log events may come before it). */
function startedRunDir(stdout: string): string {
  const started = events(stdout).find((e) => e.type === 'run/started');
  assert.ok(started, `a started event in ${stdout}`);
  return String(started.runDir);
}

function assertOneRowPerStep(runDir: string, steps: number): void {
  assert.deepEqual(
    readMetrics(runDir).map((m) => m.step),
    Array.from({ length: steps }, (_, i) => i + 1),
    'exactly one metrics line per step, in order',
  );
}

test('a full disk (injected) ends the run with a clear message, keeps the last good checkpoint, and the run resumes', { timeout: 300_000 }, () => {
  const runs = tmpDir();
  const r = cli(['train', ...TINY, '--steps', '12', '--checkpoint-every', '2', '--runs-dir', runs, '--json'], {
    execArgv: ['--require', DISK_FULL],
    env: { RM_DISK_FULL_MATCH: 'step-00000006\\.ckpt' },
  });
  assert.equal(r.status, 1, `exit code 1 (failure), got ${r.status}: ${r.stderr}`);
  assert.match(r.stderr, /robust-meta train: disk full while writing .*step-00000006\.ckpt: ENOSPC/);
  assert.doesNotMatch(r.stderr, STACK);
  const last = events(r.stdout).pop()!;
  assert.equal(last.type, 'error');
  assert.match(String(last.message), /disk full while writing/);
  const runDir = startedRunDir(r.stdout);
  // The checkpoints written before the disk filled are all there, whole; no temp file is left.
  assert.deepEqual(
    listCheckpointFiles(runDir).map((c) => c.step),
    [2, 4],
  );
  assert.equal(readCheckpoint(listCheckpointFiles(runDir)[1].path).header.step, 4);
  assert.deepEqual(
    fs.readdirSync(path.join(runDir, 'checkpoints')).filter((n) => n.endsWith('.tmp')),
    [],
  );
  // Space again: the run resumes from step 4 and finishes.
  const resumed = cli(['train', '--resume', runDir, '--json']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(events(resumed.stdout).find((e) => e.type === 'run/started')?.step, 4);
  assertOneRowPerStep(runDir, 12);
  assert.equal(readStatus(runDir).state, 'done');
});

/** Mounts a tmpfs of `size` at a new folder; undefined (with the reason) where this is not allowed. */
function mountTmpfs(size: string): { dir?: string; why?: string } {
  if (process.platform !== 'linux') return { why: 'tmpfs is Linux only' };
  if (process.getuid?.() !== 0) return { why: 'mounting a tmpfs needs root' };
  const dir = tmpDir('rm-tmpfs-');
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (m.status !== 0) return { why: `mount -t tmpfs failed here (${(m.stderr || m.error?.message || '').trim()})` };
  return { dir };
}

test('a full disk (a real 700 KB tmpfs): a clear message, a readable newest checkpoint, and a resume that finishes', { timeout: 300_000 }, (t) => {
  const { dir: small, why } = mountTmpfs('700k');
  if (!small) {
    t.skip(why);
    return;
  }
  try {
    // The case C: 121 KB checkpoints every 2 steps, which fill 700 KB well before step 30.
    const C = [
      '--image-size',
      '20',
      '--channels',
      '1',
      '--width',
      '16',
      '--meta-batch',
      '2',
      '--attack-steps',
      '1',
      '--queries',
      '5',
      '--workers',
      '1',
      '--steps',
      '30',
      '--checkpoint-every',
      '2',
      '--seed',
      '11',
    ];
    const r = cli(['train', ...C, '--runs-dir', path.join(small, 'runs'), '--json']);
    assert.equal(r.status, 1, `exit code 1, got ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, /robust-meta train: disk full while writing /);
    assert.doesNotMatch(r.stderr, STACK);
    const runDir = startedRunDir(r.stdout);
    const ckpts = listCheckpointFiles(runDir);
    assert.ok(ckpts.length > 0, `a checkpoint was written before the disk filled: ${r.stderr}`);
    for (const c of ckpts) assert.equal(readCheckpoint(c.path).header.step, c.step, `${c.path} is whole`);
    // Moved where there is room, the run resumes from its newest checkpoint and finishes.
    const roomy = path.join(tmpDir(), path.basename(runDir));
    fs.cpSync(runDir, roomy, { recursive: true });
    const resumed = cli(['train', '--resume', roomy, '--json']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.equal(events(resumed.stdout).find((e) => e.type === 'run/started')?.step, ckpts[ckpts.length - 1].step);
    assertOneRowPerStep(roomy, 30);
  } finally {
    spawnSync('umount', [small]);
  }
});

test('two resumes of one run at once: one trains, the other is refused with a clear message; no row lost or doubled', { timeout: 300_000 }, async () => {
  const runs = tmpDir();
  const first = cli(['train', ...TINY, '--steps', '4', '--checkpoint-every', '2', '--runs-dir', runs, '--json']);
  assert.equal(first.status, 0, first.stderr);
  const runDir = startedRunDir(first.stdout);
  const a = spawnCli(['train', '--resume', runDir, '--steps', '80', '--checkpoint-every', '40', '--json']);
  const b = spawnCli(['train', '--resume', runDir, '--steps', '80', '--checkpoint-every', '40', '--json']);
  const [ea, eb] = await Promise.all([a.exit, b.exit]);
  const [won, lost] = ea.code === 0 ? [ea, eb] : [eb, ea];
  assert.equal(won.code, 0, `one resume trains: ${won.stderr}`);
  assert.equal(lost.code, 1, `the other is refused (exit 1): ${lost.stderr}`);
  assert.match(lost.stderr, /is being trained by another process \(pid \d+, since .*\): one run folder has one writer\. Stop that run first/);
  assert.doesNotMatch(lost.stderr, STACK);
  assert.equal(events(lost.stdout).pop()?.type, 'error');
  assertOneRowPerStep(runDir, 80);
  assert.equal(readStatus(runDir).state, 'done');
  assert.equal(fs.existsSync(path.join(runDir, 'train.lock')), false, 'the lock is released at the end');
});

test('a worker whose parent exits at step 5 stops after a checkpoint, with status.json "stopped" and no EPIPE', { timeout: 300_000 }, async () => {
  const runs = tmpDir();
  const parent = path.join(tmpDir(), 'parent.js');
  // The parent: forks a training worker with the runner's startTraining and exits at step 5.
  fs.writeFileSync(
    parent,
    `const { startTraining } = require(${JSON.stringify(path.join(ROOT, 'out', 'src', 'runner', 'client.js'))});
const { resolveConfig } = require(${JSON.stringify(path.join(ROOT, 'out', 'src', 'core', 'config.js'))});
const cfg = resolveConfig({ imageSize: 16, width: 6, channels: 1, ways: 3, queries: 2, metaBatch: 2, attackSteps: 2, seed: 7, steps: 500, checkpointEvery: 100 });
const { runDir, handle } = startTraining(${JSON.stringify(runs)}, cfg, {
  'run/metric': (m) => {
    if (m.metric.step === 5) process.stdout.write(JSON.stringify({ runDir, pid: handle.pid }) + '\\n', () => process.exit(0));
  },
});
`,
  );
  const child = spawn(process.execPath, [parent], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  // The worker inherits this pipe: it closes when the worker has exited too.
  const closed = new Promise<void>((resolve) =>
    child.stderr
      .setEncoding('utf8')
      .on('data', (t: string) => (stderr += t))
      .on('close', () => resolve()),
  );
  await new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const { runDir, pid } = JSON.parse(stdout.trim()) as { runDir: string; pid: number };
  await closed;
  for (let i = 0; i < 600 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(processAlive(pid), false, 'the worker ended');
  assert.doesNotMatch(stderr, /EPIPE|ERR_IPC|unexpected error/, stderr);
  const status = readStatus(runDir);
  assert.equal(status.state, 'stopped', JSON.stringify(status));
  assert.ok(status.step >= 5 && status.step < 500, `stopped at step ${status.step}`);
  const ckpts = listCheckpointFiles(runDir);
  assert.equal(ckpts[ckpts.length - 1]?.step, status.step, 'a checkpoint of the last step done');
  assert.equal(readCheckpoint(ckpts[ckpts.length - 1].path).state.adam.t, status.step);
  assertOneRowPerStep(runDir, status.step);
});

test('Ctrl-C stops after a checkpoint; a second Ctrl-C quits at once, without waiting for the step', { timeout: 300_000 }, async () => {
  const runs = tmpDir();
  // Steps of a few seconds each (about 2.8 s on an AMD EPYC Zen 5 with native kernels; Conv4-32,
  // meta-batch 4, 5 attack steps took 0.4 s there, so both signals fell after the step): waiting
  // for one would be seen.
  const SLOW = [
    '--image-size',
    '28',
    '--channels',
    '1',
    '--width',
    '64',
    '--meta-batch',
    '8',
    '--attack-steps',
    '10',
    '--steps',
    '50',
    '--checkpoint-every',
    '50',
  ];
  let secondAt = 0;
  let stepMs = 0;
  const run = spawnCli(['train', ...SLOW, '--runs-dir', runs, '--json'], (e, child) => {
    if (e.type !== 'run/metric' || secondAt) return;
    stepMs = Number((e.metric as { msPerStep: number }).msPerStep);
    // Both signals land in the middle of the next step.
    setTimeout(() => {
      child.kill('SIGINT');
      setTimeout(() => {
        secondAt = Date.now();
        child.kill('SIGINT');
      }, 300);
    }, 200);
  });
  const out = await run.exit;
  assert.equal(out.code, 130, `exit 130 after Ctrl-C, got ${out.code} ${out.signal}: ${out.stderr}`);
  const waited = out.at - secondAt;
  assert.ok(waited < Math.max(1500, stepMs / 2), `quit ${waited} ms after the second Ctrl-C (a step takes ${stepMs} ms)`);
  assert.match(out.stderr, /stopping after a checkpoint \(Ctrl-C again to quit at once\)/);
  const runDir = startedRunDir(out.stdout);
  const run2 = readRun(runDir);
  assert.equal(run2.status.state, 'stopped');
  assert.match(run2.status.message ?? '', /interrupted at step 1 before a final checkpoint; resume with/);
});

test('SIGTERM stops after a checkpoint with exit code 143, as the worker does', { timeout: 300_000 }, async () => {
  const runs = tmpDir();
  let sent = false;
  const run = spawnCli(['train', ...TINY, '--steps', '400', '--checkpoint-every', '100', '--runs-dir', runs, '--json'], (e, child) => {
    if (e.type === 'run/metric' && !sent) {
      sent = true;
      child.kill('SIGTERM');
    }
  });
  const out = await run.exit;
  assert.equal(out.code, 143, out.stderr);
  const done = events(out.stdout).pop()!;
  assert.equal(done.type, 'job/done');
  assert.equal(done.state, 'stopped');
  const runDir = String(done.runDir);
  assert.equal(listCheckpointFiles(runDir).pop()?.step, done.step);
  assert.equal(readStatus(runDir).state, 'stopped');
});

test(
  'exit codes and messages: a damaged config.json on --resume (1), a huge checkpoint header length (1), data that cannot make eval tasks (2), a flag error under --json',
  { timeout: 300_000 },
  () => {
    const runs = tmpDir();
    const made = cli(['train', ...TINY, '--steps', '2', '--checkpoint-every', '2', '--runs-dir', runs, '--json']);
    assert.equal(made.status, 0, made.stderr);
    const runDir = startedRunDir(made.stdout);
    const ckpt = listCheckpointFiles(runDir)[0].path;

    // A checkpoint whose header-length field is >= 2^31: the file is named, no RangeError.
    const huge = path.join(tmpDir(), 'huge.ckpt');
    const bytes = fs.readFileSync(ckpt);
    bytes.writeUInt32LE(0x80000010, 12);
    fs.writeFileSync(huge, bytes);
    const evHuge = cli(['eval', '-c', huge, '--episodes', '2']);
    assert.equal(evHuge.status, 1, evHuge.stderr);
    assert.match(evHuge.stderr, new RegExp(`checkpoint ${huge.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is truncated`));
    assert.doesNotMatch(evHuge.stderr, /RangeError|unexpected error/);
    assert.doesNotMatch(evHuge.stderr, STACK);

    // Data with 2 classes cannot make the model's 3-way tasks: the data is at fault, exit 2.
    const data = tmpDir();
    for (const c of ['a', 'b']) {
      fs.mkdirSync(path.join(data, c));
      for (let i = 0; i < 6; i++)
        fs.writeFileSync(
          path.join(data, c, `${i}.png`),
          encodePng({ width: 16, height: 16, channels: 1, data: new Uint8Array(256).fill(i * 20 + (c === 'a' ? 0 : 9)) }),
        );
    }
    const evData = cli(['eval', '-c', runDir, '--data', data, '--episodes', '2']);
    assert.equal(evData.status, 2, evData.stderr);
    assert.doesNotMatch(evData.stderr, STACK);

    // A damaged config.json of the run: a damaged run folder is a failure (1), not a usage error.
    fs.writeFileSync(path.join(runDir, 'config.json'), '{"format": 1, "id": ');
    const resumed = cli(['train', '--resume', runDir]);
    assert.equal(resumed.status, 1, resumed.stderr);
    assert.match(resumed.stderr, /config\.json is corrupt: it is not valid JSON/);
    assert.doesNotMatch(resumed.stderr, STACK);

    // A bad flag with --json: an error event on stdout, and the usage exit code.
    const bad = cli(['train', '--json', '--no-such-flag', '3', '--runs-dir', runs]);
    assert.equal(bad.status, 2, bad.stderr);
    const ev = events(bad.stdout).pop()!;
    assert.equal(ev.type, 'error');
    assert.match(String(ev.message), /no-such-flag/);
    assert.equal(ev.exitCode, 2);

    // A config file saved with a UTF-8 byte-order mark is read like any other.
    const withBom = path.join(tmpDir(), 'bom.robust-meta.json');
    fs.writeFileSync(withBom, '\uFEFF' + JSON.stringify({ steps: 1, imageSize: 16, width: 4, channels: 1, ways: 2, queries: 2, metaBatch: 1, attackSteps: 1 }));
    const bom = cli(['train', '--config', withBom, '--runs-dir', runs, '--json']);
    assert.equal(bom.status, 0, bom.stderr);
    assert.equal(events(bom.stdout).pop()?.state, 'done');
  },
);

test('--backend tensorflow without @tensorflow/tfjs-node installed: a clear message, no stack trace', { timeout: 120_000 }, (t) => {
  try {
    require.resolve('@tensorflow/tfjs-node');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-node');
    t.skip('@tensorflow/tfjs-node is installed and loads here');
    return;
  } catch {
    // Not usable here: the case to check.
  }
  const runs = tmpDir();
  const r = cli(['train', ...TINY, '--steps', '1', '--backend', 'tensorflow', '--runs-dir', runs]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /no usable tfjs backend for 'tensorflow'/);
  assert.doesNotMatch(r.stderr, /unexpected error/);
  assert.doesNotMatch(r.stderr, STACK);
  // A run that could not start leaves no folder behind.
  assert.deepEqual(
    fs.readdirSync(runs).filter((n) => !n.startsWith('.')),
    [],
  );
});

test('list shows the step of the metrics it shows beside it, not an older step from status.json', () => {
  const runs = tmpDir();
  // status.json is rewritten at most once a second: here it says step 2 while metrics reach 5.
  makeRun(runs, { id: 'r1', state: 'stopped', step: 2, steps: 10, metrics: 5 });
  const r = cli(['list', '--runs-dir', runs]);
  assert.equal(r.status, 0, r.stderr);
  const row = r.stdout.split('\n').find((l) => l.startsWith('r1'));
  assert.ok(row, r.stdout);
  assert.match(row, /\b5\/10\b/);
  assert.ok(row.includes('0.4000'), `the loss of step 5 (2/5) beside it: ${row}`);
});
