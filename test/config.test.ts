import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CONFIG_OPTIONS, configFromArgs, parseArgs } from '../src/cli/args';
import { buildTrainConfig, readConfigFile } from '../src/extension/trainConfig';
import { CONFIG_FIELDS, defaultConfig, resolveConfig } from '../src/core/config';
import { configJsonSchema } from '../src/formats/config';

test('a wrong value names the key, the value and what is allowed', () => {
  assert.throws(() => resolveConfig({ method: 'mamal' }, 'my.json'), /my\.json: 'method' must be one of mavrl, maml, aq, adml, rmaml, rocl; got "mamal"/);
  assert.throws(() => resolveConfig({ ways: 1 }), /'ways' must be at least 2, got 1/);
  assert.throws(() => resolveConfig({ shots: 1.5 }), /'shots' must be a whole number, got 1.5/);
  assert.throws(() => resolveConfig({ augment: 'yes' }), /'augment' must be true or false/);
  assert.throws(() => resolveConfig({ widht: 8 }), /unknown config key 'widht'/);
});

test('keys retired by earlier versions are dropped, so old runs still load', () => {
  const cfg = resolveConfig({ valEvery: 10, width: 8 });
  assert.equal(cfg.width, 8);
  assert.equal('valEvery' in cfg, false);
});

test('the JSON schema declares every key with its default', () => {
  const props = configJsonSchema().properties as Record<string, { default: unknown }>;
  for (const [k, v] of Object.entries(defaultConfig())) assert.deepEqual(props[k].default, v, k);
  // Besides the keys: $schema, and the Slurm executor's section (not a config key).
  assert.equal(Object.keys(props).length, Object.keys(CONFIG_FIELDS).length + 2);
  assert.ok(props.$schema && props.slurm);
});

test('each method gets its own inner loop and head by default, under what a config sets', () => {
  const mavrl = resolveConfig({});
  assert.deepEqual(
    [mavrl.method, mavrl.innerUpdate, mavrl.headInit, mavrl.innerLr, mavrl.outerLoss, mavrl.mavrlAttack, mavrl.lambda],
    ['mavrl', 'body', 'random', 0.4, 'trades', 'per-view', 4],
  );
  const aq = resolveConfig({ method: 'aq' });
  assert.deepEqual([aq.innerUpdate, aq.headInit, aq.innerSteps], ['all', 'zero', 5]);
  assert.equal(resolveConfig({ method: 'rmaml' }).beta, 3);
  assert.equal(resolveConfig({ method: 'aq', innerSteps: 2, innerLr: 0.05 }).innerLr, 0.05);
  assert.equal(defaultConfig('maml').innerUpdate, 'all');
  // A chosen inner loop brings the head initialisation that can adapt with it.
  assert.equal(resolveConfig({ method: 'mavrl', innerUpdate: 'all' }).headInit, 'zero');
  assert.equal(resolveConfig({ method: 'aq', innerUpdate: 'body' }).headInit, 'random');
  assert.throws(() => resolveConfig({ innerUpdate: 'body', headInit: 'zero' }), /cannot adapt: the head stays at zero/);
});

test("a config written before outerLoss existed resumes as it ran: mavrl's trades flag reads as outerLoss 'adversarial'", () => {
  const old = resolveConfig({ method: 'mavrl', trades: false, innerLr: 0.01, innerUpdate: 'all' });
  assert.equal(old.outerLoss, 'adversarial');
  assert.equal('trades' in old, false);
});

test("a config file's relative data is relative to the file's folder, in the CLI as in the extension", () => {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-cfgdata-'));
  const sub = path.join(ws, 'configs');
  fs.mkdirSync(path.join(sub, 'images'), { recursive: true });
  const file = path.join(sub, 'a.robust-meta.json');
  fs.writeFileSync(file, JSON.stringify({ data: 'images', width: 8 }));
  const expected = path.join(sub, 'images');
  const cwd = process.cwd();
  try {
    // The current directory is not the config file's folder.
    process.chdir(ws);
    const cli = configFromArgs(
      parseArgs(['--config', path.join('configs', 'a.robust-meta.json')], [{ flag: 'config', type: 'string', description: '' }, ...CONFIG_OPTIONS], 'train'),
    );
    assert.equal(cli.config.data, expected);
    const ext = buildTrainConfig({ file: { path: file, values: readConfigFile(file) }, method: 'mavrl', backend: 'cpu', allowedRoots: [ws] });
    assert.equal(ext.data, expected);
    // A --data flag is a path on the command line: relative to the current directory.
    const flag = configFromArgs(
      parseArgs(['--config', file, '--data', 'elsewhere'], [{ flag: 'config', type: 'string', description: '' }, ...CONFIG_OPTIONS], 'train'),
    );
    assert.equal(flag.config.data, 'elsewhere');
  } finally {
    process.chdir(cwd);
    fs.rmSync(ws, { recursive: true, force: true });
  }
});
