// Messages between the host and its panels: validation of what a webview sends, dispatch to
// handlers, persisted panel state, the dashboard's state changes, the page's CSP, and the path
// checks that keep files named by configs and results inside their folders.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { applyDashboardMessage, emptyDashboard } from '../src/extension/dashboardModel';
import { resultRoot, resultSamples, runView, sampleSetView } from '../src/extension/panelData';
import { isInside, isPlainFileName, resolveInside } from '../src/extension/paths';
import { asSampleSet, readRunEntry } from '../src/extension/runFolder';
import { buildTrainConfig, checkedDataPath, freeConfigPath, isConfigFileName, newConfigText, readConfigFile } from '../src/extension/trainConfig';
import { contentSecurityPolicy, escapeHtml, makeNonce, panelHtml } from '../src/extension/webviewHtml';
import { dispatchViewMessage, parsePanelState, parseViewMessage, type HostMessage, type RunView } from '../src/extension/webviewProtocol';
import { resolveConfig } from '../src/core/config';
import { isSignallablePid, processAlive, runOwner } from '../src/runner/runLock';
import { evalResult, makeRun, metric, tmpDir } from './extension-helpers/runs';

test('parseViewMessage accepts the declared messages only', () => {
  assert.deepEqual(parseViewMessage({ type: 'view/ready', kind: 'dashboard' }), { type: 'view/ready', kind: 'dashboard' });
  assert.deepEqual(parseViewMessage({ type: 'run/stop', extra: 1 }), { type: 'run/stop' });
  assert.deepEqual(parseViewMessage({ type: 'result/open', name: 'glyphs-20261126' }), { type: 'result/open', name: 'glyphs-20261126' });
  for (const bad of [
    null,
    'run/stop',
    [],
    {},
    { type: 'nope' },
    { type: 'view/ready', kind: 'other' },
    { type: 'result/open' },
    { type: 'result/open', name: '../../etc/passwd' },
    { type: 'result/open', name: '/abs' },
    { type: 'result/open', name: 'a/b' },
    { type: 'result/open', name: 7 },
  ]) {
    assert.equal(parseViewMessage(bad), undefined, JSON.stringify(bad));
  }
});

test('dispatchViewMessage calls the typed handler, ignores unhandled and rejects invalid messages', async () => {
  const seen: string[] = [];
  const handlers = { 'result/open': (m: { name: string }) => void seen.push(m.name), 'run/stop': () => void seen.push('stop') };
  assert.equal(await dispatchViewMessage({ type: 'result/open', name: 'r1' }, handlers), 'handled');
  assert.equal(await dispatchViewMessage({ type: 'run/stop' }, handlers), 'handled');
  assert.equal(await dispatchViewMessage({ type: 'run/resume' }, handlers), 'ignored');
  assert.equal(await dispatchViewMessage({ type: 'result/open', name: '..' }, handlers), 'invalid');
  assert.deepEqual(seen, ['r1', 'stop']);
});

test('parsePanelState round-trips each panel kind and rejects others', () => {
  for (const s of [
    { kind: 'dashboard', runDir: '/w/runs/a' },
    { kind: 'result', file: '/w/runs/a/results/x.json' },
    { kind: 'compare', runDirs: ['/a'], resultFiles: [] },
  ]) {
    assert.deepEqual(parsePanelState(JSON.parse(JSON.stringify(s))), s);
  }
  assert.equal(parsePanelState({ kind: 'dashboard' }), undefined);
  assert.equal(parsePanelState({ kind: 'compare', runDirs: [1], resultFiles: [] }), undefined);
  assert.equal(parsePanelState(undefined), undefined);
});

function run(over: Partial<RunView> = {}): RunView {
  return { id: 'r', method: 'mavrl', state: 'running', interrupted: false, step: 3, totalSteps: 10, ownedHere: true, resumable: false, ...over };
}

