/**
 * Scenario tests of the robust-meta extension in a real VS Code (code-server + headless Chromium),
 * one session for all four, in order (each asserts on what is on screen and leaves screenshots
 * test-output/e2e/screenshots/scenarios-*.png; a failing step leaves FAILED-scenarios-<step>.png):
 *
 *  1. Start Training from the palette with a tiny config of the workspace: the run shows in the
 *     Experiments tree as running, then as done.
 *  2. While it runs, its dashboard's agreement-loss chart gains points, and sample perturbations
 *     show once a checkpoint has written them.
 *  3. Evaluate Few-Shot on Folder from the explorer's context menu on the glyphs folder (an unseen
 *     domain: the run trains on the bundled Fashion-MNIST subset) opens a result panel whose table
 *     has clean and robust accuracy.
 *  4. A second, longer run is stopped from the tree (context menu), shows as stopped, is resumed
 *     (context menu) and trains further; then it is stopped again with the inline action.
 *
 * Runs only under `npm run test:e2e` (ROBUST_META_E2E=1). Training is tiny (16x16 grey images,
 * width 4, 3-way 1-shot, one task per step, one attack step) because the machine may be shared.
 */
import { after, test, type TestContext } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator, Locator } from 'playwright-core';
import { OUTPUT_DIR, e2eSkipReason, killAll, repoRoot, repoVsix, withVSCode, type VSCode } from './harness';

after(killAll);

const SESSION = 'scenarios';
const WORKSPACE = path.join(OUTPUT_DIR, `${SESSION}-workspace`);

/** Scenarios 1-3: long enough for the dashboard to watch it grow on a fast machine (steps of 15-50
 * ms on wasm, after a few seconds of worker start), short enough to finish in a minute or two on 2
 * busy cores (up to 200 ms a step). */
const TINY_CONFIG = {
  imageSize: 16,
  channels: 1,
  width: 4,
  ways: 3,
  shots: 1,
  queries: 2,
  metaBatch: 1,
  attackSteps: 1,
  steps: 500,
  checkpointEvery: 25,
  innerStepsTest: 2,
};
/** Scenario 4: the same model, with steps enough that it is still running whenever it is stopped
 * (it is stopped twice, after a few steps each time; a stop writes a checkpoint of its own). */
const LONG_CONFIG = { ...TINY_CONFIG, steps: 1_000_000, checkpointEvery: 500 };

const RUN_ID = /^\d{8}-\d{6}-mavrl(-\d+)?$/;
const MINUTE = 60_000;

// --------------------------------------------------------------------------------- helpers

