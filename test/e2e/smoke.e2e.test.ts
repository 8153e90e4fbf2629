/**
 * Smoke test of the E2E harness: a real VS Code (code-server) in headless Chromium loads, a VSIX
 * installs, and palette commands, notifications, quick picks, input boxes, tree views, the
 * explorer's context menu and webviews can be driven. Runs only under `npm run test:e2e`.
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OUTPUT_DIR, e2eSkipReason, killAll, repoRoot, repoVsix, withVSCode } from './harness';
import { packSmokeExtension } from './smokeExtension';

after(killAll);

test('E2E smoke: workbench loads, a VSIX installs, its UI can be driven', { skip: e2eSkipReason(), timeout: 300_000 }, async () => {
  const vsix = packSmokeExtension(path.join(OUTPUT_DIR, 'smoke-extension'));
  const workspace = path.join(OUTPUT_DIR, 'smoke-workspace');
  fs.rmSync(workspace, { recursive: true, force: true });
  fs.mkdirSync(path.join(workspace, 'images', 'class-a'), { recursive: true });
  fs.writeFileSync(path.join(workspace, 'README.md'), '# smoke workspace\n');

  await withVSCode({ name: 'smoke', workspace, vsix: [vsix] }, async (vs) => {
    await vs.step('workbench', async () => {
      await vs.screenshot('workbench');
      await vs.explorer.item('images');
    });

    await vs.step('palette command shows a notification', async () => {
      await vs.quickInput.runCommand('E2E Smoke: Hello');
      await vs.notifications.waitFor('Hello from E2E Smoke');
      await vs.screenshot('hello-notification');
      await vs.notifications.clear();
      assert.match(await vs.panel.outputChannelText('E2E Smoke Log'), /hello was run/);
    });

    await vs.step('quick pick and input box', async () => {
      await vs.quickInput.runCommand('E2E Smoke: Ask');
      assert.deepEqual(await waitForLabels(() => vs.quickInput.labels(), 3), ['alpha', 'beta', 'gamma']);
      await vs.quickInput.pick('beta', { title: 'Pick a letter' });
      await vs.quickInput.fill('   ', { title: 'Your name', submit: false });
      await vs.page.waitForTimeout(300);
      assert.match(await vs.quickInput.message(), /A name is required/);
      await vs.quickInput.fill('Ada');
      await vs.notifications.waitFor('Picked beta for Ada');
      await vs.notifications.clear();
    });

    await vs.step('tree view in its own view container', async () => {
      await vs.sideBar.openContainer('E2E Smoke');
      await vs.sideBar.waitForTreeItem('Smoke Items', 'run-002');
      assert.deepEqual(await vs.sideBar.treeLabels('Smoke Items'), ['run-001', 'run-002']);
      await vs.screenshot('tree-view');
      await vs.sideBar.clickViewAction('Smoke Items', 'Refresh Items');
      await vs.notifications.waitFor('Items refreshed');
      await vs.sideBar.clickTreeItemAction(vs.sideBar.treeItem('Smoke Items', 'run-001'), 'Open Item');
      await vs.notifications.waitFor('Open run-001');
      await vs.contextMenu.open(vs.sideBar.treeItem('Smoke Items', 'run-002'), 'Describe Item');
      await vs.notifications.waitFor('Describe run-002');
      await vs.notifications.clear();
    });

    await vs.step('explorer context menu on a folder', async () => {
      await vs.explorer.contextMenu('images', 'Smoke Folder Info');
      await vs.notifications.waitFor('Folder: images');
      await vs.explorer.contextMenu('images/class-a', 'Smoke Folder Info');
      await vs.notifications.waitFor('Folder: class-a');
      await vs.notifications.clear();
    });

    await vs.step('folder chosen in the open dialog', async () => {
      await vs.quickInput.runCommand('E2E Smoke: Choose Folder');
      await vs.quickInput.chooseInFileDialog('images/class-a');
      await vs.notifications.waitFor('Chose class-a');
      await vs.notifications.clear();
    });

    await vs.step('webview panel', async () => {
      await vs.quickInput.runCommand('E2E Smoke: Open Panel');
      await vs.editors.waitForTab('E2E Panel');
      const web = await vs.editors.waitForWebview('#title');
      assert.equal((await web.locator('#title').innerText()).trim(), 'Smoke Panel');
      await web.locator('#ping').click();
      await vs.notifications.waitFor('Webview says ping');
      await vs.screenshot('webview');
    });

    await vs.step('window reload', async () => {
      await vs.reload();
      await vs.quickInput.runCommand('E2E Smoke: Hello');
      await vs.notifications.waitFor('Hello from E2E Smoke');
    });
  });
});

const hasRealExtension = (() => {
  try {
    return Boolean(JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')).contributes);
  } catch {
    return false;
  }
})();

test(
  'E2E smoke: the robust-meta VSIX installs and shows its view container',
  {
    skip: e2eSkipReason() || (!hasRealExtension && 'package.json contributes nothing yet') || (!repoVsix() && 'no robust-meta.vsix (npm run package)'),
    timeout: 300_000,
  },
  async () => {
    const workspace = path.join(OUTPUT_DIR, 'smoke-real-workspace');
    fs.mkdirSync(workspace, { recursive: true });
    await withVSCode({ name: 'smoke-real', workspace, vsix: [repoVsix()!] }, async (vs) => {
      await vs.step('view container', async () => {
        await vs.sideBar.openContainer('Robust Meta');
        await vs.sideBar.expandView('Experiments');
        await vs.screenshot('robust-meta-view');
      });
      await vs.step('palette commands', async () => {
        const listed = await vs.quickInput.paletteCommands('Robust Meta:');
        const missing = ROBUST_META_COMMANDS.filter((c) => !listed.includes(c));
        assert.deepEqual(missing, [], `palette lists ${JSON.stringify(listed)}`);
      });
    });
  },
);

/** The command titles the scenario tests rely on. */
const ROBUST_META_COMMANDS = [
  'Robust Meta: Start Training',
  'Robust Meta: Stop Training',
  'Robust Meta: Resume Training',
  'Robust Meta: Evaluate Few-Shot on Folder',
  'Robust Meta: Open Dashboard',
  'Robust Meta: Compare Runs',
  'Robust Meta: Show Backend',
  'Robust Meta: New Experiment Config',
];

async function waitForLabels(get: () => Promise<string[]>, n: number): Promise<string[]> {
  for (let i = 0; i < 50; i++) {
    const labels = await get();
    if (labels.length >= n) return labels;
    await new Promise((r) => setTimeout(r, 100));
  }
  return get();
}
