// The robust-meta command as a user meets it: exit codes, messages that name the flag, value and
// file, and a tiny training run end to end.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs, CONFIG_OPTIONS, configFromArgs } from '../src/cli/args';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'robust-meta.js');
const TINY = ['--image-size', '16', '--width', '4', '--channels', '1', '--ways', '2', '--queries', '2', '--meta-batch', '1', '--attack-steps', '1'];

function cli(args: string[], cwd = os.tmpdir()) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rm-cli-'));
}

test('help and version exit 0; no command or an unknown one exits 2 with a suggestion', () => {
  assert.equal(cli(['--help']).code, 0);
  assert.match(cli(['train', '--help']).stdout, /--inner-steps-test <n>/);
  assert.match(cli(['--version']).stdout, /^\d+\.\d+\.\d+/);
  assert.equal(cli([]).code, 2);
  const r = cli(['trian']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'trian'; did you mean 'train'\?/);
});

test('a wrong flag value exits 2 naming the key, the value and what is allowed', () => {
  let r = cli(['train', '--width', '0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--width 0: 'width' must be at least 1, got 0; allowed: a whole number from 1 to 1024/);
  r = cli(['train', '--method', 'mamal']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /allowed values for 'method' are mavrl, maml, aq, adml, rmaml, rocl \(did you mean maml\?\)/);
  r = cli(['train', '--ways', 'five']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--ways "five": not a number; allowed: a whole number from 2 to 100/);
  r = cli(['train', '--imagesize', '32']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option --imagesize for 'train'; did you mean --image-size\?/);
  r = cli(['bench', '--steps']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--steps needs a value/);
});

test('bench --eval evaluates the requested episodes over threads; --episodes without --eval is refused', () => {
  let r = cli(['bench', '--eval', '--episodes', '8', '--json', '--backend', 'wasm', ...TINY]);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  assert.equal(res.episodes, 8);
  assert.equal(res.backend, 'wasm');
  assert.equal(res.eval_threads, Math.min(os.availableParallelism(), 2));
  assert.deepEqual([res.setting.imageSize, res.setting.ways, res.setting.attackSteps], [16, 2, 20]);
  assert.ok(res.ms_per_episode > 0 && res.cpu_ms_per_episode > 0);
  r = cli(['bench', '--episodes', '8']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--episodes goes with --eval/);
  r = cli(['bench', '--eval', '--episodes', '0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--episodes must be a whole number >= 1, got 0/);
});

test('a bad config file exits 2 naming the file and the key', () => {
  const dir = tmp();
  const file = path.join(dir, 'run.json');
  fs.writeFileSync(file, JSON.stringify({ method: 'aq', widht: 8 }));
  let r = cli(['train', '--config', file]);
  assert.equal(r.code, 2);
  assert.ok(r.stderr.includes(file));
  assert.match(r.stderr, /unknown config key 'widht'/);
  fs.writeFileSync(file, '{"method": "aq",');
  r = cli(['train', '--config', file]);
  assert.equal(r.code, 2);
  assert.ok(r.stderr.includes(file) && /not valid JSON/.test(r.stderr));
  r = cli(['train', '--config', path.join(dir, 'missing.json')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /missing\.json \(it does not exist\)/);
});

test('flags override the config file, and fractions like 4/255 are read', () => {
  const dir = tmp();
  const file = path.join(dir, 'c.json');
  fs.writeFileSync(file, JSON.stringify({ $schema: '../schemas/config.schema.json', method: 'aq', width: 8, eps: 0.1 }));
  const parsed = parseArgs(
    ['--config', file, '--width', '16', '--eps', '4/255', '--no-augment'],
    [{ flag: 'config', type: 'string', description: '' }, ...CONFIG_OPTIONS],
    'train',
  );
  const { config, explicit } = configFromArgs(parsed);
  assert.equal(config.method, 'aq');
  assert.equal(config.width, 16);
  assert.equal(config.eps, 4 / 255);
  assert.equal(config.augment, false);
  assert.deepEqual(Object.keys(explicit).sort(), ['augment', 'eps', 'method', 'width']);
});

test('data that cannot make the tasks exits 2 and leaves no run folder', () => {
  const runs = tmp();
  const r = cli(['train', ...TINY, '--ways', '7', '--steps', '1', '--runs-dir', runs]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /7-way/);
  assert.deepEqual(
    fs.readdirSync(runs).filter((n) => !n.startsWith('.')),
    [],
  );
});

test('train, list and show a tiny run; resume refuses a changed model; a corrupt run exits 1 naming the file', () => {
  const runs = tmp();
  let r = cli(['train', ...TINY, '--steps', '3', '--checkpoint-every', '2', '--runs-dir', runs, '--json']);
  assert.equal(r.code, 0, r.stderr);
  // Log events may come first (a backend skipped on the way: webgpu without a Vulkan driver).
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((e) => e.type !== 'log');
  assert.equal(events[0].type, 'run/started');
  assert.deepEqual(
    events.filter((e) => e.type === 'run/metric').map((e) => e.metric.step),
    [1, 2, 3],
  );
  assert.deepEqual(
    events.filter((e) => e.type === 'run/checkpoint').map((e) => e.step),
    [2, 3],
  );
  const done = events[events.length - 1];
  assert.equal(done.type, 'job/done');
  assert.equal(done.state, 'done');
  const runDir: string = done.runDir;

  r = cli(['list', '--runs-dir', runs, '--json']);
  assert.equal(r.code, 0);
  const list = JSON.parse(r.stdout);
  assert.equal(list.length, 1);
  assert.equal(list[0].state, 'done');
  assert.equal(list[0].last.step, 3);
  r = cli(['show', path.basename(runDir), '--runs-dir', runs]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /checkpoint step 2, step 3/);

  r = cli(['train', '--resume', runDir, '--width', '8']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /only --steps, --checkpoint-every, --backend, --workers may be given with it, not width/);

  r = cli(['train', '--resume', runDir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /already at step 3 of 3/);

  fs.writeFileSync(path.join(runDir, 'config.json'), '{"format": 1, "id": ');
  r = cli(['show', runDir]);
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(path.join(runDir, 'config.json')) && /not valid JSON/.test(r.stderr), r.stderr);
  r = cli(['list', '--runs-dir', runs]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /unreadable/);
});

test('resuming from a corrupt checkpoint exits 1 naming the checkpoint', () => {
  const runs = tmp();
  let r = cli(['train', ...TINY, '--steps', '2', '--checkpoint-every', '1', '--runs-dir', runs, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const runDir = JSON.parse(r.stdout.trim().split('\n').pop()!).runDir;
  const ckpt = path.join(runDir, 'checkpoints', 'step-00000002.ckpt');
  const bytes = fs.readFileSync(ckpt);
  fs.writeFileSync(ckpt, bytes.subarray(0, bytes.length - 100));
  r = cli(['train', '--resume', runDir, '--steps', '3']);
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(ckpt), r.stderr);
  assert.match(r.stderr, /is truncated/);
});

test('Ctrl-C (SIGINT) stops train after a checkpoint with exit code 130', async () => {
  const runs = tmp();
  const { spawn } = await import('child_process');
  const child = spawn(process.execPath, [BIN, 'train', ...TINY, '--steps', '500', '--checkpoint-every', '100', '--runs-dir', runs, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let sent = false;
  child.stdout.setEncoding('utf8').on('data', (t: string) => {
    out += t;
    if (!sent && /"type":"run\/metric","metric":\{"step":3\b/.test(out)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 130);
  const done = JSON.parse(out.trim().split('\n').pop()!);
  assert.equal(done.type, 'job/done');
  assert.equal(done.state, 'stopped');
  assert.ok(done.step >= 3 && done.step < 500);
  assert.ok(fs.existsSync(path.join(done.runDir, 'checkpoints', `step-${String(done.step).padStart(8, '0')}.ckpt`)));
  const status = JSON.parse(fs.readFileSync(path.join(done.runDir, 'status.json'), 'utf8'));
  assert.equal(status.state, 'stopped');
  assert.equal(status.checkpointStep, done.step);
});