function makeWorkspace(): void {
  fs.rmSync(WORKSPACE, { recursive: true, force: true });
  fs.mkdirSync(WORKSPACE, { recursive: true });
  // the bundled glyphs domain as a workspace folder (evaluated on in scenario 3)
  fs.cpSync(path.join(repoRoot(), 'data', 'glyphs'), path.join(WORKSPACE, 'glyphs'), { recursive: true });
  fs.writeFileSync(path.join(WORKSPACE, 'tiny.robust-meta.json'), JSON.stringify(TINY_CONFIG, null, 2) + '\n');
  fs.writeFileSync(path.join(WORKSPACE, 'long.robust-meta.json'), JSON.stringify(LONG_CONFIG, null, 2) + '\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `read` until `ok` holds; throws with the last value read after `timeout` ms. */
async function poll<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeout: number, every = 300): Promise<T> {
  const deadline = Date.now() + timeout;
  let last: T | undefined;
  let lastErr: unknown;
  for (;;) {
    let got = false;
    try {
      last = await read();
      lastErr = undefined;
      got = true;
    } catch (e) {
      lastErr = e; // not there yet (a locator timed out): try again
    }
    if (got && ok(last as T)) return last as T; // an exception from `ok` ends the wait
    if (Date.now() > deadline) {
      const seen = lastErr ? `error ${(lastErr as Error).message}` : JSON.stringify(last);
      throw new Error(`timed out after ${Math.round(timeout / 1000)} s waiting for ${what}; last seen: ${seen}`);
    }
    await sleep(every);
  }
}

/** The row of a run in the Experiments tree (the Robust Meta container must be shown). */
function runRow(vs: VSCode, id: string): Locator {
  return vs.sideBar.treeItem('Experiments', id).first();
}

interface RunView {
  description: string;
  state: string;
  step: number;
  total: number;
}

/** What the tree says of a run: its description "mavrl · running · step 12/120". */
async function runView(vs: VSCode, id: string): Promise<RunView> {
  const row = runRow(vs, id);
  const description = (await row.locator('.label-description').first().innerText({ timeout: 2_000 })).trim();
  const m = /·\s*(.+?)\s*·\s*step (\d+)(?:\/(\d+))?/.exec(description);
  if (!m) return { description, state: '?', step: -1, total: -1 };
  return { description, state: m[1], step: Number(m[2]), total: m[3] ? Number(m[3]) : 0 };
}

async function showTree(vs: VSCode): Promise<void> {
  await vs.sideBar.openContainer('Robust Meta');
  await vs.sideBar.expandView('Experiments');
}

/** Waits until the tree shows the run in a state (and step) that `ok` accepts. */
async function waitForRun(vs: VSCode, id: string, what: string, ok: (v: RunView) => boolean, timeout: number): Promise<RunView> {
  await showTree(vs);
  return poll(`run ${id} to be ${what} in the Experiments tree`, () => runView(vs, id), ok, timeout, 250);
}

/** The run ids (labels) the Experiments tree shows. */
async function runIds(vs: VSCode): Promise<string[]> {
  return (await vs.sideBar.treeLabels('Experiments')).filter((l) => RUN_ID.test(l));
}

/** Starts training from the palette with a config file of the workspace; returns the new run's id. */
async function startTraining(vs: VSCode, configLabel: string): Promise<string> {
  await showTree(vs);
  const before = new Set(await runIds(vs));
  await vs.quickInput.runCommand('Robust Meta: Start Training', { timeout: MINUTE });
  await vs.quickInput.pick(configLabel, { title: 'Start Training: config' });
  const ids = await poll(
    'a new run in the Experiments tree',
    async () => (await runIds(vs)).filter((id) => !before.has(id)),
    (v) => v.length > 0,
    MINUTE,
  );
  return ids[0];
}

/** The visible webview that shows `selector` (the dashboard and a result panel may both be open). */
async function webviewWith(vs: VSCode, selector: string, timeout: number): Promise<FrameLocator> {
  return poll(
    `a webview showing ${selector}`,
    async () => {
      const n = await vs.page.locator('iframe.webview.ready').filter({ visible: true }).count();
      for (let i = 0; i < n; i++) {
        const frame = vs.editors.webview(i);
        if ((await frame.locator(selector).count()) > 0 && (await frame.locator(selector).first().isVisible())) return frame;
      }
      return undefined;
    },
    (f) => f !== undefined,
    timeout,
    500,
  ) as Promise<FrameLocator>;
}

/** Drags the sash right of the side bar so that it is `width` px wide (best effort: only the
 * screenshots gain, the tree's descriptions are read from the DOM either way). */
async function widenSideBar(vs: VSCode, width: number): Promise<void> {
  try {
    await showTree(vs);
    const box = await vs.page.locator('.part.sidebar').boundingBox();
    if (!box || box.width >= width) return;
    const x = box.x + box.width;
    const y = box.y + box.height / 2;
    await vs.page.mouse.move(x - 1, y);
    await vs.page.mouse.down();
    await vs.page.mouse.move(x + (width - box.width) / 2, y, { steps: 4 });
    await vs.page.mouse.move(box.x + width, y, { steps: 4 });
    await vs.page.mouse.up();
  } catch (e) {
    vs.note(`could not widen the side bar: ${(e as Error).message}`);
  }
}

/** The dashboard's sample grid, read at once: how many samples, whether the first one's three
 * images (clean, perturbation, adversarial) have loaded, its labels and the grid's title. */
async function samplesGrid(web: FrameLocator): Promise<{ count: number; dataCount: string; loaded: boolean; labels: string; title: string }> {
  return web.locator('#samples-section').evaluate(
    (section) => {
      type El = {
        querySelector(s: string): El | null;
        querySelectorAll(s: string): { length: number };
        textContent: string | null;
        getAttribute(n: string): string | null;
        naturalWidth?: number;
      };
      const sec = section as unknown as El;
      const grid = sec.querySelector('#samples');
      const first = grid?.querySelector('.sample');
      const imgs = ['img.sample-clean', 'img.sample-perturbation', 'img.sample-adversarial'].map((c) => first?.querySelector(c));
      return {
        count: grid ? grid.querySelectorAll('.sample').length : 0,
        dataCount: grid?.getAttribute('data-count') ?? '',
        loaded: imgs.every((i) => (i?.naturalWidth ?? 0) > 0),
        labels: ['.label-true', '.label-clean', '.label-adversarial'].map((c) => (first?.querySelector(c)?.textContent ?? '').trim()).join(' | '),
        title: (sec.querySelector('#samples-title')?.textContent ?? '').trim(),
      };
    },
    undefined,
    { timeout: 2_000 },
  );
}

async function dashboardState(web: FrameLocator): Promise<{ state: string; step: number; points: number }> {
  const [state, step, points] = await Promise.all([
    web.locator('#run-state').getAttribute('data-state', { timeout: 2_000 }),
    web.locator('#run-step').getAttribute('data-step', { timeout: 2_000 }),
    web.locator('#chart-agreement').getAttribute('data-points', { timeout: 2_000 }),
  ]);
  return { state: state ?? '', step: Number(step ?? -1), points: Number(points ?? 0) };
}

// --------------------------------------------------------------------------------- the scenarios

const skip = e2eSkipReason() || (!repoVsix() && 'no robust-meta.vsix: run `npm run package` (npm run test:e2e does)');

test('E2E scenarios: train, watch the dashboard, evaluate a folder, stop and resume', { skip, timeout: 13 * MINUTE }, async (t: TestContext) => {
  makeWorkspace();
  await withVSCode(
    {
      name: SESSION,
      workspace: WORKSPACE,
      vsix: [repoVsix()!],
      settings: { 'robustMeta.evalEpisodes': 2 },
      actionTimeoutMs: 30_000,
    },
    async (vs) => {
      await widenSideBar(vs, 520);
      const t0 = Date.now();
      const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
      let run1: string | undefined;
      let run1Done = false;

      await t.test('1a. Start Training from the palette with tiny.robust-meta.json: the run shows as running', { timeout: 4 * MINUTE }, async () => {
        await vs.step('1-start-training', async () => {
          run1 = await startTraining(vs, 'tiny.robust-meta.json');
          vs.note(`scenario 1: run ${run1} started (${elapsed()})`);
          // its dashboard opens on its own
          await vs.editors.waitForTab(`Run ${run1}`, MINUTE);
          const v = await waitForRun(vs, run1, 'running', (r) => r.state === 'running', 2 * MINUTE);
          assert.match(v.description, new RegExp(`^mavrl · running · step \\d+/${TINY_CONFIG.steps}$`));
          await vs.screenshot('1-training-running');
        });
      });

      await t.test(
        '2. the dashboard: the agreement-loss chart gains points while the run trains, then sample perturbations show',
        { skip: !run1 && 'no run started', timeout: 4 * MINUTE },
        async () => {
          await vs.step('2-dashboard-live', async () => {
            const web = await webviewWith(vs, '#app[aria-busy="false"] #chart-agreement', 2 * MINUTE);
            assert.equal((await web.locator('#run-id').innerText()).trim(), run1);
            // Seen while the dashboard says "running": the chart's point count, rising.
            const seen: number[] = [];
            let shotTaken = false;
            await poll(
              'the agreement chart to gain points while the run is running',
              async () => {
                const d = await dashboardState(web);
                if (d.state === 'running' && d.points > 0 && d.points !== seen[seen.length - 1]) seen.push(d.points);
                if (d.state === 'running' && seen.length >= 2 && !shotTaken) {
                  shotTaken = true;
                  await vs.screenshot('2-dashboard-chart-growing');
                }
                return { ...d, seen: [...seen] };
              },
              (d) => {
                if (d.state !== 'running' && d.state !== '' && seen.length < 3) {
                  throw new Error(`the run was ${d.state} before the chart had grown while running (point counts seen: ${JSON.stringify(seen)})`);
                }
                return seen.length >= 3;
              },
              3 * MINUTE,
              200,
            );
            for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1], `point counts should grow: ${JSON.stringify(seen)}`);
            vs.note(`scenario 2: agreement chart point counts while running: ${JSON.stringify(seen)} (${elapsed()})`);

            // Samples are written at checkpoints (every 25 steps here). The grid is redrawn whole at
            // each checkpoint, so it is read in one go, again until its images have loaded.
            const grid = await poll(
              'sample perturbations with their three images loaded',
              () => samplesGrid(web),
              (g) => g.count > 0 && g.loaded,
              3 * MINUTE,
            );
            assert.equal(grid.dataCount, String(grid.count));
            assert.match(grid.labels, /^true: .+ \| clean: .+ \| adv: .+$/);
            assert.match(grid.title, /^Sample perturbations \(step \d+, eps 8\/255/);
            vs.note(`scenario 2: ${grid.count} samples, ${grid.title} (${elapsed()})`);
            await vs.screenshot('2-dashboard-samples');
          });
        },
      );

      await t.test('1b. the run then shows as done', { skip: !run1 && 'no run started', timeout: 5 * MINUTE }, async () => {
        await vs.step('1-training-done', async () => {
          const v = await waitForRun(vs, run1!, 'done', (r) => r.state === 'done', 4 * MINUTE);
          assert.equal(v.description, `mavrl · done · step ${TINY_CONFIG.steps}/${TINY_CONFIG.steps}`);
          run1Done = true;
          vs.note(`scenario 1: run ${run1} done (${elapsed()})`);
          await vs.notifications.waitFor(`run ${run1} finished`, 30_000);
          await vs.screenshot('1-training-done');
          // the run expands to its checkpoints (newest first)
          const row = runRow(vs, run1!);
          await vs.sideBar.expandTreeItem(row);
          await vs.sideBar.waitForTreeItem('Experiments', `checkpoint step ${TINY_CONFIG.steps}`);
          await vs.notifications.clear();
        });
      });

      await t.test(
        '3. Evaluate Few-Shot on Folder from the explorer on glyphs: the result panel shows clean and robust accuracy',
        { skip: !run1Done && 'no finished run', timeout: 5 * MINUTE },
        async () => {
          await vs.step('3-evaluate-folder', async () => {
            await vs.explorer.contextMenu('glyphs', 'Evaluate Few-Shot on Folder');
            // the only run with a checkpoint is taken without asking; 2 episodes (robustMeta.evalEpisodes)
            await vs.editors.waitForTab(new RegExp(`^${run1} / glyphs-\\d{8}-\\d{6}$`), 4 * MINUTE);
            const web = await webviewWith(vs, '#result-table tr.result-row', MINUTE);
            const rows = web.locator('#result-table tr.result-row');
            // the model's own adaptation, and beside it the frozen-encoder prototype head
            assert.equal(await rows.count(), 2);
            assert.equal(await rows.nth(1).getAttribute('data-head'), 'prototype');
            const row = rows.first();
            assert.equal(await row.getAttribute('data-head'), 'finetune');
            assert.equal(await row.getAttribute('data-dataset'), 'glyphs');
            assert.match((await row.getAttribute('data-model')) ?? '', /mavrl/);
            const clean = Number(await row.getAttribute('data-clean'));
            const robust = Number(await row.getAttribute('data-robust'));
            // fractions in the attributes, percentages with a 95% CI on screen
            assert.ok(Number.isFinite(clean) && clean >= 0 && clean <= 1, `data-clean ${clean}`);
            assert.ok(Number.isFinite(robust) && robust >= 0 && robust <= 1, `data-robust ${robust}`);
            assert.match(await row.locator('.cell-clean').innerText(), new RegExp(`^${(clean * 100).toFixed(1)} ± \\d+\\.\\d$`));
            assert.match(await row.locator('.cell-robust').innerText(), new RegExp(`^${(robust * 100).toFixed(1)} ± \\d+\\.\\d$`));
            assert.match(await row.innerText(), /\b2\b/); // the Episodes column: the setting took effect
            vs.note(`scenario 3: clean ${clean}, robust ${robust} (${elapsed()})`);
            await vs.screenshot('3-result-panel');
            // the result also shows in the tree, under the run
            await showTree(vs);
            await vs.sideBar.expandTreeItem(runRow(vs, run1!));
            await vs.sideBar.waitForTreeItem('Experiments', /^glyphs-\d{8}-\d{6}$/, MINUTE);
            await vs.notifications.clear();
          });
        },
      );

      await t.test('4. stop a running training from the tree, see it stopped, resume it, and it trains further', { timeout: 6 * MINUTE }, async () => {
        let run2 = '';
        let stoppedAt = -1;
        await vs.step('4-start-long-run', async () => {
          run2 = await startTraining(vs, 'long.robust-meta.json');
          vs.note(`scenario 4: run ${run2} started (${elapsed()})`);
          await waitForRun(vs, run2, 'running', (r) => r.state === 'running', 3 * MINUTE);
          // The step is read from the dashboard, which the worker's messages update live; the
          // tree's step may lag while steps come quickly.
          const web = await webviewWith(vs, '#run-state[data-state="running"]', MINUTE);
          assert.equal((await web.locator('#run-id').innerText()).trim(), run2);
          await poll(
            'the dashboard to show the run past step 3',
            () => dashboardState(web),
            (d) => d.state === 'running' && d.step >= 3,
            3 * MINUTE,
          );
        });
        await vs.step('4-stop-from-context-menu', async () => {
          await showTree(vs);
          await vs.contextMenu.open(runRow(vs, run2), 'Stop Training');
          const v = await waitForRun(vs, run2, 'stopped', (r) => r.state === 'stopped', 2 * MINUTE);
          assert.match(v.description, new RegExp(`^mavrl · stopped · step \\d+/${LONG_CONFIG.steps}$`));
          stoppedAt = v.step;
          assert.ok(stoppedAt > 0 && stoppedAt < LONG_CONFIG.steps, `stopped at step ${stoppedAt}`);
          await vs.notifications.waitFor(new RegExp(`run ${run2} stopped at step \\d+; its checkpoint is written`), 30_000);
          // the dashboard says so as well, and offers to resume
          const web = await webviewWith(vs, `#run-state[data-state="stopped"]`, 30_000);
          assert.equal((await web.locator('#run-id').innerText()).trim(), run2);
          await web.locator('#btn-resume').waitFor({ state: 'visible', timeout: 10_000 });
          await showTree(vs);
          await vs.screenshot('4-stopped');
          await vs.notifications.clear();
          vs.note(`scenario 4: run ${run2} stopped at step ${stoppedAt} (${elapsed()})`);
        });
        await vs.step('4-resume-from-context-menu', async () => {
          await vs.contextMenu.open(runRow(vs, run2), 'Resume Training');
          await waitForRun(vs, run2, 'running again', (r) => r.state === 'running', 3 * MINUTE);
          const web = await webviewWith(vs, `#run-state[data-state="running"]`, MINUTE);
          assert.equal((await web.locator('#run-id').innerText()).trim(), run2);
          const d = await poll(
            `the dashboard to show the run past step ${stoppedAt}`,
            () => dashboardState(web),
            (x) => x.state === 'running' && x.step > stoppedAt + 2,
            3 * MINUTE,
          );
          vs.note(`scenario 4: run ${run2} resumed, at step ${d.step} (${elapsed()})`);
          await showTree(vs);
          await vs.screenshot('4-resumed');
        });
        await vs.step('4-stop-with-inline-action', async () => {
          await showTree(vs);
          await vs.sideBar.clickTreeItemAction(runRow(vs, run2), 'Stop Training');
          const v = await waitForRun(vs, run2, 'stopped again', (r) => r.state === 'stopped', 2 * MINUTE);
          assert.ok(v.step > stoppedAt, `stopped again at step ${v.step}, after ${stoppedAt}`);
          await vs.screenshot('4-stopped-again');
          vs.note(`scenario 4: run ${run2} stopped again at step ${v.step} (${elapsed()})`);
        });
      });
    },
  );
});