test('the dashboard state: init, live metrics merged by step, reset, status, samples, errors', () => {
  const st = emptyDashboard();
  const init: HostMessage = { type: 'dashboard/init', run: run(), metrics: [metric(1), metric(2)], samples: null, results: [] };
  assert.deepEqual([...applyDashboardMessage(st, init)].sort(), ['error', 'metrics', 'results', 'run', 'samples']);
  assert.deepEqual([...applyDashboardMessage(st, { type: 'dashboard/metrics', metrics: [metric(2), metric(3)] })], ['metrics']);
  assert.deepEqual(
    st.metrics.map((l) => l.step),
    [1, 2, 3],
  );
  assert.equal(applyDashboardMessage(st, { type: 'dashboard/metrics', metrics: [] }).size, 0);
  applyDashboardMessage(st, { type: 'dashboard/metrics', metrics: [metric(1)], reset: true });
  assert.deepEqual(
    st.metrics.map((l) => l.step),
    [1],
  );
  applyDashboardMessage(st, { type: 'dashboard/run', run: run({ state: 'done', step: 10 }) });
  assert.equal(st.run?.state, 'done');
  applyDashboardMessage(st, { type: 'dashboard/samples', samples: { step: 5, eps: 8 / 255, amplification: 10, images: [] } });
  assert.equal(st.samples?.step, 5);
  applyDashboardMessage(st, { type: 'panel/error', message: 'metrics.jsonl is corrupt' });
  assert.equal(st.error, 'metrics.jsonl is corrupt');
  assert.equal(applyDashboardMessage(st, { type: 'result/init', title: 't', result: { name: 'x', label: 'x', result: evalResult([]), samples: [] } }).size, 0);
});

test('runView: a run this window trains shows the live step; others can be resumed from a checkpoint', () => {
  const dir = tmpDir();
  const entry = readRunEntry(makeRun(dir, { id: 'a', state: 'stopped', step: 20, checkpoints: [20] }));
  const v = runView(entry, false);
  assert.equal(v.resumable, true);
  assert.equal(v.ownedHere, false);
  const live = runView({ ...entry, state: 'running' }, true, { step: 25, totalSteps: 100, etaSeconds: 60, msPerStep: 500, backend: 'wasm' });
  assert.equal(live.step, 25);
  assert.equal(live.resumable, false);
  assert.equal(live.etaSeconds, 60);
  assert.equal(live.backend, 'wasm');
});

test('the panel HTML: strict CSP with a nonce, no remote source, escaped title', () => {
  const nonce = makeNonce();
  assert.match(nonce, /^[A-Za-z0-9]{32}$/);
  // Fresh for every page (from crypto.randomBytes): a thousand nonces are all different.
  assert.equal(new Set(Array.from({ length: 1000 }, () => makeNonce())).size, 1000);
  const html = panelHtml({
    kind: 'dashboard',
    title: '<run>',
    cspSource: 'vscode-webview://x',
    scriptUri: 'vscode-webview://x/main.js',
    styleUri: 'vscode-webview://x/styles.css',
    nonce,
  });
  const csp = contentSecurityPolicy('vscode-webview://x', nonce);
  assert.ok(html.includes(escapeHtml(csp)));
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, new RegExp(`script-src 'nonce-${nonce}'`));
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
  assert.ok(html.includes(`<script nonce="${nonce}"`));
  assert.ok(html.includes('<title>&lt;run&gt;</title>'));
  assert.ok(html.includes('data-view="dashboard"'));
  assert.doesNotMatch(html, /https?:\/\//);
});

test('path checks: inside, outside, .. and plain file names', () => {
  const root = tmpDir();
  assert.ok(isInside(root, root));
  assert.ok(isInside(root, path.join(root, 'a', 'b')));
  assert.ok(!isInside(root, path.join(root, '..', 'x')));
  assert.ok(!isInside(path.join(root, 'a'), path.join(root, 'ab')));
  assert.equal(resolveInside([root], root, 'data/x'), path.join(root, 'data', 'x'));
  assert.equal(resolveInside([root], root, '../../etc'), undefined);
  assert.equal(resolveInside([root], root, ''), undefined);
  assert.ok(isPlainFileName('clean-0.png'));
  for (const bad of ['', '.', '..', 'a/b', 'a\\b', '../x']) assert.ok(!isPlainFileName(bad), bad);
});

test('a symlink that leads out of the root is outside', () => {
  const root = tmpDir();
  const outside = tmpDir();
  fs.symlinkSync(outside, path.join(root, 'link'));
  assert.ok(!isInside(root, path.join(root, 'link', 'file')));
});

