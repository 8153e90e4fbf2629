/**
 * E2E: experiments and inline results, in one session (code-server + headless Chromium;
 * screenshots test-output/e2e/screenshots/experiment-*.png):
 *
 *  1. The CodeLens over a config file says there is no run yet; clicking it trains one, and the
 *     CodeLens changes to the run's method, state "done" and its figures when it finishes.
 *  2. "Run Experiment" from the palette on a tiny experiment spec opens its panel: the job grid
 *     shows the jobs, progresses, and ends in the results table (clean and robust with intervals,
 *     a verdict per setting).
 *  3. "Export Markdown" in the panel writes the table where the save dialog says.
 *
 * Runs only under `npm run test:e2e` (ROBUST_META_E2E=1).
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OUTPUT_DIR, e2eSkipReason, killAll, repoVsix, withVSCode } from './harness';
import { becomes } from './pages/wait';

after(killAll);

const SESSION = 'experiment';
const WORKSPACE = path.join(OUTPUT_DIR, `${SESSION}-workspace`);
const MINUTE = 60_000;
const TINY = { imageSize: 16, channels: 1, width: 4, ways: 3, shots: 1, queries: 2, metaBatch: 1, attackSteps: 1, steps: 30, checkpointEvery: 30 };
const SPEC = {
  name: 'tiny',
  source: 'bundled:fashion-mnist-small',
  unseen: 'bundled:glyphs',
  methods: ['mavrl', 'aq'],
  seeds: [0],
  train: { ...TINY, steps: 20, checkpointEvery: 20, workers: 1 },
  validation: { method: 'mavrl', key: 'lambda', values: [1], episodes: 4 },
  eval: { shots: [1], episodes: 6, queries: 2, attackSteps: 1, curve255: [0, 8], strong: { steps: 2, restarts: 0, episodes: 4 } },
  unseenSplit: { val: 4, test: 5 },
  parallel: 1,
};

function makeWorkspace(): void {
  fs.rmSync(WORKSPACE, { recursive: true, force: true });
  fs.mkdirSync(WORKSPACE, { recursive: true });
  fs.writeFileSync(path.join(WORKSPACE, 'tiny.robust-meta.json'), JSON.stringify(TINY, null, 2) + '\n');
  fs.writeFileSync(path.join(WORKSPACE, 'tiny.experiment.json'), JSON.stringify(SPEC, null, 2) + '\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(
  'E2E: config CodeLens follows its run; Run Experiment shows the grid, then the table; Export Markdown',
  { skip: e2eSkipReason(), timeout: 20 * MINUTE },
  async () => {
    makeWorkspace();
    await withVSCode({ name: SESSION, workspace: WORKSPACE, vsix: [repoVsix()!] }, async (vs) => {
      const lens = (text: RegExp) => vs.page.locator('.codelens-decoration a').filter({ hasText: text }).first();

      await vs.step('config CodeLens: no run yet, then the run it starts, done with figures', async () => {
        await vs.editors.openFile('tiny.robust-meta.json');
        await lens(/no run yet/).waitFor({ state: 'visible', timeout: MINUTE });
        await vs.screenshot('config-lens-no-run');
        await lens(/no run yet/).click();
        await lens(/^mavrl · running/)
          .waitFor({ state: 'visible', timeout: 2 * MINUTE })
          .catch(() => undefined); // may be quick
        // The dashboard that the run opens can come to the front late (a loaded machine) and cover
        // the config: bring the config back until its lens shows the finished run.
        const done = lens(/^mavrl · done · train clean \d+\.\d \/ robust \d+\.\d · open dashboard$/);
        for (const until = Date.now() + 4 * MINUTE; ;) {
          await vs.editors.openFile('tiny.robust-meta.json');
          if (await becomes(done, 'visible', 15_000)) break;
          assert.ok(Date.now() < until, 'the config CodeLens never showed the finished run');
        }
        await vs.screenshot('config-lens-done');
      });

      await vs.step('Run Experiment from the palette: the grid', async () => {
        await vs.editors.openFile('tiny.experiment.json');
        await vs.quickInput.runCommand('Robust Meta: Run Experiment');
        await vs.editors.waitForTab('Experiment tiny', MINUTE);
        const web = await vs.editors.waitForWebview('#job-grid', { timeout: MINUTE });
        // validation run mavrl-seed0-lambda1 (or the main run, when 1 is the default) and aq-seed0
        for (let i = 0; i < 120 && (await web.locator('tr.job-row').count()) < 2; i++) await sleep(500);
        assert.ok((await web.locator('tr.job-row').count()) >= 2);
        await web
          .locator('.cell-training[data-state="running"], .cell-training[data-state="done"]')
          .first()
          .waitFor({ timeout: 3 * MINUTE });
        await vs.screenshot('experiment-grid-running');
      });

      await vs.step('the experiment finishes: the results table', async () => {
        const web = vs.editors.webview();
        await web.locator('#experiment-state[data-state="done"]').waitFor({ timeout: 12 * MINUTE });
        const rows = web.locator('tr.experiment-row');
        assert.ok((await rows.count()) >= 2, 'a row per method and setting');
        assert.ok((await web.locator('tr.experiment-row[data-method="mavrl"]').count()) >= 1);
        assert.ok((await web.locator('tr.experiment-row[data-method="aq"]').count()) >= 1);
        assert.match(await web.locator('.setting-summary .verdict').first().innerText(), /mavrl|verdict|difference/);
        assert.equal(await web.locator('#experiment-progress').getAttribute('data-done'), await web.locator('#experiment-progress').getAttribute('data-total'));
        await vs.screenshot('experiment-results');
      });

      await vs.step('Export Markdown', async () => {
        const web = vs.editors.webview();
        await web.locator('#btn-export-markdown').click();
        await vs.quickInput.chooseInFileDialog('table.md');
        const file = path.join(WORKSPACE, 'table.md');
        // writeFileSync creates the file, then writes it: wait for its content, not for its name.
        const written = () => fs.existsSync(file) && fs.statSync(file).size > 0;
        for (let i = 0; i < 40 && !written(); i++) await sleep(250);
        const text = fs.readFileSync(file, 'utf8');
        assert.match(text, /^\| Setting \| Method \|/);
        assert.match(text, /\| unseen-1shot \| mavrl \|/);
        await vs.screenshot('experiment-exported');
      });
    });
  },
);
