// The worker protocol: messages survive the IPC round trip, guards reject strangers, and a real
// worker runs a job, reports it, and is reported when it dies.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { fork } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { kernelPath } from 'tfjs-wasm-training-kernels';
import { resolveConfig } from '../src/core/config';
import { startTraining, startWorker, WorkerExit } from '../src/runner/client';
import {
  isParentMessage,
  isWorkerMessage,
  PARENT_MESSAGE_TYPES,
  parentMessage,
  PROTOCOL_VERSION,
  WORKER_MESSAGE_TYPES,
  WorkerMessage,
  workerMessage,
} from '../src/runner/protocol';
import { readMetrics, readStatus } from '../src/runner/runStore';

const TINY = { imageSize: 16, width: 4, channels: 1, ways: 2, shots: 1, queries: 2, metaBatch: 1, attackSteps: 1, checkpointEvery: 2 } as const;

const SAMPLE_MESSAGES: WorkerMessage[] = [
  workerMessage({ type: 'worker/ready', backend: 'wasm', pid: 1 }),
  workerMessage({ type: 'run/started', runDir: '/r', step: 0, totalSteps: 3 }),
  workerMessage({ type: 'run/progress', step: 1, totalSteps: 3, etaSeconds: null, msPerStep: 12.5 }),
  workerMessage({
    type: 'run/metric',
    metric: { step: 1, time: 't', loss: 1.5, ceLoss: null, agreementLoss: 0.25, cleanAcc: 0.5, robustAcc: null, gradNorm: 2, msPerStep: 3 },
  }),
  workerMessage({ type: 'run/samples', samplesDir: '/r/samples', samples: { format: 1, step: 2, eps: 0.03, amplification: 16, images: [] } }),
  workerMessage({ type: 'run/checkpoint', step: 2, path: '/r/checkpoints/step-00000002.ckpt' }),
  workerMessage({ type: 'run/result', path: '/r/results/a.json' }),
  workerMessage({ type: 'run/paused', paused: true }),
  workerMessage({ type: 'log', level: 'warn', message: 'careful' }),
  workerMessage({ type: 'error', message: 'bad', userError: true }),
  workerMessage({ type: 'job/done', state: 'stopped' }),
];

test('every message type has a sample, and messages carry the protocol version', () => {
  const covered = new Set(SAMPLE_MESSAGES.map((m) => m.type));
  for (const t of WORKER_MESSAGE_TYPES) if (t !== 'bench/result') assert.ok(covered.has(t), `no sample of ${t}`);
  for (const m of SAMPLE_MESSAGES) assert.equal(m.v, PROTOCOL_VERSION);
  assert.deepEqual([...PARENT_MESSAGE_TYPES].sort(), ['job/cancel', 'job/pause', 'job/resume', 'job/start']);
});

test('guards accept our messages and reject other versions, types and shapes', () => {
  for (const m of SAMPLE_MESSAGES) {
    assert.ok(isWorkerMessage(m));
    assert.ok(!isParentMessage(m));
  }
  assert.ok(isParentMessage(parentMessage({ type: 'job/cancel' })));
  assert.ok(!isWorkerMessage({ ...SAMPLE_MESSAGES[0], v: PROTOCOL_VERSION + 1 }));
  assert.ok(!isWorkerMessage({ v: PROTOCOL_VERSION, type: 'run/unknown' }));
  assert.ok(!isWorkerMessage(null));
  assert.ok(!isWorkerMessage('job/done'));
});