test('sample sets: image names must be plain names inside samples/', () => {
  assert.equal(asSampleSet({ images: [{ clean: '../x.png', perturbation: 'p.png', adversarial: 'a.png' }] }), undefined);
  const set = asSampleSet({
    format: 1,
    step: 10,
    eps: 8 / 255,
    amplification: 10,
    images: [{ clean: 'c.png', perturbation: 'p.png', adversarial: 'a.png', trueLabel: 'Coat', cleanPred: 'Coat', adversarialPred: 'Shirt' }],
  });
  assert.ok(set);
  const view = sampleSetView(set, '/runs/r/samples', (f) => `uri:${f}`);
  assert.equal(view.images[0].clean, `uri:${path.join('/runs/r/samples', 'c.png')}`);
  assert.equal(view.images[0].adversarialPred, 'Shirt');
});

test('sample images are checked by real path: a plain name that is a symlink out of samples/ is dropped', () => {
  const samplesDir = tmpDir();
  const outside = tmpDir();
  fs.writeFileSync(path.join(outside, 'secret.png'), 'x');
  for (const n of ['c.png', 'p.png', 'a.png']) fs.writeFileSync(path.join(samplesDir, n), 'x');
  fs.symlinkSync(path.join(outside, 'secret.png'), path.join(samplesDir, 'evil.png'));
  const set = asSampleSet({
    format: 1,
    step: 2,
    images: [
      { clean: 'c.png', perturbation: 'p.png', adversarial: 'a.png' },
      { clean: 'evil.png', perturbation: 'p.png', adversarial: 'a.png' },
    ],
  })!;
  const view = sampleSetView(set, samplesDir, (f) => f);
  assert.deepEqual(
    view.images.map((i) => path.basename(i.clean)),
    ['c.png'],
  );
});

test("the workspace rule for data holds for a run folder's config.json as for a config file", () => {
  const ws = tmpDir();
  const outside = tmpDir();
  fs.mkdirSync(path.join(ws, 'data'));
  assert.equal(checkedDataPath('data', ws, [ws], 'x.json'), path.join(ws, 'data'));
  assert.throws(
    () => checkedDataPath(outside, ws, [ws], 'runs/r/config.json'),
    (e: Error) => e.name === 'UserError' && e.message.includes('runs/r/config.json') && /outside the workspace/.test(e.message),
  );
  // A link inside the workspace that leads out of it is outside too.
  fs.symlinkSync(outside, path.join(ws, 'link'));
  assert.throws(() => checkedDataPath('link', ws, [ws], 'x.json'), /outside the workspace/);
});

test('a crafted status.json pid (-1, 0, a reused pid) is not a running run the tree would stop', () => {
  const runs = tmpDir();
  for (const [id, pid] of [
    ['minus-one', -1],
    ['zero', 0],
    ['reused', process.pid],
  ] as const) {
    const dir = makeRun(runs, { id, state: 'done', checkpoints: [10] });
    // Written by hand, as a run folder someone sent would be: no trainer holds its lock.
    const status = JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'status.json'), JSON.stringify({ ...status, state: 'running', pid }));
    const entry = readRunEntry(dir);
    assert.equal(entry.state, 'stopped', id);
    assert.equal(entry.interrupted, true, id);
    assert.equal(runOwner(dir), undefined, id);
  }
  assert.equal(processAlive(-1), false);
  assert.equal(processAlive(0), false);
  assert.equal(processAlive(1.5), false);
  assert.equal(isSignallablePid(-1), false);
  // A lock naming a live pid with another start time is a reused pid, not the run's process.
  const dir = makeRun(runs, { id: 'reused-lock', state: 'running', pid: process.pid, checkpoints: [10] });
  const lockFile = path.join(dir, 'train.lock');
  const lock = JSON.parse(fs.readFileSync(lockFile, 'utf8'));
  assert.equal(runOwner(dir)?.pid, process.pid, 'the test process holds this lock');
  if (lock.startTime !== null) {
    fs.writeFileSync(lockFile, JSON.stringify({ ...lock, startTime: String(Number(lock.startTime) + 1) }));
    assert.equal(runOwner(dir), undefined);
    assert.equal(readRunEntry(dir).state, 'stopped');
  }
});

