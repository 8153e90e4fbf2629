// `robust-meta train --executor slurm` on a real cluster: a run cancelled with scancel mid-training
// stops after a checkpoint, and resubmitted resumes to the same metrics and parameters as a run
// that never stopped; a job that fails shows the scheduler's reason, its exit and robust-meta's
// error in `robust-meta jobs`.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { JobView } from '../../src/runner/slurm/jobs';
import { readCheckpoint } from '../../src/runner/checkpoint';
import { readMetrics, readStatus } from '../../src/runner/runStore';
import { cli, SKIP, waitFor } from './cluster';
import { TINY_TRAIN_FLAGS } from '../helpers/cli';

const TINY = TINY_TRAIN_FLAGS;
const STEPS = 40;

function jobs(cwd: string, runs: string): JobView[] {
  const r = cli(['jobs', runs, '--json'], cwd);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as JobView[];
}

function submitted(r: { code: number | null; stdout: string; stderr: string }): { jobId: string; runDir: string; script: string } {
  assert.equal(r.code, 0, r.stderr);
  const e = JSON.parse(r.stdout.trim().split('\n').pop()!) as { type: string; jobId: string; runDir: string; script: string };
  assert.equal(e.type, 'slurm/submitted');
  return e;
}

function finishedJob(cwd: string, runs: string, jobId: string): JobView | undefined {
  const v = jobs(cwd, runs).find((j) => j.jobId === jobId);
  return v?.finished ? v : undefined;
}

test('a run cancelled with scancel mid-training and resubmitted resumes to the metrics of an uninterrupted run', { skip: SKIP, timeout: 600_000 }, async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-slurm-'));
  const runs = path.join(cwd, 'runs');
  const straightRuns = path.join(cwd, 'straight');
  const sub = submitted(
    cli(['train', ...TINY, '--steps', String(STEPS), '--checkpoint-every', '2', '--executor', 'slurm', '--time', '30', '--mem', '2G', '--json'], cwd),
  );
  const script = fs.readFileSync(sub.script, 'utf8');
  assert.match(script, /^#SBATCH --requeue$/m);
  assert.match(script, /^#SBATCH --time=30$/m);
  assert.match(script, /^#SBATCH --mem=2G$/m);
  assert.match(script, /^#SBATCH --signal=B:USR1@\d+$/m);

  // Cancel once a few checkpoints are written, well before the end.
  await waitFor(
    'the job to pass step 6',
    () => {
      try {
        return readStatus(sub.runDir).step >= 6 ? true : undefined;
      } catch {
        return undefined;
      }
    },
    300_000,
    200,
  );
  const cancel = spawnSync('scancel', [sub.jobId], { encoding: 'utf8' });
  assert.equal(cancel.status, 0, cancel.stderr);
  const cancelled = await waitFor('the cancelled job to end', () => finishedJob(cwd, runs, sub.jobId), 120_000);
  assert.equal(cancelled.state, 'CANCELLED');
  const stopped = readStatus(sub.runDir);
  assert.equal(stopped.state, 'stopped', 'scancel let robust-meta stop after a checkpoint');
  assert.ok(stopped.step < STEPS, `cancelled at step ${stopped.step} of ${STEPS}`);
  assert.equal(stopped.checkpointStep, stopped.step);

  // The uninterrupted run, here, while nothing else runs.
  const straight = cli(['train', ...TINY, '--steps', String(STEPS), '--checkpoint-every', '2', '--runs-dir', straightRuns, '--json'], cwd);
  assert.equal(straight.code, 0, straight.stderr);
  const straightDir = (JSON.parse(straight.stdout.trim().split('\n').pop()!) as { runDir: string }).runDir;

  const again = submitted(cli(['train', '--resume', sub.runDir, '--executor', 'slurm', '--json'], cwd));
  assert.equal(again.runDir, sub.runDir);
  assert.notEqual(again.jobId, sub.jobId);
  const done = await waitFor('the resubmitted job to end', () => finishedJob(cwd, runs, again.jobId), 300_000);
  assert.equal(done.state, 'COMPLETED', JSON.stringify(done));
  assert.equal(done.earlier, 1);
  assert.deepEqual(done.run, { state: 'done', step: STEPS, totalSteps: STEPS });
  const log = fs.readFileSync(path.join(sub.runDir, 'slurm', `job-${again.jobId}.log`), 'utf8');
  // The second job ran the run's resume job (config.json existed), not a fresh start.
  assert.match(log, /robust-meta\.js job \S+\/slurm\/resume\.json/);

  const a = readMetrics(straightDir);
  const b = readMetrics(sub.runDir);
  assert.deepEqual(
    b.map((m) => m.step),
    Array.from({ length: STEPS }, (_, i) => i + 1),
    'one metrics line per step',
  );
  for (let i = 0; i < STEPS; i++) assert.equal(b[i].loss, a[i].loss, `loss of step ${i + 1}`);
  const ckpt = `checkpoints/step-${String(STEPS).padStart(8, '0')}.ckpt`;
  const pa = readCheckpoint(path.join(straightDir, ckpt)).state.params;
  const pb = readCheckpoint(path.join(sub.runDir, ckpt)).state.params;
  for (const k of Object.keys(pa)) assert.deepEqual(Array.from(pb[k].data), Array.from(pa[k].data), `parameter ${k}`);
});

test('a job that fails shows the scheduler state, reason, exit code and the error in robust-meta jobs', { skip: SKIP, timeout: 300_000 }, async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-slurm-'));
  const runs = path.join(cwd, 'runs');
  const sub = submitted(cli(['train', ...TINY, '--steps', '2', '--data', path.join(cwd, 'no-such-data'), '--executor', 'slurm', '--json'], cwd));
  const failed = await waitFor('the failing job to end', () => finishedJob(cwd, runs, sub.jobId), 120_000);
  assert.equal(failed.state, 'FAILED');
  assert.equal(failed.reason, 'NonZeroExitCode');
  assert.equal(failed.exitCode, '2:0');
  assert.match(failed.message ?? '', /robust-meta job: dataset path .*no-such-data does not exist/);
  // The run never started, but its folder keeps the job's script, output and exit record.
  assert.equal(failed.run, undefined);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(sub.runDir, 'slurm', `exit-${sub.jobId}.json`), 'utf8')).exitCode, 2);
  const table = cli(['jobs', runs], cwd);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`^${sub.jobId}\\s+failed\\s+.*not started.*NonZeroExitCode; exit 2:0; robust-meta job: dataset path`, 'm'));
});
