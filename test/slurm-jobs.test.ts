// Job states without the scheduler: a job Slurm no longer knows is read from the exit record its
// batch script left (a cluster without slurmdbd forgets finished jobs); the extension's view of
// them; and Restricted Mode, where Stop and Resume submit and cancel nothing.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { resumeSlurmJob, slurmDescription, slurmJobsByRun, slurmRunView, stopSlurmJob } from '../src/extension/slurmJobs';
import type { RunEntry } from '../src/extension/runFolder';
import { runContextValue, runDescription } from '../src/extension/treeModel';
import { listJobs, type JobView } from '../src/runner/slurm/jobs';

// A job id far beyond what any test cluster hands out: the scheduler does not know it.
const GONE = '987654321';

function runWithRecord(exitCode: number | undefined): { runs: string; run: string } {
  const runs = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-jobs-'));
  const run = path.join(runs, '20261201-000000-mavrl');
  fs.mkdirSync(path.join(run, 'slurm'), { recursive: true });
  fs.writeFileSync(
    path.join(run, 'slurm', 'jobs.json'),
    JSON.stringify({
      format: 1,
      kind: 'train',
      submissions: [
        { jobId: '5', submittedAt: '2026-12-01T00:00:00Z', script: 'slurm/job.sh' },
        { jobId: GONE, submittedAt: '2026-12-01T00:10:00Z', script: 'slurm/job.sh' },
      ],
    }),
  );
  if (exitCode !== undefined)
    fs.writeFileSync(path.join(run, 'slurm', `exit-${GONE}.json`), JSON.stringify({ jobId: GONE, exitCode, endedAt: '2026-12-01T00:11:00Z', requeued: false }));
  fs.writeFileSync(path.join(run, 'slurm', `job-${GONE}.log`), 'slurm job ... on node1\nrobust-meta train: dataset path /x does not exist; check the path\n');
  return { runs, run };
}

test('a job the scheduler forgot shows the exit its batch script recorded, and the error it printed', () => {
  const { runs, run } = runWithRecord(2);
  const [v] = listJobs([runs]);
  assert.equal(v.jobId, GONE);
  assert.equal(v.earlier, 1);
  assert.equal(v.source, 'exit record');
  assert.deepEqual([v.state, v.reason, v.exitCode, v.finished], ['FAILED', 'NonZeroExitCode', '2:0', true]);
  assert.equal(v.message, 'robust-meta train: dataset path /x does not exist; check the path');
  assert.equal(v.folder, run);
});

test('a job with neither a scheduler state nor an exit record is UNKNOWN, with why', () => {
  const { runs } = runWithRecord(undefined);
  const [v] = listJobs([runs]);
  assert.equal(v.state, 'UNKNOWN');
  assert.match(v.reason ?? '', /no longer knows this job and it recorded no exit/);
});

test('a damaged job record is listed with its error, naming the file', () => {
  const { runs, run } = runWithRecord(0);
  fs.writeFileSync(path.join(run, 'slurm', 'jobs.json'), '{"format": 1, "kind": "train", "submissions": [{"jobId": 7}]}');
  const [v] = listJobs([runs]);
  assert.match(v.error ?? '', /jobs\.json: \/submissions\/0/);
});

test("the extension sees each run's job; Stop and Resume refuse in Restricted Mode", () => {
  const { runs, run } = runWithRecord(0);
  const byRun = slurmJobsByRun(runs);
  const v = byRun.get(run)!;
  assert.equal(slurmDescription(v), `slurm ${GONE} completed`);
  // The tree's run node: the job after the run's own state; Stop (scancel) offered while it is active.
  const entry = (job: JobView): RunEntry => ({
    id: 'r',
    dir: run,
    method: 'mavrl',
    state: 'running',
    interrupted: false,
    step: 1,
    totalSteps: 4,
    checkpoints: [],
    results: [],
    slurm: slurmRunView(job),
  });
  assert.equal(runContextValue(entry(v)), 'run.running');
  assert.equal(runDescription(entry(v)), `mavrl · running · step 1/4 · slurm ${GONE} completed`);
  assert.equal(slurmDescription({ ...v, state: 'PENDING', reason: 'Priority', finished: false }), `slurm ${GONE} pending (Priority)`);
  assert.equal(slurmDescription({ ...v, state: 'FAILED', exitCode: '2:0' }), `slurm ${GONE} failed: exit 2:0`);
  assert.equal(runContextValue(entry({ ...v, state: 'RUNNING', finished: false })), 'run.running.slurmActive');
  assert.deepEqual(
    slurmRunView({ ...v, state: 'FAILED', reason: 'NonZeroExitCode', message: 'dataset path x does not exist' }).detail,
    'dataset path x does not exist',
  );
  assert.throws(() => stopSlurmJob(v, false), /Restricted Mode/);
  assert.throws(() => resumeSlurmJob(run, false), /Restricted Mode/);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(run, 'slurm', 'jobs.json'), 'utf8')).submissions.length, 2, 'nothing submitted');
});