test('result samples resolve relative to the result file and stay inside the run folder', () => {
  const runDir = path.join(tmpDir(), 'run');
  const file = path.join(runDir, 'results', 'glyphs.json');
  const ok = {
    clean: 'glyphs-samples/c0.png',
    perturbation: 'glyphs-samples/p0.png',
    adversarial: 'glyphs-samples/a0.png',
    trueLabel: '1',
    cleanPred: '1',
    adversarialPred: '2',
  };
  const escape = { ...ok, clean: '../../../etc/passwd' };
  const absolute = { ...ok, perturbation: '/etc/passwd' };
  const r = evalResult([{ model: 'mavrl', clean: 0.5, robust: 0.3, samples: [ok, escape, absolute] }]);
  assert.equal(resultRoot(file), runDir);
  const s = resultSamples(r, file, resultRoot(file), (f) => f);
  assert.equal(s[0].length, 1);
  assert.equal(s[0][0].clean, path.join(runDir, 'results', 'glyphs-samples', 'c0.png'));
  assert.equal(resultRoot('/some/where/x.json'), '/some/where');
});

test('buildTrainConfig: file over settings, data resolved inside the workspace, empty data stays bundled', () => {
  const ws = tmpDir();
  fs.mkdirSync(path.join(ws, 'data', 'mine'), { recursive: true });
  const file = path.join(ws, 'exp.robust-meta.json');
  const cfg = buildTrainConfig({ file: { path: file, values: { shots: 5, data: 'data/mine' } }, method: 'aq', backend: 'cpu', allowedRoots: [ws] });
  assert.equal(cfg.method, 'aq');
  assert.equal(cfg.backend, 'cpu');
  assert.equal(cfg.shots, 5);
  assert.equal(cfg.data, path.join(ws, 'data', 'mine'));
  const fileWins = buildTrainConfig({ file: { path: file, values: { method: 'maml' } }, method: 'aq', backend: 'auto', allowedRoots: [ws] });
  assert.equal(fileWins.method, 'maml');
  assert.equal(fileWins.data, '');
  const defaults = buildTrainConfig({ method: 'mavrl', backend: 'auto', allowedRoots: [ws] });
  assert.deepEqual(defaults, resolveConfig({}));
});

test('buildTrainConfig refuses data outside the workspace, missing data and bad values, naming the file', () => {
  const ws = tmpDir();
  const file = path.join(ws, 'exp.robust-meta.json');
  const build = (values: Record<string, unknown>) => () =>
    buildTrainConfig({ file: { path: file, values }, method: 'mavrl', backend: 'auto', allowedRoots: [ws] });
  assert.throws(build({ data: '../elsewhere' }), /outside the workspace/);
  assert.throws(build({ data: '/etc' }), /outside the workspace/);
  assert.throws(build({ data: 'missing' }), /does not exist/);
  assert.throws(build({ shots: 0 }), (e: Error) => e.message.includes(file) && /shots/.test(e.message));
  assert.throws(build({ nonsense: 1 }), /unknown config key 'nonsense'/);
});

test('config files: names, reading, new file text and free names', () => {
  assert.ok(isConfigFileName('/w/a.robust-meta.json'));
  assert.ok(isConfigFileName('robust-meta.config.json'));
  assert.ok(!isConfigFileName('package.json'));
  const ws = tmpDir();
  const text = newConfigText('rmaml');
  const values = JSON.parse(text);
  assert.equal(values.method, 'rmaml');
  assert.deepEqual(resolveConfig(values).eps, 8 / 255);
  const p1 = freeConfigPath(ws, 'exp one');
  assert.equal(path.basename(p1), 'exp-one.robust-meta.json');
  fs.writeFileSync(p1, text);
  assert.equal(path.basename(freeConfigPath(ws, 'exp one')), 'exp-one-2.robust-meta.json');
  assert.deepEqual(readConfigFile(p1), values);
  // Saved with a UTF-8 byte-order mark (as some Windows editors do): read the same.
  fs.writeFileSync(p1, '\uFEFF' + text);
  assert.deepEqual(readConfigFile(p1), values);
  fs.writeFileSync(p1, '{ broken');
  assert.throws(
    () => readConfigFile(p1),
    (e: Error) => e.message.includes(p1) && /not valid JSON/.test(e.message),
  );
  fs.writeFileSync(p1, '[1]');
  assert.throws(() => readConfigFile(p1), /JSON object/);
});
