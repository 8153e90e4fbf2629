/**
 * E2E: the readable charts and the dataset preview, in one session (code-server + headless
 * Chromium; screenshots test-output/e2e/screenshots/charts-dataset-*.png):
 *
 *  1. A finished tiny run (trained by the CLI before the window opens, into the workspace's runs/)
 *     opens in a dashboard; moving the smoothing slider changes the plotted (smoothed) series, and
 *     the x axis switches to wall time.
 *  2. "Preview Dataset" from the explorer's context menu on the glyphs folder shows its format,
 *     per-split table, the tasks each split can make and sample images per class.
 *
 * Runs only under `npm run test:e2e` (ROBUST_META_E2E=1).
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OUTPUT_DIR, e2eSkipReason, killAll, repoRoot, repoVsix, withVSCode } from './harness';

after(killAll);

const SESSION = 'charts-dataset';
const WORKSPACE = path.join(OUTPUT_DIR, `${SESSION}-workspace`);
const TINY = [
  '--image-size',
  '16',
  '--channels',
  '1',
  '--width',
  '4',
  '--ways',
  '3',
  '--shots',
  '1',
  '--queries',
  '2',
  '--meta-batch',
  '1',
  '--attack-steps',
  '1',
  '--steps',
  '60',
  '--checkpoint-every',
  '60',
];

function makeWorkspace(): void {
  fs.rmSync(WORKSPACE, { recursive: true, force: true });
  fs.mkdirSync(WORKSPACE, { recursive: true });
  fs.cpSync(path.join(repoRoot(), 'data', 'glyphs'), path.join(WORKSPACE, 'glyphs'), { recursive: true });
  const r = spawnSync(
    process.execPath,
    [path.join(repoRoot(), 'bin', 'robust-meta.js'), 'train', ...TINY, '--backend', 'wasm', '--runs-dir', path.join(WORKSPACE, 'runs')],
    {
      encoding: 'utf8',
      timeout: 5 * 60_000,
    },
  );
  assert.equal(r.status, 0, `the CLI's tiny training failed:\n${r.stdout}\n${r.stderr}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('E2E: smoothing slider and x axis on the dashboard; Preview Dataset on a folder', { skip: e2eSkipReason(), timeout: 12 * 60_000 }, async () => {
  makeWorkspace();
  await withVSCode({ name: SESSION, workspace: WORKSPACE, vsix: [repoVsix()!] }, async (vs) => {
    await vs.step('dashboard of the finished run', async () => {
      await vs.quickInput.runCommand('Robust Meta: Open Dashboard', { timeout: 60_000 });
      const web = await vs.editors.waitForWebview('#chart-accuracy', { timeout: 60_000 });
      const canvas = web.locator('#chart-accuracy');
      for (let i = 0; i < 60 && (await canvas.getAttribute('data-points')) !== '60'; i++) await sleep(500);
      assert.equal(await canvas.getAttribute('data-points'), '60');
      await vs.screenshot('dashboard-smoothed');
    });

    await vs.step('move the smoothing slider: the plotted series changes', async () => {
      const web = vs.editors.webview();
      const canvas = web.locator('#chart-accuracy');
      const slider = web.locator('#smoothing');
      await slider.fill('0');
      await sleep(300);
      assert.equal(await canvas.getAttribute('data-smoothing'), '0');
      const raw = Number(await canvas.getAttribute('data-last-y'));
      await slider.fill('0.95');
      await sleep(300);
      assert.equal(await canvas.getAttribute('data-smoothing'), '0.95');
      assert.equal((await web.locator('#smoothing-value').innerText()).trim(), '0.95');
      const smoothed = Number(await canvas.getAttribute('data-last-y'));
      assert.ok(Number.isFinite(raw) && Number.isFinite(smoothed), `last y: raw ${raw}, smoothed ${smoothed}`);
      assert.notEqual(smoothed, raw, 'the smoothed series ends where the raw one does');
      await vs.screenshot('dashboard-smoothing-0.95');
      await web.locator('#x-axis').selectOption('time');
      await sleep(300);
      assert.equal(await canvas.getAttribute('data-x-axis'), 'time');
      await web.locator('#log-losses').check();
      await sleep(300);
      assert.equal(await web.locator('#chart-ce').getAttribute('data-y-scale'), 'log');
      assert.equal(await canvas.getAttribute('data-y-scale'), 'linear', 'accuracy is not a loss');
      await vs.screenshot('dashboard-wall-time-log-losses');
    });

    await vs.step('Preview Dataset from the explorer', async () => {
      await vs.explorer.contextMenu('glyphs', 'Preview Dataset');
      await vs.editors.waitForTab('Dataset: glyphs', 60_000);
      const web = await vs.editors.waitForWebview('#split-table', { timeout: 120_000 });
      assert.match(await web.locator('#dataset-format').innerText(), /image folder.*28×28 grey/);
      const train = web.locator('.split-row[data-split="train"]');
      assert.ok(Number(await train.getAttribute('data-classes')) > 0);
      assert.equal(await web.locator('.dataset-class').count(), 24);
      assert.equal(await web.locator('.dataset-class').first().locator('img.dataset-sample').count(), 6);
      assert.ok((await web.locator('.task-row[data-ok="true"]').count()) > 0);
      await vs.screenshot('dataset-preview');
    });
  });
});
