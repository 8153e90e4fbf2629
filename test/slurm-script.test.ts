// The Slurm batch script, run here by bash without a scheduler (the cluster tests in test/slurm/
// run it under a real one): its #SBATCH lines, arguments passed through intact, the exit record,
// the array task it picks, and the signals: one SIGTERM for the command near the time limit
// (then a requeue) and none added when scancel has signalled every process itself.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { batchScript, BatchTask, sbatchLines } from '../src/runner/slurm/script';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rm-sbatch-'));
}

function write(dir: string, tasks: BatchTask[], options = {}): string {
  const file = path.join(dir, 'job.sh');
  fs.writeFileSync(
    file,
    batchScript({ jobName: 'rm-test', description: 'a test', options, output: path.join(dir, 'job-%j.log'), workDir: dir, tasks, maxRequeues: 2 }),
  );
  return file;
}

/** The environment of a job, without what this test's own shell may have from Slurm. */
function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of Object.keys(e)) if (k.startsWith('SLURM_') && !(k in extra)) delete e[k];
  return e;
}

test('the #SBATCH lines say every option in sbatch spelling', () => {
  assert.deepEqual(
    sbatchLines({
      partition: 'gpu',
      account: 'lab',
      time: '1:00:00',
      cpusPerTask: 4,
      gpusPerTask: 1,
      mem: '8G',
      sbatchExtra: ['--qos=long', '#SBATCH --constraint=a100'],
    }),
    [
      '#SBATCH --partition=gpu',
      '#SBATCH --account=lab',
      '#SBATCH --time=1:00:00',
      '#SBATCH --cpus-per-task=4',
      '#SBATCH --gpus-per-task=1',
      '#SBATCH --mem=8G',
      '#SBATCH --qos=long',
      '#SBATCH --constraint=a100',
    ],
  );
  const script = batchScript({
    jobName: 'j',
    description: 'd',
    options: { signalSeconds: 300 },
    output: 'o',
    workDir: '/',
    tasks: [
      { argv: ['true'], exitDir: '/x' },
      { argv: ['true'], exitDir: '/x' },
    ],
    arrayLimit: 2,
    maxRequeues: 1,
  });
  assert.match(script, /^#SBATCH --signal=B:USR1@300$/m);
  assert.match(script, /^#SBATCH --array=0-1%2$/m);
  assert.match(script, /^#SBATCH --requeue$/m);
  assert.match(script, /^#SBATCH --cpus-per-task=1$/m);
});

test('a task runs with its arguments intact, its output where asked, and records its exit', () => {
  const dir = tmp();
  const odd = ["it's", 'two words', '$HOME', '"q"', 'a;b'];
  const file = write(dir, [
    {
      argv: [process.execPath, '-e', 'console.log(JSON.stringify(process.argv.slice(1))); process.exit(3)', ...odd],
      exitDir: path.join(dir, 'rec'),
      stdout: path.join(dir, 'out.txt'),
      stderr: path.join(dir, 'err.txt'),
      freshStdout: true,
    },
  ]);
  fs.writeFileSync(path.join(dir, 'out.txt'), 'an earlier attempt\n');
  const r = spawnSync('bash', [file], { encoding: 'utf8', env: env({ SLURM_JOB_ID: '41' }) });
  assert.equal(r.status, 3, r.stderr);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8')), odd);
  const rec = JSON.parse(fs.readFileSync(path.join(dir, 'rec', 'exit-41.json'), 'utf8'));
  assert.equal(rec.jobId, '41');
  assert.equal(rec.exitCode, 3);
  assert.equal(rec.requeued, false);
});

test('an array task runs the command of its index and records it as <array>_<index>', () => {
  const dir = tmp();
  const tasks = [0, 1, 2].map((i) => ({ argv: ['sh', '-c', `echo task${i}`], exitDir: dir, stdout: path.join(dir, `out${i}.txt`) }));
  const r = spawnSync('bash', [write(dir, tasks)], { encoding: 'utf8', env: env({ SLURM_JOB_ID: '52', SLURM_ARRAY_JOB_ID: '50', SLURM_ARRAY_TASK_ID: '2' }) });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.readFileSync(path.join(dir, 'out2.txt'), 'utf8'), 'task2\n');
  assert.ok(!fs.existsSync(path.join(dir, 'out0.txt')));
  const rec = JSON.parse(fs.readFileSync(path.join(dir, 'exit-50_2.json'), 'utf8'));
  assert.deepEqual([rec.jobId, rec.arrayTask, rec.exitCode], ['50_2', 2, 0]);
});

/** A command that counts the SIGTERMs it gets for a second after the first, then exits 143. */
const COUNT_TERMS = `let n = 0; console.log('ready'); process.on('SIGTERM', () => { if (n++ === 0) setTimeout(() => { console.log('terms ' + n); process.exit(143); }, 1000); }); setInterval(() => {}, 1000);`;

function startCounting(dir: string, extraEnv: Record<string, string>) {
  const out = path.join(dir, 'out.txt');
  const file = write(dir, [{ argv: [process.execPath, '-e', COUNT_TERMS], exitDir: dir, stdout: out }]);
  // detached: its own process group, so that the test can signal the whole job as slurmd does.
  const child = spawn('bash', [file], { env: env(extraEnv), detached: true, stdio: 'ignore' });
  const ready = new Promise<void>((resolve) => {
    const t = setInterval(() => {
      if (fs.existsSync(out) && fs.readFileSync(out, 'utf8').includes('ready')) {
        clearInterval(t);
        resolve();
      }
    }, 50);
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, ready, exit };
}

test('near the time limit (USR1 to the script) the command gets one SIGTERM and the job asks to be requeued', async () => {
  const dir = tmp();
  // No SLURM_JOB_ID: the script's `scontrol requeue` has no job to act on here.
  const job = startCounting(dir, {});
  await job.ready;
  process.kill(job.child.pid!, 'SIGUSR1');
  assert.equal(await job.exit, 143);
  assert.match(fs.readFileSync(job.out, 'utf8'), /terms 1\n/);
  const rec = JSON.parse(fs.readFileSync(path.join(dir, 'exit-local.json'), 'utf8'));
  assert.deepEqual([rec.exitCode, rec.requeued], [143, true]);
});

test('scancel signals every process: the script adds no second SIGTERM (which would skip the checkpoint)', async () => {
  const dir = tmp();
  const job = startCounting(dir, { SLURM_JOB_ID: '77' });
  await job.ready;
  process.kill(-job.child.pid!, 'SIGTERM');
  assert.equal(await job.exit, 143);
  assert.match(fs.readFileSync(job.out, 'utf8'), /terms 1\n/);
  const rec = JSON.parse(fs.readFileSync(path.join(dir, 'exit-77.json'), 'utf8'));
  assert.deepEqual([rec.exitCode, rec.requeued], [143, false]);
});