test('messages round-trip through a real IPC channel unchanged', async () => {
  const echo = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rm-echo-')), 'echo.js');
  fs.writeFileSync(echo, "process.on('message', (m) => process.send(m, () => { if (m.type === 'job/done') process.disconnect(); }));");
  const child = fork(echo, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const back: unknown[] = [];
  const done = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.on('message', (m) => back.push(m));
  for (const m of SAMPLE_MESSAGES) child.send(m);
  await done;
  assert.deepEqual(back, SAMPLE_MESSAGES);
  assert.ok(back.every(isWorkerMessage));
});

test('a worker trains, reports typed events in order, and cancel stops it after a checkpoint', async () => {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-worker-'));
  const cfg = resolveConfig({ ...TINY, steps: 200 });
  const seen: string[] = [];
  const metrics: number[] = [];
  let ready: string | undefined;
  const { runDir, handle } = startTraining(runsDir, cfg, {
    // Log messages may come anywhere (a backend skipped on the way: webgpu without a Vulkan driver).
    message: (m) => m.type !== 'log' && seen.push(m.type),
    'worker/ready': (m) => (ready = m.backend),
    'run/metric': (m) => {
      metrics.push(m.metric.step);
      if (m.metric.step === 3) handle.cancel();
    },
  });
  const exit = await handle.done;
  assert.equal(exit.code, 0);
  assert.equal(exit.crashed, false);
  assert.equal(exit.state, 'stopped');
  assert.ok(ready);
  assert.equal(seen[0], 'worker/ready');
  assert.equal(seen[1], 'run/started');
  assert.ok(seen.includes('run/checkpoint'));
  assert.equal(seen.filter((t) => t === 'job/done').length, 1);
  const status = readStatus(runDir);
  assert.equal(status.state, 'stopped');
  assert.equal(status.checkpointStep, status.step);
  assert.deepEqual(
    readMetrics(runDir).map((m) => m.step),
    metrics,
  );
});

test('a worker killed mid-run is reported with its signal, and its run is marked failed', async () => {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-worker-'));
  const cfg = resolveConfig({ ...TINY, steps: 500 });
  let exitSeen: WorkerExit | undefined;
  const { runDir, handle } = startTraining(runsDir, cfg, {
    'run/checkpoint': () => handle.kill('SIGKILL'),
    exit: (e) => (exitSeen = e),
  });
  const exit = await handle.done;
  assert.equal(exit, exitSeen);
  assert.equal(exit.signal, 'SIGKILL');
  assert.equal(exit.crashed, true);
  assert.equal(exit.state, 'failed');
  assert.match(exit.message ?? '', /killed by SIGKILL/);
  const status = readStatus(runDir);
  assert.equal(status.state, 'failed');
  assert.match(status.message ?? '', /killed by SIGKILL at step \d+; the last checkpoint \(step 2\) is kept: resume with/);
  assert.ok(fs.existsSync(path.join(runDir, 'checkpoints', 'step-00000002.ckpt')));
});

test('a job with a bad config ends with the user-facing message and exit code 2', async () => {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-worker-'));
  const cfg = resolveConfig({ ...TINY, ways: 9, steps: 2 });
  let error: { message: string; userError: boolean } | undefined;
  const { handle } = startTraining(runsDir, cfg, { error: (m) => (error = m) });
  const exit = await handle.done;
  assert.equal(exit.code, 2);
  assert.equal(exit.state, 'failed');
  assert.equal(error?.userError, true);
  assert.match(error?.message ?? '', /9-way/);
  // The run never started, so no half-made run folder is left.
  assert.deepEqual(
    fs.readdirSync(runsDir).filter((n) => !n.startsWith('.')),
    [],
  );
});

test('a bench job returns its result over the protocol', async () => {
  let result: Record<string, unknown> | undefined;
  const handle = startWorker(
    { kind: 'bench', args: { ...TINY, steps: 2 } },
    { 'bench/result': (m) => (result = m.result as unknown as Record<string, unknown>) },
  );
  const exit = await handle.done;
  assert.equal(exit.code, 0);
  assert.equal(result?.steps, 2);
  assert.equal(result?.num_tensors_before, result?.num_tensors_after);
  if (result?.backend === 'wasm') {
    // Which kernels ran, and the step's arithmetic against the machine's peak.
    assert.equal(result.kernels, kernelPath());
    const flops = result.flops as {
      step_gflop: number;
      conv_gflop: number;
      step_gflops: number;
      peak: { gflops: number; measured_gflops_per_core?: number };
    };
    assert.ok(flops.conv_gflop > 0 && flops.step_gflop >= flops.conv_gflop, JSON.stringify(flops));
    assert.ok(flops.step_gflops > 0 && flops.peak.gflops > 0, JSON.stringify(flops));
    // The native paths measure the core's peak too; the wasm ones only estimate it.
    assert.equal(flops.peak.measured_gflops_per_core !== undefined, String(result.kernels).startsWith('native-'), JSON.stringify(flops));
  }
});

test('an eval job on a trained run writes its result and reports the path', async () => {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-worker-'));
  const { runDir, handle } = startTraining(runsDir, resolveConfig({ ...TINY, steps: 2 }));
  assert.equal((await handle.done).state, 'done');
  const out = path.join(runDir, 'results', 'tiny.json');
  let reported: string | undefined;
  const progress: number[] = [];
  const evalHandle = startWorker(
    {
      kind: 'eval',
      args: {
        checkpoints: [runDir],
        data: path.join(__dirname, '..', '..', 'data', 'glyphs'),
        out,
        options: { episodes: 3, queries: 2, curve: '0,8', attackSteps: 2, threads: 1 },
      },
    },
    { 'run/result': (m) => (reported = m.path), 'run/progress': (m) => progress.push(m.step) },
  );
  const exit = await evalHandle.done;
  assert.equal(exit.code, 0, exit.message);
  assert.equal(reported, out);
  assert.deepEqual(progress, [1, 2, 3]);
  const result = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.equal(result.setting.episodes, 3);
  // the run's own adaptation, and the prototype head beside it
  assert.deepEqual(
    result.models.map((m: { head: string }) => m.head),
    ['finetune', 'prototype'],
  );
  assert.equal(result.models[0].curve.length, 2);
  for (const s of result.models[0].samples) assert.ok(fs.existsSync(path.join(path.dirname(out), s.clean)));
});
